"""IAM SSH public key operations: upload, get, list, update, delete."""

from __future__ import annotations

from typing import Any

from iamd.model import SSHPublicKey, SSHPublicKeyStatus
from iamd.operations.iam.shapes import max_items, paged, settable_status
from iamd.operations.registry import CallContext, Operation, Params, Result, user_resource
from iamd.services.users import target_user_name


def _key_shape(key: SSHPublicKey) -> dict[str, Any]:
    return {
        "UserName": key.user_name,
        "SSHPublicKeyId": key.ssh_public_key_id,
        "Fingerprint": key.fingerprint,
        "SSHPublicKeyBody": key.body,
        "Status": key.status.value,
        "UploadDate": key.upload_date,
    }


def _metadata_shape(key: SSHPublicKey) -> dict[str, Any]:
    # ListSSHPublicKeys leaves out the body and the fingerprint, as AWS's does.
    return {
        "UserName": key.user_name,
        "SSHPublicKeyId": key.ssh_public_key_id,
        "Status": key.status.value,
        "UploadDate": key.upload_date,
    }


def upload_ssh_public_key(ctx: CallContext, p: Params) -> Result:
    key = ctx.services.ssh_public_keys.upload(p["UserName"], p["SSHPublicKeyBody"])
    return {"SSHPublicKey": _key_shape(key)}


def get_ssh_public_key(ctx: CallContext, p: Params) -> Result:
    pem = p["Encoding"] == "PEM"
    key = ctx.services.ssh_public_keys.get(p["UserName"], p["SSHPublicKeyId"], pem=pem)
    return {"SSHPublicKey": _key_shape(key)}


def list_ssh_public_keys(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    page = ctx.services.ssh_public_keys.listing(user_name, p.get("Marker"), max_items(p))
    return paged(page, "SSHPublicKeys", _metadata_shape)


def update_ssh_public_key(ctx: CallContext, p: Params) -> Result:
    status = settable_status(SSHPublicKeyStatus, p["Status"])
    ctx.services.ssh_public_keys.update(p["UserName"], p["SSHPublicKeyId"], status)
    return None


def delete_ssh_public_key(ctx: CallContext, p: Params) -> Result:
    ctx.services.ssh_public_keys.delete(p["UserName"], p["SSHPublicKeyId"])
    return None


OPERATIONS = (
    Operation("iam", "UploadSSHPublicKey", upload_ssh_public_key, user_resource),
    Operation("iam", "GetSSHPublicKey", get_ssh_public_key, user_resource),
    Operation("iam", "ListSSHPublicKeys", list_ssh_public_keys, user_resource),
    Operation("iam", "UpdateSSHPublicKey", update_ssh_public_key, user_resource),
    Operation("iam", "DeleteSSHPublicKey", delete_ssh_public_key, user_resource),
)

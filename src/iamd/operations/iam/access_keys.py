"""IAM access key operations."""

from __future__ import annotations

from typing import Any

from iamd.errors import NoSuchEntity
from iamd.model import AccessKeyStatus
from iamd.operations.iam.shapes import (
    EMPTY_PAGE,
    about_root_user,
    access_key_metadata_shape,
    max_items,
    paged,
    settable_status,
)
from iamd.operations.registry import CallContext, Operation, Params, Result, user_resource
from iamd.services.users import target_user_name


def create_access_key(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    created = ctx.services.access_keys.create(user_name)
    key = created.key
    return {
        "AccessKey": {
            "UserName": key.user_name,
            "AccessKeyId": key.access_key_id,
            "Status": key.status.value,
            "SecretAccessKey": created.secret_access_key,
            "CreateDate": key.create_date,
        }
    }


def list_access_keys(ctx: CallContext, p: Params) -> Result:
    if about_root_user(ctx.caller, p):
        return paged(EMPTY_PAGE, "AccessKeyMetadata", access_key_metadata_shape)
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    page = ctx.services.access_keys.listing(user_name, p.get("Marker"), max_items(p))
    return paged(page, "AccessKeyMetadata", access_key_metadata_shape)


def update_access_key(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    ctx.services.access_keys.update(
        user_name, p["AccessKeyId"], settable_status(AccessKeyStatus, p["Status"])
    )
    return None


def delete_access_key(ctx: CallContext, p: Params) -> Result:
    if about_root_user(ctx.caller, p):
        # The root user holds none in iamd: what it names cannot be found.
        raise NoSuchEntity.access_key(p["AccessKeyId"])
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    ctx.services.access_keys.delete(user_name, p["AccessKeyId"])
    return None


def get_access_key_last_used(ctx: CallContext, p: Params) -> Result:
    # Pending first, stored second: a batch committing in between is seen in one.
    pending = ctx.services.last_used.pending(p["AccessKeyId"])
    key = ctx.services.access_keys.last_used(p["AccessKeyId"])
    last_used: dict[str, Any]
    if pending is not None and (key.last_used_date is None or pending.when >= key.last_used_date):
        last_used = {
            "LastUsedDate": pending.when,
            "ServiceName": pending.service,
            "Region": pending.region,
        }
    elif key.last_used_date is not None:
        last_used = {
            "LastUsedDate": key.last_used_date,
            "ServiceName": key.last_used_service or "N/A",
            "Region": key.last_used_region or "N/A",
        }
    else:
        # AWS's answer for a key never used: no date, and N/A for service and region.
        last_used = {"ServiceName": "N/A", "Region": "N/A"}
    return {"UserName": key.user_name, "AccessKeyLastUsed": last_used}


def access_key_owner_resource(ctx: CallContext, p: Params) -> str:
    """GetAccessKeyLastUsed is authorized against the key owner's user ARN."""
    owner = ctx.services.access_keys.owner_name(p["AccessKeyId"])
    if owner is None:
        # An unknown key has no owner to authorize against; '*' is matched only by
        # policies granting the action on every resource, so others learn nothing.
        return "*"
    return user_resource(ctx, {"UserName": owner})


OPERATIONS = (
    Operation("iam", "CreateAccessKey", create_access_key, user_resource),
    Operation("iam", "ListAccessKeys", list_access_keys, user_resource),
    Operation("iam", "UpdateAccessKey", update_access_key, user_resource),
    Operation("iam", "DeleteAccessKey", delete_access_key, user_resource),
    Operation("iam", "GetAccessKeyLastUsed", get_access_key_last_used, access_key_owner_resource),
)

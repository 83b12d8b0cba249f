"""IAM signing certificate operations: upload, list, update, delete.

UserName defaults to the caller, as for access keys.
"""

from __future__ import annotations

from typing import Any

from iamd.errors import NoSuchEntity
from iamd.model.certificates import SigningCertificate, SigningCertificateStatus
from iamd.operations.iam.shapes import (
    EMPTY_PAGE,
    about_root_user,
    max_items,
    paged,
    settable_status,
)
from iamd.operations.registry import CallContext, Operation, Params, Result, user_resource
from iamd.services.users import target_user_name


def _certificate_shape(certificate: SigningCertificate) -> dict[str, Any]:
    return {
        "UserName": certificate.user_name,
        "CertificateId": certificate.certificate_id,
        "CertificateBody": certificate.body,
        "Status": certificate.status.value,
        "UploadDate": certificate.upload_date,
    }


def upload_signing_certificate(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    certificate = ctx.services.signing_certificates.upload(user_name, p["CertificateBody"])
    return {"Certificate": _certificate_shape(certificate)}


def list_signing_certificates(ctx: CallContext, p: Params) -> Result:
    if about_root_user(ctx.caller, p):
        return paged(EMPTY_PAGE, "Certificates", _certificate_shape)
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    page = ctx.services.signing_certificates.listing(user_name, p.get("Marker"), max_items(p))
    return paged(page, "Certificates", _certificate_shape)


def update_signing_certificate(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    status = settable_status(SigningCertificateStatus, p["Status"])
    ctx.services.signing_certificates.update(user_name, p["CertificateId"], status)
    return None


def delete_signing_certificate(ctx: CallContext, p: Params) -> Result:
    if about_root_user(ctx.caller, p):
        # The root user holds none in iamd: what it names cannot be found.
        raise NoSuchEntity.signing_certificate(p["CertificateId"])
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    ctx.services.signing_certificates.delete(user_name, p["CertificateId"])
    return None


OPERATIONS = (
    Operation("iam", "UploadSigningCertificate", upload_signing_certificate, user_resource),
    Operation("iam", "ListSigningCertificates", list_signing_certificates, user_resource),
    Operation("iam", "UpdateSigningCertificate", update_signing_certificate, user_resource),
    Operation("iam", "DeleteSigningCertificate", delete_signing_certificate, user_resource),
)

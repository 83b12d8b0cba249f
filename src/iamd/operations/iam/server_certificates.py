"""IAM server certificate operations: upload, get, list, update, delete, and tags.

No shape here has a member for the private key: it cannot be returned by mistake.
"""

from __future__ import annotations

from typing import Any

from iamd.model.certificates import ServerCertificate
from iamd.operations.iam.shapes import max_items, paged, tags_from_params, tags_shape
from iamd.operations.iam.tag_operations import tag_operations
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    Result,
    any_resource,
    new_entity_resource,
)


def server_certificate_resource(ctx: CallContext, params: Params) -> str:
    """The named certificate's ARN, with its stored path (`/` when it does not exist)."""
    return ctx.services.server_certificates.arn_of(params["ServerCertificateName"])


def _metadata_shape(certificate: ServerCertificate) -> dict[str, Any]:
    return {
        "Path": certificate.path,
        "ServerCertificateName": certificate.name,
        "ServerCertificateId": certificate.server_certificate_id,
        "Arn": certificate.arn,
        "UploadDate": certificate.upload_date,
        "Expiration": certificate.expiration,
    }


def upload_server_certificate(ctx: CallContext, p: Params) -> Result:
    tags = tags_from_params(p.get("Tags"))
    certificate = ctx.services.server_certificates.upload(
        p["ServerCertificateName"],
        p.get("Path", "/"),
        p["CertificateBody"],
        p["PrivateKey"],
        p.get("CertificateChain"),
        tags,
    )
    result: dict[str, Any] = {"ServerCertificateMetadata": _metadata_shape(certificate)}
    if certificate.tags:
        result["Tags"] = tags_shape(certificate.tags)
    return result


def get_server_certificate(ctx: CallContext, p: Params) -> Result:
    certificate = ctx.services.server_certificates.get(p["ServerCertificateName"])
    shape: dict[str, Any] = {
        "ServerCertificateMetadata": _metadata_shape(certificate),
        "CertificateBody": certificate.body,
    }
    if certificate.chain is not None:
        shape["CertificateChain"] = certificate.chain
    if certificate.tags:
        shape["Tags"] = tags_shape(certificate.tags)
    return {"ServerCertificate": shape}


def list_server_certificates(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.server_certificates.listing(
        p.get("PathPrefix", "/"), p.get("Marker"), max_items(p)
    )
    return paged(page, "ServerCertificateMetadataList", _metadata_shape)


def update_server_certificate(ctx: CallContext, p: Params) -> Result:
    ctx.services.server_certificates.update(
        p["ServerCertificateName"], p.get("NewServerCertificateName"), p.get("NewPath")
    )
    return None


def delete_server_certificate(ctx: CallContext, p: Params) -> Result:
    ctx.services.server_certificates.delete(p["ServerCertificateName"])
    return None


OPERATIONS = (
    Operation(
        "iam",
        "UploadServerCertificate",
        upload_server_certificate,
        new_entity_resource("server-certificate", "ServerCertificateName"),
    ),
    Operation("iam", "GetServerCertificate", get_server_certificate, server_certificate_resource),
    Operation("iam", "ListServerCertificates", list_server_certificates, any_resource),
    Operation(
        "iam", "UpdateServerCertificate", update_server_certificate, server_certificate_resource
    ),
    Operation(
        "iam", "DeleteServerCertificate", delete_server_certificate, server_certificate_resource
    ),
    *tag_operations(
        "ServerCertificate",
        "ServerCertificateName",
        lambda services: services.server_certificates.tags,
        server_certificate_resource,
    ),
)

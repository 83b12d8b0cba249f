"""IAM service-specific credential operations: create, list, update, reset, delete."""

from __future__ import annotations

from typing import Any

from iamd.errors import ValidationError
from iamd.model.service_credentials import ServiceCredentialStatus, ServiceSpecificCredential
from iamd.operations.iam.shapes import max_items, paged, settable_status
from iamd.operations.registry import CallContext, Operation, Params, Result, user_resource
from iamd.services.users import target_user_name


def _metadata_shape(credential: ServiceSpecificCredential) -> dict[str, Any]:
    return {
        "UserName": credential.user_name,
        "Status": credential.status.value,
        "ServiceUserName": credential.service_user_name,
        "CreateDate": credential.create_date,
        "ServiceSpecificCredentialId": credential.credential_id,
        "ServiceName": credential.service_name,
    }


def _with_password(credential: ServiceSpecificCredential, password: str) -> Result:
    return {
        "ServiceSpecificCredential": {**_metadata_shape(credential), "ServicePassword": password}
    }


def create_service_specific_credential(ctx: CallContext, p: Params) -> Result:
    if "CredentialAgeDays" in p:
        # Only Bedrock's and CloudWatch Logs' API keys expire, and iamd issues neither.
        raise ValidationError(
            "CredentialAgeDays is only valid for Bedrock and CloudWatch Logs API keys."
        )
    service = ctx.services.service_specific_credentials
    credential, password = service.create(p["UserName"], p["ServiceName"])
    return _with_password(credential, password)


def list_service_specific_credentials(ctx: CallContext, p: Params) -> Result:
    all_users = bool(p.get("AllUsers", False))
    if all_users and p.get("UserName") is not None:
        raise ValidationError("AllUsers and UserName cannot be specified together.")
    user_name = None if all_users else target_user_name(ctx.caller, p.get("UserName"))
    page = ctx.services.service_specific_credentials.listing(
        user_name, p.get("ServiceName"), p.get("Marker"), max_items(p)
    )
    return paged(page, "ServiceSpecificCredentials", _metadata_shape)


def update_service_specific_credential(ctx: CallContext, p: Params) -> Result:
    status = settable_status(ServiceCredentialStatus, p["Status"])
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    ctx.services.service_specific_credentials.update(
        user_name, p["ServiceSpecificCredentialId"], status
    )
    return None


def reset_service_specific_credential(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    credential, password = ctx.services.service_specific_credentials.reset(
        user_name, p["ServiceSpecificCredentialId"]
    )
    return _with_password(credential, password)


def delete_service_specific_credential(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    ctx.services.service_specific_credentials.delete(user_name, p["ServiceSpecificCredentialId"])
    return None


OPERATIONS = (
    Operation(
        "iam", "CreateServiceSpecificCredential", create_service_specific_credential, user_resource
    ),
    Operation(
        "iam", "ListServiceSpecificCredentials", list_service_specific_credentials, user_resource
    ),
    Operation(
        "iam", "UpdateServiceSpecificCredential", update_service_specific_credential, user_resource
    ),
    Operation(
        "iam", "ResetServiceSpecificCredential", reset_service_specific_credential, user_resource
    ),
    Operation(
        "iam", "DeleteServiceSpecificCredential", delete_service_specific_credential, user_resource
    ),
)

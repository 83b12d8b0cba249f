"""IAM SAML provider operations: create, get, list, update, delete, and tags.

AssertionEncryptionMode, AddPrivateKey and RemovePrivateKey manage the keys encrypted
assertions are opened with (services/saml_providers.py); GetSAMLProvider tells each
key's id and upload time, never the key.
"""

from __future__ import annotations

from typing import Any

from iamd.model.saml_providers import SamlProvider
from iamd.operations.iam.shapes import tags_from_params, tags_shape
from iamd.operations.iam.tag_operations import tag_operations
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def saml_provider_resource(_ctx: CallContext, params: Params) -> str:
    return str(params["SAMLProviderArn"])


def _new_provider_resource(ctx: CallContext, params: Params) -> str:
    return f"arn:aws:iam::{ctx.caller.account_id}:saml-provider/{params['Name']}"


def create_saml_provider(ctx: CallContext, p: Params) -> Result:
    provider = ctx.services.saml_providers.create(
        p["Name"],
        p["SAMLMetadataDocument"],
        tags_from_params(p.get("Tags")),
        p.get("AssertionEncryptionMode"),
        p.get("AddPrivateKey"),
    )
    result: dict[str, Any] = {"SAMLProviderArn": provider.arn}
    if provider.tags:
        result["Tags"] = tags_shape(provider.tags)
    return result


def get_saml_provider(ctx: CallContext, p: Params) -> Result:
    provider = ctx.services.saml_providers.get(p["SAMLProviderArn"])
    result: dict[str, Any] = {
        "SAMLProviderUUID": provider.provider_id,
        "SAMLMetadataDocument": provider.metadata_document,
        "CreateDate": provider.create_date,
        "ValidUntil": provider.valid_until,
        "AssertionEncryptionMode": provider.assertion_encryption_mode,
    }
    if provider.private_keys:
        result["PrivateKeyList"] = [
            {"KeyId": key.key_id, "Timestamp": key.upload_date} for key in provider.private_keys
        ]
    if provider.tags:
        result["Tags"] = tags_shape(provider.tags)
    return result


def _list_entry(provider: SamlProvider) -> dict[str, Any]:
    return {
        "Arn": provider.arn,
        "ValidUntil": provider.valid_until,
        "CreateDate": provider.create_date,
    }


def list_saml_providers(ctx: CallContext, _p: Params) -> Result:
    return {"SAMLProviderList": [_list_entry(p) for p in ctx.services.saml_providers.listing()]}


def update_saml_provider(ctx: CallContext, p: Params) -> Result:
    provider = ctx.services.saml_providers.update(
        p["SAMLProviderArn"],
        p.get("SAMLMetadataDocument"),
        p.get("AssertionEncryptionMode"),
        p.get("AddPrivateKey"),
        p.get("RemovePrivateKey"),
    )
    return {"SAMLProviderArn": provider.arn}


def delete_saml_provider(ctx: CallContext, p: Params) -> Result:
    ctx.services.saml_providers.delete(p["SAMLProviderArn"])
    return None


OPERATIONS = (
    Operation("iam", "CreateSAMLProvider", create_saml_provider, _new_provider_resource),
    Operation("iam", "GetSAMLProvider", get_saml_provider, saml_provider_resource),
    Operation("iam", "ListSAMLProviders", list_saml_providers, any_resource),
    Operation("iam", "UpdateSAMLProvider", update_saml_provider, saml_provider_resource),
    Operation("iam", "DeleteSAMLProvider", delete_saml_provider, saml_provider_resource),
    *tag_operations(
        "SAMLProvider",
        "SAMLProviderArn",
        lambda services: services.saml_providers.tags,
        saml_provider_resource,
    ),
)

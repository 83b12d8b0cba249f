"""IAM OpenID Connect provider operations: create, get, list, delete, client ids,
thumbprints, and tags. Every one but Create names the provider by its ARN, which is
also the resource the caller's policy is checked against."""

from __future__ import annotations

from typing import Any

from iamd.operations.iam.shapes import tags_from_params, tags_shape
from iamd.operations.iam.tag_operations import tag_operations
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.oidc_providers import provider_url


def _provider_resource(_ctx: CallContext, params: Params) -> str:
    return str(params["OpenIDConnectProviderArn"])


def _new_provider_resource(ctx: CallContext, params: Params) -> str:
    # An invalid URL is refused by the handler; the ARN it would have is still a name.
    url = str(params["Url"])
    try:
        url = provider_url(url)
    except Exception:
        url = url.split("://", 1)[-1]
    return f"arn:aws:iam::{ctx.caller.account_id}:oidc-provider/{url}"


def create_oidc_provider(ctx: CallContext, p: Params) -> Result:
    provider = ctx.services.oidc_providers.create(
        p["Url"],
        p.get("ClientIDList") or [],
        p.get("ThumbprintList") or [],
        tags_from_params(p.get("Tags")),
    )
    result: dict[str, Any] = {"OpenIDConnectProviderArn": provider.arn}
    if provider.tags:
        result["Tags"] = tags_shape(provider.tags)
    return result


def get_oidc_provider(ctx: CallContext, p: Params) -> Result:
    provider = ctx.services.oidc_providers.get(p["OpenIDConnectProviderArn"])
    result: dict[str, Any] = {
        "Url": provider.url,
        "ClientIDList": list(provider.client_ids),
        "ThumbprintList": list(provider.thumbprints),
        "CreateDate": provider.create_date,
    }
    if provider.tags:
        result["Tags"] = tags_shape(provider.tags)
    return result


def list_oidc_providers(ctx: CallContext, _p: Params) -> Result:
    arns = ctx.services.oidc_providers.listing()
    return {"OpenIDConnectProviderList": [{"Arn": arn} for arn in arns]}


def delete_oidc_provider(ctx: CallContext, p: Params) -> Result:
    ctx.services.oidc_providers.delete(p["OpenIDConnectProviderArn"])
    return None


def add_client_id(ctx: CallContext, p: Params) -> Result:
    ctx.services.oidc_providers.add_client_id(p["OpenIDConnectProviderArn"], p["ClientID"])
    return None


def remove_client_id(ctx: CallContext, p: Params) -> Result:
    ctx.services.oidc_providers.remove_client_id(p["OpenIDConnectProviderArn"], p["ClientID"])
    return None


def update_thumbprint(ctx: CallContext, p: Params) -> Result:
    ctx.services.oidc_providers.update_thumbprints(
        p["OpenIDConnectProviderArn"], p["ThumbprintList"]
    )
    return None


OPERATIONS = (
    Operation("iam", "CreateOpenIDConnectProvider", create_oidc_provider, _new_provider_resource),
    Operation("iam", "GetOpenIDConnectProvider", get_oidc_provider, _provider_resource),
    Operation("iam", "ListOpenIDConnectProviders", list_oidc_providers, any_resource),
    Operation("iam", "DeleteOpenIDConnectProvider", delete_oidc_provider, _provider_resource),
    Operation("iam", "AddClientIDToOpenIDConnectProvider", add_client_id, _provider_resource),
    Operation(
        "iam", "RemoveClientIDFromOpenIDConnectProvider", remove_client_id, _provider_resource
    ),
    Operation(
        "iam", "UpdateOpenIDConnectProviderThumbprint", update_thumbprint, _provider_resource
    ),
    *tag_operations(
        "OpenIDConnectProvider",
        "OpenIDConnectProviderArn",
        lambda services: services.oidc_providers.tags,
        _provider_resource,
    ),
)

"""CloudTrail events of SCIM provisioning (`identitystore-scim.amazonaws.com`), as AWS
records them: the caller is the identity provider holding one of the instance's SCIM
tokens (`WebIdentityUser` in the instance owner's account, the token's id as its
`accessKeyId`; never the token), and the request parameters name the tenant and the
resource, not the attributes (AWS hides those values too)."""

from __future__ import annotations

from typing import Any

from iamd.model.identity_center import Instance, ScimToken
from iamd.services.identity_center_trail import RequestFacts
from iamd.services.trail import RequestEvent, is_read_only

SCIM_EVENT_SOURCE = "identitystore-scim.amazonaws.com"


def scim_event(
    instance: Instance,
    token: ScimToken,
    request: RequestFacts,
    event_name: str,
    resource_id: str | None,
    error: tuple[str, str] | None,
) -> RequestEvent:
    parameters: dict[str, Any] = {"tenantId": instance.identity_store_id}
    if resource_id is not None:
        parameters["id"] = resource_id
    return RequestEvent(
        account_id=instance.owner_account_id,
        event_time=request.when,
        event_source=SCIM_EVENT_SOURCE,
        event_name=event_name,
        region=request.region,
        source_ip=request.source_ip,
        user_agent=request.user_agent,
        request_id=request.request_id,
        identity={
            "type": "WebIdentityUser",
            "accountId": instance.owner_account_id,
            "accessKeyId": token.token_id,
        },
        username=None,
        access_key_id=None,
        read_only=is_read_only(event_name),
        error_code=error[0] if error else None,
        error_message=error[1] if error else None,
        request_parameters=lambda: parameters,
        tls_host=request.tls_host,
        tls=request.tls,
    )

"""CloudTrail events of IAM Identity Center's sign-in side, on behalf of an Identity
Center user: the OAuth service's token issue and refresh (`sso-oauth.amazonaws.com`,
CreateToken) and the portal's calls (`sso.amazonaws.com`: ListAccounts,
ListAccountRoles, GetRoleCredentials, Logout).

The user appears as CloudTrail's `IdentityCenterUser`: the account that owns the
instance, `onBehalfOf` (the user id and the identity store's ARN) and a `credentialId`
naming the sign-in the tokens belong to (the token family's id, which grants nothing:
tokens themselves never reach the trail). Neither the request's tokens, codes and
client secrets nor any response element is recorded: GetRoleCredentials' answer is a
set of credentials, CreateToken's a pair of tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iamd.services.trail import RequestEvent, is_read_only

OIDC_EVENT_SOURCE = "sso-oauth.amazonaws.com"
PORTAL_EVENT_SOURCE = "sso.amazonaws.com"


@dataclass(frozen=True, slots=True)
class PortalUser:
    """An Identity Center user as the trail names them."""

    account_id: str  # the account that owns the instance
    identity_store_id: str
    user_id: str
    user_name: str | None
    credential_id: str  # the token family (one sign-in and its refreshes)

    def identity(self) -> dict[str, Any]:
        return {
            "type": "IdentityCenterUser",
            "accountId": self.account_id,
            "onBehalfOf": {
                "userId": self.user_id,
                "identityStoreArn": (
                    f"arn:aws:identitystore::{self.account_id}:identitystore/"
                    f"{self.identity_store_id}"
                ),
            },
            "credentialId": self.credential_id,
        }


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the front knows of the HTTP request."""

    when: datetime
    source_ip: str
    user_agent: str | None
    request_id: str
    region: str
    tls_host: str | None
    tls: tuple[str, str] | None


def identity_center_event(
    user: PortalUser,
    request: RequestFacts,
    event_source: str,
    event_name: str,
    request_parameters: dict[str, Any] | None,
    error: tuple[str, str] | None = None,
) -> RequestEvent:
    """One call made by (or for) `user`; `error` is its (code, message) if it failed."""
    parameters = request_parameters
    return RequestEvent(
        account_id=user.account_id,
        event_time=request.when,
        event_source=event_source,
        event_name=event_name,
        region=request.region,
        source_ip=request.source_ip,
        user_agent=request.user_agent,
        request_id=request.request_id,
        identity=user.identity(),
        username=user.user_name,
        access_key_id=None,
        read_only=is_read_only(event_name),
        error_code=error[0] if error else None,
        error_message=error[1] if error else None,
        request_parameters=lambda: parameters,
        tls_host=request.tls_host,
        tls=request.tls,
    )

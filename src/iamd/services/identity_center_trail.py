"""CloudTrail events of IAM Identity Center's sign-in side, on behalf of an Identity
Center user: the OAuth service's token issue and refresh (`sso-oauth.amazonaws.com`,
CreateToken), the portal's calls (`sso.amazonaws.com`: ListAccounts,
ListAccountRoles, GetRoleCredentials, Logout), and the password checks of the sign-in
pages (`signin.amazonaws.com`: CredentialVerification, then UserAuthentication when the
user is signed in, as AWS logs Identity Center sign-ins).

The user appears as CloudTrail's `IdentityCenterUser`: the account that owns the
instance, `onBehalfOf` (the user id and the identity store's ARN) and a `credentialId`
naming the sign-in the tokens belong to (the token family's id, which grants nothing:
tokens themselves never reach the trail). Neither the request's tokens, codes and
client secrets nor any response element is recorded: GetRoleCredentials' answer is a
set of credentials, CreateToken's a pair of tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iamd.model.identity_center import Instance
from iamd.services.trail import EVENT_SOURCES, HIDDEN_USER_NAME, RequestEvent, is_read_only

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


def _store_user(instance: Instance, user_id: str, user_name: str | None) -> dict[str, Any]:
    """A sign-in step's userIdentity: the store user, with no credential yet (the
    sign-in is what leads to one)."""
    named = PortalUser(
        instance.owner_account_id, instance.identity_store_id, user_id, user_name, ""
    ).identity()
    del named["credentialId"]
    if user_name is not None:
        named["userName"] = user_name
    return named


def _sign_in_step(
    instance: Instance,
    request: RequestFacts,
    workflow: str,
    name: str,
    outcome: str,
    extra: dict[str, Any],
    identity: dict[str, Any] | None,
    username: str | None,
) -> RequestEvent:
    """One step of a sign-in (`signin.amazonaws.com`, an AwsServiceEvent)."""
    return RequestEvent(
        account_id=instance.owner_account_id,
        event_time=request.when,
        event_source=EVENT_SOURCES["signin"],
        event_name=name,
        region=request.region,
        source_ip=request.source_ip,
        user_agent=request.user_agent,
        request_id=request.request_id,
        identity=identity,
        username=username,
        access_key_id=None,
        read_only=False,
        event_type="AwsServiceEvent",
        additional_event_data={"AuthWorkflowID": workflow, **extra},
        service_event_details={name: outcome},
        tls_host=request.tls_host,
        tls=request.tls,
    )


def sign_in_events(
    instance: Instance,
    user_name: str,
    user_id: str | None,
    request: RequestFacts,
    login_to: str,
    find_user: Callable[[str], str | None],
    *,
    signed_in: bool,
    workflow: str | None = None,
    mfa_next: bool = False,
) -> list[RequestEvent]:
    """A password check's events: its CredentialVerification (`user_id` set: the
    password was right), and UserAuthentication when that signed the user in (not when
    a one-time password must be replaced first). A failure names the user only if the
    name exists (`find_user(name)` gives the id, on the writer thread, so the attempt's
    timing does not tell); otherwise the name is masked as for a console sign-in, so a
    password typed into the name box never reaches the trail."""
    account = instance.owner_account_id
    steps = workflow or str(uuid.uuid4())

    def event(name: str, outcome: str, extra: dict[str, Any]) -> RequestEvent:
        identity = _store_user(instance, user_id, user_name) if user_id else None
        return _sign_in_step(
            instance, request, steps, name, outcome, extra, identity, user_name if user_id else None
        )

    verification = event(
        "CredentialVerification",
        "Success" if user_id else "Failure",
        {"CredentialType": "PASSWORD"},
    )
    if user_id:
        if mfa_next:
            # The password was right; the code comes next (mfa_events).
            challenge = event("CredentialChallenge", "Success", {"CredentialType": "TOTP"})
            return [verification, challenge]
        if not signed_in:
            return [verification]
        authenticated = event("UserAuthentication", "Success", {"LoginTo": login_to})
        return [verification, authenticated]

    def resolve(failed: RequestEvent) -> None:
        try:
            found = find_user(user_name)
        except Exception:
            found = None
        if found is None:
            failed.identity = {
                "type": "Unknown",
                "accountId": account,
                "userName": HIDDEN_USER_NAME,
            }
            failed.username = HIDDEN_USER_NAME
        else:
            failed.identity = _store_user(instance, found, user_name)
            failed.username = user_name

    verification.resolve = resolve
    return [verification]


def mfa_events(
    instance: Instance,
    user_id: str,
    user_name: str | None,
    request: RequestFacts,
    login_to: str,
    workflow: str,
    *,
    success: bool,
) -> list[RequestEvent]:
    """The MFA step's events: CredentialVerification with CredentialType TOTP, and on a
    right code the UserAuthentication that signs the user in (MFAUsed "Yes", the field
    console sign-ins carry), in the password step's AuthWorkflowID."""

    def event(name: str, outcome: str, extra: dict[str, Any]) -> RequestEvent:
        identity = _store_user(instance, user_id, user_name)
        return _sign_in_step(instance, request, workflow, name, outcome, extra, identity, user_name)

    verification = event(
        "CredentialVerification", "Success" if success else "Failure", {"CredentialType": "TOTP"}
    )
    if not success:
        return [verification]
    signed_in = event("UserAuthentication", "Success", {"LoginTo": login_to, "MFAUsed": "Yes"})
    return [verification, signed_in]

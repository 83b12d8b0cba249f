"""CloudTrail events of IAM Identity Center's sign-in side, on behalf of an Identity
Center user: the OAuth service's calls (CreateToken under `sso.amazonaws.com`, the event
source AWS documents for it; RegisterClient and StartDeviceAuthorization, which AWS does
not record, under the OAuth service's own `sso-oauth.amazonaws.com`), the portal's calls
(`sso.amazonaws.com`: ListAccounts, ListAccountRoles, GetRoleCredentials, Logout), and
the password checks of the sign-in pages (`signin.amazonaws.com`: CredentialVerification,
then UserAuthentication when the user is signed in, as AWS logs Identity Center
sign-ins).

The user appears as CloudTrail's `IdentityCenterUser`: the account that owns the
instance, `onBehalfOf` (the user id and the identity store's ARN) and a `credentialId`
naming the sign-in the tokens belong to (the token family's id, which grants nothing:
tokens themselves never reach the trail). The OAuth calls' client secrets, device and
user codes, authorization codes, PKCE verifiers and tokens are
`HIDDEN_DUE_TO_SECURITY_REASONS`, as AWS shows CreateToken's; the portal's calls keep no
response element (GetRoleCredentials' answer is a set of credentials).
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
# AWS's Identity Center guide lists CreateToken under sso.amazonaws.com.
CREATE_TOKEN_EVENT_SOURCE = PORTAL_EVENT_SOURCE
HIDDEN = HIDDEN_USER_NAME  # CloudTrail's one placeholder: "HIDDEN_DUE_TO_SECURITY_REASONS"

#: The request members each OAuth call's requestParameters keeps (the model's), and
#: those of them shown only as HIDDEN.
_OAUTH_REQUEST_MEMBERS = {
    "RegisterClient": (
        "clientName",
        "clientType",
        "scopes",
        "redirectUris",
        "grantTypes",
        "issuerUrl",
    ),
    "StartDeviceAuthorization": ("clientId", "clientSecret", "startUrl"),
    "CreateToken": (
        "clientId",
        "clientSecret",
        "grantType",
        "deviceCode",
        "code",
        "refreshToken",
        "scope",
        "redirectUri",
        "codeVerifier",
    ),
}
_OAUTH_SECRETS = frozenset(
    {"clientSecret", "deviceCode", "code", "refreshToken", "codeVerifier", "accessToken"}
)
_MAX_VALUE = 4096


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


def oauth_request_parameters(event_name: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """An OAuth call's requestParameters from its JSON body: the model's members, each
    secret one as HIDDEN, any other value only if it is a string or a list of strings
    (the body may be anything a client sent)."""
    kept: dict[str, Any] = {}
    for member in _OAUTH_REQUEST_MEMBERS[event_name]:
        if member not in body or body[member] is None:
            continue
        value = body[member]
        if member in _OAUTH_SECRETS:
            kept[member] = HIDDEN
        elif isinstance(value, str) and len(value) <= _MAX_VALUE:
            kept[member] = value
        elif (
            isinstance(value, list)
            and len(value) <= 50
            and all(isinstance(item, str) and len(item) <= _MAX_VALUE for item in value)
        ):
            kept[member] = list(value)
    return kept or None


def oauth_event(
    account_id: str,
    identity_store_id: str,
    user: PortalUser | None,
    request: RequestFacts,
    event_name: str,
    request_parameters: dict[str, Any] | None,
    response_elements: dict[str, Any] | None,
    error: tuple[str, str] | None,
) -> RequestEvent:
    """One call to the OAuth service (`sso-oidc`), in the account of the instance it
    concerns; `user` once the call names one (a token's owner, an approved device
    code's), else the caller is `Unknown` (no one has signed in yet: a device flow's
    polls before the approval, a registration)."""
    if user is not None:
        identity = user.identity()
        if not identity["credentialId"]:
            del identity["credentialId"]
    else:
        identity = {
            "type": "Unknown",
            "principalId": account_id,
            "arn": "",
            "accountId": account_id,
            "accessKeyId": "",
        }
    source = CREATE_TOKEN_EVENT_SOURCE if event_name == "CreateToken" else OIDC_EVENT_SOURCE
    parameters, elements = request_parameters, response_elements
    return RequestEvent(
        account_id=account_id,
        event_time=request.when,
        event_source=source,
        event_name=event_name,
        region=request.region,
        source_ip=request.source_ip,
        user_agent=request.user_agent,
        request_id=request.request_id,
        identity=identity,
        username=user.user_name if user is not None else None,
        access_key_id=None,
        read_only=False,
        error_code=error[0] if error else None,
        error_message=error[1] if error else None,
        request_parameters=lambda: parameters,
        response_elements=lambda: elements,
        resources=({"accountId": account_id, "type": "IdentityStoreId", "ARN": identity_store_id},),
        lookup_resources=(("IdentityStoreId", identity_store_id),),
        tls_host=request.tls_host,
        tls=request.tls,
    )


def external_sign_in_event(
    instance: Instance,
    request: RequestFacts,
    login_to: str,
    user_id: str | None,
    user_name: str | None,
    error: tuple[str, str] | None,
) -> RequestEvent:
    """A sign-in through the instance's external SAML identity provider. Accepted: the
    `UserAuthentication` AWS records for every identity source (an external one has no
    CredentialChallenge or CredentialVerification at AWS: the provider checked the
    credentials). Refused (iamd goes beyond AWS, which records nothing then): a
    `CredentialVerification` Failure of `CredentialType` SAML, with the refusal's code
    and message, which never quote the answer. The user is named when the answer's
    signature verified and named a user of the directory (else `user_name` is the
    verified answer's subject, with no id, or nothing)."""
    workflow = str(uuid.uuid4())
    if user_id is not None:
        identity = _store_user(instance, user_id, user_name)
    else:
        account = instance.owner_account_id
        identity = {
            "type": "Unknown",
            "principalId": account,
            "arn": "",
            "accountId": account,
            "accessKeyId": "",
        }
        if user_name is not None:
            identity["userName"] = user_name
    if error is None:
        name, extra = "UserAuthentication", {"LoginTo": login_to}
    else:
        name, extra = "CredentialVerification", {"CredentialType": "SAML"}
    event = _sign_in_step(
        instance,
        request,
        workflow,
        name,
        "Success" if error is None else "Failure",
        extra,
        identity,
        user_name,
    )
    if error is not None:
        event.error_code, event.error_message = error
    return event

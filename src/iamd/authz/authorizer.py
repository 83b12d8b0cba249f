"""Authorizers: the interface, and the interim one used until the policy engine is wired.

`AdministratorOnlyAuthorizer` is deliberately narrow and fails closed: it allows a
request only when AWS's own managed policies attached to the caller (directly or
through a group) grant it in full (AdministratorAccess: everything; IAMFullAccess:
every `iam:` action; IAMReadOnlyAccess: `iam:Get*` and `iam:List*`). Every other
request is denied, with AWS's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from iamd.errors import AccessDenied
from iamd.services.credentials import ResolvedCredential

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
IAM_FULL_ACCESS = "arn:aws:iam::aws:policy/IAMFullAccess"
IAM_READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    credential: ResolvedCredential
    action: str
    resource: str
    source_ip: str
    user_agent: str
    secure_transport: bool
    region: str
    now: datetime


class Authorizer(Protocol):
    def authorize(self, request: AuthorizationRequest) -> None:
        """Return when allowed; raise AccessDenied otherwise."""
        ...


def access_denied(principal_arn: str, action: str, resource: str) -> AccessDenied:
    return AccessDenied(
        f"User: {principal_arn} is not authorized to perform: {action} on resource: "
        f"{resource} because no identity-based policy allows the {action} action"
    )


class AdministratorOnlyAuthorizer:
    def authorize(self, request: AuthorizationRequest) -> None:
        attached = request.credential.attached_policy_arns
        service, _, name = request.action.partition(":")
        if ADMINISTRATOR_ACCESS in attached:
            return
        if service == "iam" and IAM_FULL_ACCESS in attached:
            return
        if (
            service == "iam"
            and IAM_READ_ONLY_ACCESS in attached
            and (name.startswith("Get") or name.startswith("List"))
        ):
            return
        raise access_denied(request.credential.caller.arn, request.action, request.resource)

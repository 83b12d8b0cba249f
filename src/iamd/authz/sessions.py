"""What STS session credentials may call at all, before any policy is consulted.

AWS limits credentials from GetSessionToken (iam-facts §4.2, §9 item 9): without MFA
they cannot call IAM (AWS answers InvalidClientTokenId, as for an unknown key), and of
STS they may call only AssumeRole and GetCallerIdentity. Credentials from
GetFederationToken cannot call IAM at all and of STS only GetCallerIdentity (the
GetFederationToken API reference). No session credentials may call GetSessionToken or
GetFederationToken.
"""

from __future__ import annotations

from iamd.auth.session_tokens import SessionKind
from iamd.errors import AccessDenied, InvalidClientTokenId
from iamd.principals.caller import Caller

_USER_SESSION_STS = frozenset({"AssumeRole", "GetCallerIdentity"})
_FEDERATED_SESSION_STS = frozenset({"GetCallerIdentity"})


def check_service(caller: Caller, service: str) -> None:
    """Refuse IAM to GetSessionToken credentials issued without MFA and to federated
    users."""
    session = caller.session
    if session is None or service != "iam":
        return
    if session.kind is SessionKind.USER and session.mfa_authenticated is None:
        raise InvalidClientTokenId()
    if session.kind is SessionKind.FEDERATED and session.delegation_request is None:
        # A delegation request's session of its approving user may (docs/delegation.md).
        # AWS documents the rule, not its answer; this one names the rule.
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to call IAM "
            "with credentials from GetFederationToken"
        )


def check_operation(caller: Caller, service: str, operation: str) -> None:
    """Refuse the STS operations session credentials cannot call."""
    session = caller.session
    if session is None or service != "sts":
        return
    if operation == "GetSessionToken":
        raise AccessDenied.session_cannot_nest()
    if operation == "GetFederationToken":
        raise AccessDenied.federation_cannot_nest()
    if session.kind is SessionKind.USER and operation not in _USER_SESSION_STS:
        # AWS documents the rule but not its message; this one names the rule.
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to perform: sts:{operation} "
            "with credentials from GetSessionToken"
        )
    if session.kind is SessionKind.FEDERATED and operation not in _FEDERATED_SESSION_STS:
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to perform: sts:{operation} "
            "with credentials from GetFederationToken"
        )

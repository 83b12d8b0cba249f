"""The authorization step: the policy engine decides, AWS's message explains a denial.

Every request's context carries the principal's keys (`aws:username`, `aws:userid`,
`aws:PrincipalArn`, `aws:PrincipalTag/*`...), the request's own (`aws:SourceIp`,
`aws:UserAgent`, `aws:CurrentTime`, `aws:EpochTime`, `aws:SecureTransport`,
`aws:RequestedRegion`) and those its parameters imply (tags, policy ARN...). Requests
signed with long-term access keys carry no `aws:MultiFactorAuthPresent` or
`aws:MultiFactorAuthAge`, exactly as in AWS, so an Allow conditioned on MFA does not
apply to them; STS sessions carry `aws:MultiFactorAuthPresent` ("true" only when issued
against an MFA code), `aws:MultiFactorAuthAge` (MFA sessions), `aws:TokenIssueTime`.
A role session is allowed only by its role's policies, its boundary, and its session
policies when it has some (their intersection).

A principal of an account that service control policies restrict carries them, compiled
(`PrincipalPolicies.scps`): each level must allow and no SCP may deny, and AccessDenied
names the service control policy as AWS does. The account keys are in every context:
`aws:PrincipalAccount` (the principal's), `aws:ResourceAccount` (the account in the
resource ARN, when it names one), `aws:PrincipalIsAWSService` ("false": iamd has no
service principals), and with an organization `aws:PrincipalOrgID` and
`aws:PrincipalOrgPaths` (from the credential's principal keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from iamd.errors import AccessDenied
from iamd.model.arn import arn_account
from iamd.policy import Decision, Effect, RequestContext, evaluate
from iamd.principals.caller import Caller
from iamd.principals.principal_policies import PrincipalPolicies

# AWS evaluates IAM, a global service, as if requested in us-east-1.
_GLOBAL_SERVICE_REGION = "us-east-1"


class AuthenticatedPrincipal(Protocol):
    """Whoever authenticated: an access key (`ResolvedCredential`) or an SSH key
    (`SSHLogin`); both carry the principal, its compiled policies and its condition keys."""

    @property
    def caller(self) -> Caller: ...

    @property
    def policies(self) -> PrincipalPolicies: ...

    @property
    def principal_keys(self) -> Mapping[str, str | Sequence[str]]: ...


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    credential: AuthenticatedPrincipal
    action: str
    resource: str
    source_ip: str
    user_agent: str
    secure_transport: bool
    region: str
    now: datetime
    request_keys: Mapping[str, str | Sequence[str]]


class Authorizer(Protocol):
    def authorize(self, request: AuthorizationRequest) -> Decision:
        """Return the allowing decision; raise AccessDenied otherwise."""
        ...


def request_context(request: AuthorizationRequest) -> RequestContext:
    return RequestContext(request.action, request.resource, _context_keys(request))


def _context_keys(request: AuthorizationRequest) -> dict[str, str | Sequence[str]]:
    service = request.action.partition(":")[0]
    keys: dict[str, str | Sequence[str]] = dict(request.credential.principal_keys)
    keys.update(
        {
            "aws:SourceIp": request.source_ip,
            "aws:UserAgent": request.user_agent,
            **_time_keys(int(request.now.timestamp())),
            "aws:SecureTransport": "true" if request.secure_transport else "false",
            "aws:RequestedRegion": _GLOBAL_SERVICE_REGION if service == "iam" else request.region,
            "aws:ViaAWSService": "false",
            "aws:PrincipalIsAWSService": "false",
        }
    )
    account = arn_account(request.resource)
    if account is not None:
        keys["aws:ResourceAccount"] = account
    session = request.credential.caller.session
    if session is not None and session.mfa_authenticated is not None:
        # Seconds since the session's MFA authentication (iam-facts §7.7).
        age = max(0, int(request.now.timestamp()) - session.mfa_authenticated)
        keys["aws:MultiFactorAuthAge"] = str(age)
    keys.update(request.request_keys)
    return keys


@lru_cache(maxsize=4)
def _time_keys(epoch_seconds: int) -> dict[str, str]:
    # Formatting the time is a measurable part of a request; requests in the same second
    # share it.
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return {
        "aws:CurrentTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(epoch_seconds),
    }


def access_denied(
    principal_arn: str,
    action: str,
    resource: str,
    decision: Decision,
    *,
    denied_by_session: bool = False,
) -> AccessDenied:
    prefix = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
    # AWS evaluates SCPs first, so they are named first (the 'Access denied error
    # messages' forms of the IAM User Guide).
    if decision.denied_by_organizations:
        return AccessDenied(f"{prefix} with an explicit deny in a service control policy")
    if decision.allowed_by_organizations is False and decision.effect is Effect.IMPLICIT_DENY:
        return AccessDenied(
            f"{prefix} because no service control policy allows the {action} action"
        )
    if decision.effect is Effect.EXPLICIT_DENY:
        where = "a session policy" if denied_by_session else "an identity-based policy"
        return AccessDenied(f"{prefix} with an explicit deny in {where}")
    if decision.allowed_by_boundary is False:
        return AccessDenied(f"{prefix} because no permissions boundary allows the {action} action")
    if denied_by_session:
        return AccessDenied(f"{prefix} because no session policy allows the {action} action")
    return AccessDenied(f"{prefix} because no identity-based policy allows the {action} action")


#: A permission the account grants outside any policy (AllowUsersToChangePassword).
AccountGrant = Callable[[AuthorizationRequest], bool]


class PolicyAuthorizer:
    def __init__(self, account_grant: AccountGrant | None = None) -> None:
        self._account_grant = account_grant

    def authorize(self, request: AuthorizationRequest) -> Decision:
        policies = request.credential.policies
        context = request_context(request)
        decision = evaluate(
            context,
            policies.identity,
            boundary=policies.boundary,
            session=policies.session,
            scps=policies.scps,
        )
        # AWS evaluates SCPs first: a denial by them is the answer even for a resource of
        # another account.
        if not (decision.denied_by_organizations or decision.allowed_by_organizations is False):
            _refuse_other_account(request, context)
        if (
            decision.effect is Effect.IMPLICIT_DENY
            and decision.allowed_by_organizations is not False
            and self._account_grant is not None
            and self._account_grant(request)
        ):
            # Granted by the account itself; an explicit deny would still have won, and so
            # does a service control policy that does not allow the request.
            return decision
        if decision.effect is not Effect.ALLOW:
            error = access_denied(
                request.credential.caller.arn,
                request.action,
                request.resource,
                decision,
                denied_by_session=_session_refused(context, decision, policies),
            )
            error.explain = lambda: explanation(request, decision, _context_keys(request))
            raise error
        return decision


def explanation(
    request: AuthorizationRequest,
    decision: Decision,
    keys: Mapping[str, str | Sequence[str]],
) -> dict[str, Any]:
    """A refusal as DecodeAuthorizationMessage's DecodedMessage describes it."""
    caller = request.credential.caller
    explicit = decision.effect is Effect.EXPLICIT_DENY
    principal: dict[str, str] = {"id": caller.user_id, "arn": caller.arn}
    if caller.user_name is not None:
        principal["name"] = caller.user_name
    conditions = [
        {
            "key": key,
            "values": {
                "items": [{"value": v} for v in ((value,) if isinstance(value, str) else value)]
            },
        }
        for key, value in sorted(keys.items(), key=lambda item: item[0].lower())
    ]
    return {
        "allowed": False,
        "explicitDeny": explicit,
        # Only a denial's own statements: with an implicit deny nothing matched.
        "matchedStatements": {
            "items": [
                {
                    "statementId": ref.sid or "",
                    "effect": "DENY",
                    "sourcePolicyId": ref.source_id,
                    "statementIndex": ref.index,
                }
                for ref in (decision.matched if explicit else ())
            ]
        },
        "failures": {"items": []},
        "context": {
            "principal": principal,
            "action": request.action,
            "resource": request.resource,
            "conditions": {"items": conditions},
        },
    }


def _session_refused(
    context: RequestContext, decision: Decision, policies: PrincipalPolicies
) -> bool:
    """Whether the session policies, not the role's own, refused the request: worked
    out only on the way to an AccessDenied, to word it as AWS does."""
    if policies.session is None:
        return False
    own = evaluate(context, policies.identity, boundary=policies.boundary, scps=policies.scps)
    if decision.effect is Effect.EXPLICIT_DENY:
        return own.effect is not Effect.EXPLICIT_DENY
    return own.effect is Effect.ALLOW


# The services whose resources live in one account and have no resource-based policy.
# Organizations' resources name the management account in every member's requests; the
# organization itself decides who may see them.
_ACCOUNT_SCOPED_SERVICES = frozenset({"iam", "sts", "codecommit"})
# Actions on another account's resource whose consent is the organization's: AssumeRoot
# names a member account's root user, and the member's side is the organization's
# RootSessions feature, which the operation itself checks (operations/sts/root_sessions.py).
_ORGANIZATION_GRANTED_ACTIONS = frozenset({"sts:AssumeRoot"})


def _refuse_other_account(request: AuthorizationRequest, context: RequestContext) -> None:
    """AccessDenied for a resource of another account.

    The entities iamd serves have no resource-based policies, so, as in AWS, a caller's
    own policies never reach another account's users, roles, policies or repositories:
    only a role assumed there does (its session acts in that account).
    """
    resource_account = context.variable("aws:resourceaccount")
    caller = request.credential.caller
    if resource_account is None or resource_account == caller.account_id:
        return
    if request.action in _ORGANIZATION_GRANTED_ACTIONS:
        return
    if request.action.partition(":")[0] in _ACCOUNT_SCOPED_SERVICES:
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to perform: {request.action} on resource: "
            f"{request.resource} because no resource-based policy allows the "
            f"{request.action} action"
        )

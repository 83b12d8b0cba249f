"""Authorizing sts:AssumeRole (and sts:TagSession, sts:SetSourceIdentity with it).

Two policies must agree (iam-facts §4.2, §4.3; AWS's AssumeRole reference):

- the role's trust policy must allow the caller, explicitly, with its conditions
  (`sts:ExternalId`, `aws:MultiFactorAuthPresent`...) holding; and
- the caller's own policies must allow the action on the role's ARN, unless the trust
  policy names the caller itself (its user ARN, or for a role session its role or
  session ARN): then, as AWS documents for the same account, no identity policy is
  needed. A permissions boundary of the caller, and the session policies of a caller
  that is a role session, must still allow it, and an explicit Deny anywhere wins.

Across accounts (the role's account is not the caller's) both sides must agree, as AWS
documents for cross-account access: the trust policy must allow the caller AND the
caller's identity policies (with its boundary and session policies) must allow the action
on the role's ARN, even when the trust policy names the caller's ARN.

Service control policies restricting the caller's account apply to the call like any
other (each level must allow sts:AssumeRole, none may deny it); a refusal they decide
names the service control policy, as AWS's messages do.

A role that does not exist is refused with the same AccessDenied as one the caller may
not assume, so the answer does not reveal which roles exist.
"""

from __future__ import annotations

from functools import lru_cache

from iamd.authz.authorizer import AuthorizationRequest, request_context
from iamd.authz.trust import trust_allows
from iamd.errors import AccessDenied
from iamd.model import Role
from iamd.policy import (
    CompiledPolicy,
    Effect,
    PolicyKind,
    PrincipalInfo,
    RequestContext,
    compile_policy,
    evaluate,
)


def refused(caller_arn: str, action: str, role_arn: str, reason: str = "") -> AccessDenied:
    return AccessDenied(
        f"User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}"
        + reason
    )


_NOT_PERMITTED = ""


def authorize_assume_role(request: AuthorizationRequest, role: Role | None) -> None:
    """Raise AccessDenied unless the caller may perform `request.action` on the role."""
    caller = request.credential.caller
    reason = _refusal(request, role)
    if reason is not None:
        raise refused(caller.arn, request.action, request.resource, reason)


def _refusal(request: AuthorizationRequest, role: Role | None) -> str | None:
    """None when permitted; else what AccessDenied adds after the resource. SCPs are
    decided before the role is looked at, so their answer does not depend on whether
    the role exists."""
    context = request_context(request)
    policies = request.credential.policies
    decision = evaluate(
        context,
        policies.identity,
        boundary=policies.boundary,
        session=policies.session,
        scps=policies.scps,
    )
    if decision.denied_by_organizations:
        return " with an explicit deny in a service control policy"
    if decision.allowed_by_organizations is False:
        return f" because no service control policy allows the {request.action} action"
    if role is None or not trust_allows(role, context, request.action):
        return _NOT_PERMITTED
    if decision.effect is Effect.ALLOW:
        return None
    if decision.effect is Effect.EXPLICIT_DENY or decision.allowed_by_boundary is False:
        return _NOT_PERMITTED
    if _role_account(role) != request.credential.caller.account_id:
        # Across accounts the caller's own policies must allow it, whatever the trust
        # policy names.
        return _NOT_PERMITTED
    if not _trust_names_caller(_trust(role.assume_role_policy), context, request):
        return _NOT_PERMITTED
    if policies.session is None or evaluate(context, policies.session).effect is Effect.ALLOW:
        return None
    return _NOT_PERMITTED


def _role_account(role: Role) -> str:
    parts = role.arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


@lru_cache(maxsize=1024)
def _trust(document: str) -> CompiledPolicy:
    # A stored trust policy that no longer validates compiles to one that allows nothing.
    return compile_policy(document, PolicyKind.TRUST, "trust")


def _trust_names_caller(
    trust: CompiledPolicy, context: RequestContext, request: AuthorizationRequest
) -> bool:
    """Whether an applicable Allow statement of the trust policy lists the caller itself,
    not just its account (or everyone)."""
    caller = request.credential.caller
    unique_id = caller.user_id.partition(":")[0]
    principals = [PrincipalInfo(caller.arn, caller.account_id, unique_id)]
    if caller.role_arn is not None:
        principals.append(PrincipalInfo(caller.role_arn, caller.account_id, unique_id))
    for stmt in trust.statements:
        if stmt.deny or stmt.not_principal or stmt.principals is None:
            continue
        if not any(stmt.principals.names_directly(p) for p in principals):
            continue
        if stmt.actions.matches(context.action_lower) == stmt.not_action:
            continue
        if all(condition.test(context) for condition in stmt.conditions):
            return True
    return False

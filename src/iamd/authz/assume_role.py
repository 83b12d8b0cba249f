"""Authorizing sts:AssumeRole (and sts:TagSession, sts:SetSourceIdentity with it).

Two policies must agree (iam-facts §4.2, §4.3; AWS's AssumeRole reference):

- the role's trust policy must allow the caller, explicitly, with its conditions
  (`sts:ExternalId`, `aws:MultiFactorAuthPresent`...) holding; and
- the caller's own policies must allow the action on the role's ARN, unless the trust
  policy names the caller itself (its user ARN, or for a role session its role or
  session ARN): then, as AWS documents for the same account, no identity policy is
  needed. A permissions boundary of the caller, and the session policies of a caller
  that is a role session, must still allow it, and an explicit Deny anywhere wins.

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


def refused(caller_arn: str, action: str, role_arn: str) -> AccessDenied:
    return AccessDenied(
        f"User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}"
    )


def authorize_assume_role(request: AuthorizationRequest, role: Role | None) -> None:
    """Raise AccessDenied unless the caller may perform `request.action` on the role."""
    caller = request.credential.caller
    if role is None or not _permitted(request, role):
        raise refused(caller.arn, request.action, request.resource)


def _permitted(request: AuthorizationRequest, role: Role) -> bool:
    context = request_context(request)
    if not trust_allows(role, context, request.action):
        return False
    policies = request.credential.policies
    decision = evaluate(
        context, policies.identity, boundary=policies.boundary, session=policies.session
    )
    if decision.effect is Effect.ALLOW:
        return True
    if decision.effect is Effect.EXPLICIT_DENY or decision.allowed_by_boundary is False:
        return False
    if not _trust_names_caller(_trust(role.assume_role_policy), context, request):
        return False
    return policies.session is None or evaluate(context, policies.session).effect is Effect.ALLOW


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

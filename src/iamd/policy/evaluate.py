"""Policy evaluation: a pure function of compiled policies and a request context.

Order (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
iam-facts §7.8):

1. An applicable explicit Deny in any policy given (service control policies, identity,
   boundary, session, resource) decides EXPLICIT_DENY.
1b. When service control policies are given (`scps`: one sequence of SCPs per level of the
   organization, root first, then each OU, then the account), every level needs an
   applicable Allow, else IMPLICIT_DENY: SCPs never grant, they bound everything below,
   a resource policy's Allow included. `scps=None` means the principal is not restricted
   by SCPs (no organization, or the management account): no work at all is done then.
2. A resource-policy Allow that names the caller's exact ARN (user, or role session)
   decides ALLOW, whatever the boundary and session policies say.
3. Otherwise an Allow is needed from the identity policies or from a resource policy (one
   naming the caller's account or role counts here), AND from the boundary when a boundary
   is given (`boundary=None` means none is set; an empty sequence means one is set that
   allows nothing), AND from the session policies when they are given.
4. Otherwise IMPLICIT_DENY.

Cross-account requests (`cross_account=True`: the resource belongs to another account
than the principal) are decided by both sides: the identity policies (with boundary and
session policies) AND a resource policy must allow; step 2 does not apply, and without
a resource policy nothing is allowed.

A statement applies when its Action (or NotAction) matches, its Resource (or NotResource)
matches, for resource and trust policies its Principal (or NotPrincipal) matches, and every
condition holds. Any unexpected error yields EXPLICIT_DENY with no matched statements:
evaluation fails closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from iamd.policy.compiled import CompiledPolicy, CompiledStatement, PrincipalInfo, StatementRef
from iamd.policy.context import RequestContext


class Effect(Enum):
    ALLOW = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


@dataclass(frozen=True)
class Decision:
    effect: Effect
    # ALLOW: the allowing statements; EXPLICIT_DENY: only the denying statements.
    matched: tuple[StatementRef, ...]
    # Condition keys (and variables) that applicable statements used but the request lacked.
    missing_context_keys: tuple[str, ...]
    # None when no boundary was given; else whether the boundary allowed (and did not deny).
    allowed_by_boundary: bool | None
    # None when no SCPs were given; else whether every level allowed and none denied
    # (the simulator's OrganizationsDecisionDetail.AllowedByOrganizations).
    allowed_by_organizations: bool | None = None
    # Whether an explicit Deny came from a service control policy (AccessDenied names it).
    denied_by_organizations: bool = False


_FAILED = Decision(Effect.EXPLICIT_DENY, (), (), None)


def _applies(stmt: CompiledStatement, ctx: RequestContext, missing: list[str]) -> bool:
    if stmt.actions.matches(ctx.action_lower) == stmt.not_action:
        return False
    for key in stmt.variable_keys:
        if not ctx.has(key):
            missing.append(key)
    resources = stmt.resources
    if resources is not None and resources.matches(ctx) == stmt.not_resource:
        return False
    if stmt.conditions:
        for key in stmt.condition_keys:
            if not ctx.has(key):
                missing.append(key)
        for cond in stmt.conditions:
            if not cond.test(ctx):
                return False
    return True


def _scan(
    policies: Sequence[CompiledPolicy],
    ctx: RequestContext,
    allows: list[StatementRef],
    denies: list[StatementRef],
    missing: list[str],
) -> None:
    service = ctx.service
    for policy in policies:
        for stmt in policy.by_service.get(service, policy.any_service):
            if _applies(stmt, ctx, missing):
                (denies if stmt.deny else allows).append(stmt.ref)


def _principal_of(arn: str | None) -> PrincipalInfo | None:
    if arn is None:
        return None
    parts = arn.split(":")
    return PrincipalInfo(arn, parts[4] if len(parts) > 4 else "", None)


def _principal_applies(stmt: CompiledStatement, principal: PrincipalInfo | None) -> bool:
    matcher = stmt.principals
    if matcher is None:
        return False
    return matcher.matches(principal) != stmt.not_principal


def _unique(keys: list[str]) -> tuple[str, ...]:
    if not keys:
        return ()
    return tuple({k.lower(): k for k in reversed(keys)}.values())[::-1]


def _evaluate(
    ctx: RequestContext,
    identity: Sequence[CompiledPolicy],
    boundary: Sequence[CompiledPolicy] | None,
    session: Sequence[CompiledPolicy] | None,
    resource: Sequence[CompiledPolicy],
    principal_arn: str | None,
    scps: Sequence[Sequence[CompiledPolicy]] | None,
    cross_account: bool = False,
) -> Decision:
    missing: list[str] = []
    denies: list[StatementRef] = []
    allows: list[StatementRef] = []
    by_organizations: bool | None = None
    scp_denied = False
    if scps is not None:
        by_organizations = True
        for level in scps:
            level_allows: list[StatementRef] = []
            level_denies: list[StatementRef] = []
            _scan(level, ctx, level_allows, level_denies, missing)
            if level_denies:
                scp_denied = True
                denies += level_denies
            if not level_allows:
                by_organizations = False
        by_organizations = by_organizations and not scp_denied
    _scan(identity, ctx, allows, denies, missing)
    boundary_allows: list[StatementRef] = []
    boundary_denies: list[StatementRef] = []
    if boundary is not None:
        _scan(boundary, ctx, boundary_allows, boundary_denies, missing)
        denies += boundary_denies
    session_allows: list[StatementRef] = []
    if session is not None:
        _scan(session, ctx, session_allows, denies, missing)
    resource_allows: list[StatementRef] = []
    direct = False
    if resource:
        principal = _principal_of(principal_arn)
        for policy in resource:
            for stmt in policy.statements:
                if _principal_applies(stmt, principal) and _applies(stmt, ctx, missing):
                    if stmt.deny:
                        denies.append(stmt.ref)
                    else:
                        resource_allows.append(stmt.ref)
                        if not stmt.not_principal and stmt.principals is not None:
                            direct = direct or stmt.principals.names_directly(principal)
    by_boundary = None if boundary is None else bool(boundary_allows) and not boundary_denies
    missing_keys = _unique(missing)
    if denies:
        return Decision(
            Effect.EXPLICIT_DENY,
            tuple(denies),
            missing_keys,
            by_boundary,
            by_organizations,
            scp_denied,
        )
    if by_organizations is False:
        return Decision(Effect.IMPLICIT_DENY, (), missing_keys, by_boundary, False)
    if cross_account:
        if (
            allows
            and resource_allows
            and (boundary is None or boundary_allows)
            and (session is None or session_allows)
        ):
            matched = (*allows, *resource_allows, *boundary_allows, *session_allows)
            return Decision(Effect.ALLOW, matched, missing_keys, by_boundary, by_organizations)
        return Decision(Effect.IMPLICIT_DENY, (), missing_keys, by_boundary, by_organizations)
    if direct:
        matched = (*allows, *resource_allows)
        return Decision(Effect.ALLOW, matched, missing_keys, by_boundary, by_organizations)
    if (
        (allows or resource_allows)
        and (boundary is None or boundary_allows)
        and (session is None or session_allows)
    ):
        matched = (*allows, *resource_allows, *boundary_allows, *session_allows)
        return Decision(Effect.ALLOW, matched, missing_keys, by_boundary, by_organizations)
    return Decision(Effect.IMPLICIT_DENY, (), missing_keys, by_boundary, by_organizations)


def evaluate(
    context: RequestContext,
    identity: Sequence[CompiledPolicy],
    *,
    boundary: Sequence[CompiledPolicy] | None = None,
    session: Sequence[CompiledPolicy] | None = None,
    resource: Sequence[CompiledPolicy] = (),
    principal_arn_for_resource_policies: str | None = None,
    scps: Sequence[Sequence[CompiledPolicy]] | None = None,
    cross_account: bool = False,
) -> Decision:
    """Decide one request; see the module docstring for the order."""
    try:
        return _evaluate(
            context,
            identity,
            boundary,
            session,
            resource,
            principal_arn_for_resource_policies,
            scps,
            cross_account,
        )
    except Exception:  # fail closed, by design
        return _FAILED


def evaluate_trust(
    context: RequestContext, trust: CompiledPolicy, principal: PrincipalInfo
) -> Decision:
    """May `principal` perform `context.action` (e.g. sts:AssumeRole) under this trust policy?

    Trust policies must allow explicitly; a Deny statement wins.
    """
    try:
        missing: list[str] = []
        allows: list[StatementRef] = []
        denies: list[StatementRef] = []
        for stmt in trust.statements:
            if _principal_applies(stmt, principal) and _applies(stmt, context, missing):
                (denies if stmt.deny else allows).append(stmt.ref)
        keys = _unique(missing)
        if denies:
            return Decision(Effect.EXPLICIT_DENY, tuple(denies), keys, None)
        if allows:
            return Decision(Effect.ALLOW, tuple(allows), keys, None)
        return Decision(Effect.IMPLICIT_DENY, (), keys, None)
    except Exception:  # fail closed, by design
        return _FAILED


def context_keys_of(policies: Sequence[CompiledPolicy]) -> tuple[str, ...]:
    """Condition keys and policy-variable keys the policies use, first spelling kept
    (GetContextKeysForCustomPolicy / GetContextKeysForPrincipalPolicy)."""
    keys: list[str] = []
    for policy in policies:
        for stmt in policy.statements:
            keys += stmt.variable_keys
            keys += [c.key for c in stmt.conditions]
    return tuple({k.lower(): k for k in reversed(keys)}.values())[::-1] if keys else ()

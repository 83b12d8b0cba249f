"""Trust policy evaluation: may this caller assume (or tag, or set the source identity
of) this role? Used by sts:AssumeRole's authorization (`iamd.authz.assume_role`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from iamd.model import Role
from iamd.policy import (
    CompiledPolicy,
    Effect,
    PolicyKind,
    PrincipalInfo,
    RequestContext,
    compile_policy,
    evaluate_trust,
)


@lru_cache(maxsize=4096)
def _compiled_trust(document: str) -> CompiledPolicy:
    # Pure memo: a document's compiled form never changes; a stored document that no
    # longer validates compiles to a policy that denies everything (fails closed).
    return compile_policy(document, PolicyKind.TRUST, "trust")


def trust_allows(role: Role, context: RequestContext, action: str = "sts:AssumeRole") -> bool:
    """Does the role's trust policy allow the caller described by `context` to `action`?

    The caller is taken from the context: `aws:PrincipalArn` (a user's ARN, the account
    root's, or for a role session the role's ARN), `aws:PrincipalAccount` and `aws:userid`
    (whose part before any `:` is the caller's unique id, matched against principals
    that AWS stored as unique ids). `arn:aws:iam::ACCOUNT:root` or the bare account id in
    the trust policy matches any principal of that account (the caller's own identity
    policy must then also allow the action: the caller's job, not this function's); a user
    ARN that user; a role ARN that role's sessions; `*` everyone. `Service` and
    `Federated` principals never match an IAM caller. An explicit Deny wins; conditions
    (`sts:ExternalId`, `aws:MultiFactorAuthPresent`...) are read from the context.
    """
    principal_arn = context.variable("aws:principalarn")
    if principal_arn is None:
        return False
    account = context.variable("aws:principalaccount") or _account_of(principal_arn)
    user_id = context.variable("aws:userid")
    principal = PrincipalInfo(
        principal_arn, account, user_id.partition(":")[0] if user_id else None, "AWS"
    )
    decision = evaluate_trust(
        _with_action(context, action, role.arn), _compiled_trust(role.assume_role_policy), principal
    )
    return decision.effect is Effect.ALLOW


def federated_trust_allows(
    role: Role, provider_arn: str, account_id: str, context: RequestContext
) -> bool:
    """Does the role's trust policy allow an identity provider's user (a `Federated`
    principal: a SAML or OpenID Connect provider's ARN) the context's action?"""
    principal = PrincipalInfo(provider_arn, account_id, None, "Federated")
    decision = evaluate_trust(context, _compiled_trust(role.assume_role_policy), principal)
    return decision.effect is Effect.ALLOW


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _with_action(context: RequestContext, action: str, resource: str) -> RequestContext:
    if context.action == action and context.resource == resource:
        return context
    keys: dict[str, str | Sequence[str]] = {}
    for key in context.keys():  # noqa: SIM118 (RequestContext is not iterable)
        single = context.variable(key)
        keys[key] = single if single is not None else (context.values(key) or ())
    return RequestContext(action, resource, keys)

"""Service control policies in the engine: the SCP grammar and size limit, and evaluation
with SCP levels (every level must allow, an explicit deny anywhere wins, SCPs bound even a
resource policy's grant), plus cross-account evaluation (both sides must allow)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.policy import (
    SCP_MAX_SIZE,
    CompiledPolicy,
    Effect,
    PolicyKind,
    RequestContext,
    check_policy,
    compile_policy,
    evaluate,
)

USER = "arn:aws:iam::111111111111:user/jdoe"
TARGET = "arn:aws:iam::111111111111:user/new"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def scp(*statements: dict[str, Any]) -> CompiledPolicy:
    text = doc(*statements)
    assert check_policy(text, PolicyKind.SCP) == []
    return compile_policy(text, PolicyKind.SCP, "scp")


def identity(*statements: dict[str, Any]) -> CompiledPolicy:
    return compile_policy(doc(*statements), PolicyKind.IDENTITY, "identity")


FULL_ACCESS = scp(allow())
ADMIN = identity(allow())


def ctx(action: str = "iam:CreateUser", resource: str = TARGET, **keys: str) -> RequestContext:
    return RequestContext(action, resource, {"aws:PrincipalArn": USER, **keys})


# ------------------------------------------------------------------ grammar and limits


def test_an_scp_may_not_name_a_principal() -> None:
    for element in ("Principal", "NotPrincipal"):
        text = doc({**allow(), element: {"AWS": "*"}})
        messages = [p.message for p in check_policy(text, PolicyKind.SCP)]
        assert messages == ["Policy document should not specify a principal."]


def test_the_full_iam_language_is_accepted_in_allow_and_deny_statements() -> None:
    # Conditions, NotAction, NotResource and wildcards in the middle of actions, with
    # either effect (SCPs support the full IAM language since 2025).
    text = doc(
        {"Sid": "A1", "Effect": "Allow", "NotAction": "iam:*User", "NotResource": "arn:aws:s3:::x"},
        {
            "Sid": "D1",
            "Effect": "Deny",
            "Action": "iam:Create*",
            "Resource": "arn:aws:iam::*:user/*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        },
    )
    assert check_policy(text, PolicyKind.SCP) == []


def test_unknown_elements_and_a_missing_effect_are_syntax_errors() -> None:
    assert [p.message for p in check_policy(doc({**allow(), "Bogus": 1}), PolicyKind.SCP)] == [
        "Syntax errors in policy."
    ]
    no_effect = doc({"Action": "*", "Resource": "*"})
    assert [p.message for p in check_policy(no_effect, PolicyKind.SCP)] == [
        "Syntax errors in policy."
    ]


def test_the_size_limit_counts_every_character_white_space_included() -> None:
    base = doc(allow())
    # Padding with white space only: an identity policy would not count it, an SCP does.
    exactly = base + " " * (SCP_MAX_SIZE - len(base))
    assert len(exactly) == SCP_MAX_SIZE
    assert check_policy(exactly, PolicyKind.SCP) == []
    over = exactly + " "
    problems = check_policy(over, PolicyKind.SCP)
    assert [(p.kind, p.message) for p in problems] == [
        ("limit", f"Cannot exceed quota for PolicySize: {SCP_MAX_SIZE}")
    ]
    assert check_policy(over, PolicyKind.IDENTITY, max_size=SCP_MAX_SIZE) == []


def test_an_scp_that_does_not_validate_compiles_to_deny_everything() -> None:
    broken = compile_policy('{"Statement": [', PolicyKind.SCP, "scp")
    decision = evaluate(ctx(), [ADMIN], scps=[[broken]])
    assert decision.effect is Effect.EXPLICIT_DENY
    assert decision.denied_by_organizations


# ------------------------------------------------------------------ evaluation


def test_no_scps_given_means_not_restricted() -> None:
    decision = evaluate(ctx(), [ADMIN])
    assert decision.effect is Effect.ALLOW
    assert decision.allowed_by_organizations is None


def test_every_level_must_allow() -> None:
    only_s3 = scp(allow("s3:*"))
    assert evaluate(ctx(), [ADMIN], scps=[[FULL_ACCESS], [FULL_ACCESS]]).effect is Effect.ALLOW
    decision = evaluate(ctx(), [ADMIN], scps=[[FULL_ACCESS], [only_s3], [FULL_ACCESS]])
    assert decision.effect is Effect.IMPLICIT_DENY
    assert decision.allowed_by_organizations is False
    assert not decision.denied_by_organizations
    # Two SCPs at one level: either one's Allow is enough for that level.
    both = evaluate(ctx(), [ADMIN], scps=[[only_s3, scp(allow("iam:*"))]])
    assert both.effect is Effect.ALLOW
    assert both.allowed_by_organizations is True


def test_an_explicit_deny_at_any_level_wins() -> None:
    no_create = scp(deny("iam:CreateUser"))
    decision = evaluate(ctx(), [ADMIN], scps=[[FULL_ACCESS], [FULL_ACCESS, no_create]])
    assert decision.effect is Effect.EXPLICIT_DENY
    assert decision.denied_by_organizations
    assert decision.allowed_by_organizations is False
    # Other actions are untouched.
    assert (
        evaluate(ctx("iam:GetUser"), [ADMIN], scps=[[FULL_ACCESS], [FULL_ACCESS, no_create]]).effect
        is Effect.ALLOW
    )


def test_scps_do_not_grant() -> None:
    decision = evaluate(ctx(), [identity(allow("s3:*"))], scps=[[FULL_ACCESS]])
    assert decision.effect is Effect.IMPLICIT_DENY
    assert decision.allowed_by_organizations is True


def test_an_identity_deny_is_not_reported_as_the_organizations() -> None:
    decision = evaluate(ctx(), [ADMIN, identity(deny("iam:CreateUser"))], scps=[[FULL_ACCESS]])
    assert decision.effect is Effect.EXPLICIT_DENY
    assert not decision.denied_by_organizations


def test_scp_conditions_read_the_request_context() -> None:
    outside_org = scp(
        allow(),
        deny(Condition={"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}),
    )
    inside = ctx(**{"aws:RequestedRegion": "us-east-1"})
    outside = ctx(**{"aws:RequestedRegion": "ap-south-1"})
    assert evaluate(inside, [ADMIN], scps=[[outside_org]]).effect is Effect.ALLOW
    assert evaluate(outside, [ADMIN], scps=[[outside_org]]).effect is Effect.EXPLICIT_DENY


def test_scps_bound_a_resource_policy_that_names_the_caller() -> None:
    resource = compile_policy(
        doc({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "*", "Resource": "*"}),
        PolicyKind.RESOURCE,
        "resource",
    )
    granted = evaluate(ctx(), [], resource=[resource], principal_arn_for_resource_policies=USER)
    assert granted.effect is Effect.ALLOW
    bounded = evaluate(
        ctx(),
        [],
        resource=[resource],
        principal_arn_for_resource_policies=USER,
        scps=[[scp(allow("s3:*"))]],
    )
    assert bounded.effect is Effect.IMPLICIT_DENY


def test_cross_account_access_needs_both_sides() -> None:
    resource = compile_policy(
        doc({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "*", "Resource": "*"}),
        PolicyKind.RESOURCE,
        "resource",
    )

    def decide(identities: list[CompiledPolicy], resources: list[CompiledPolicy]) -> Effect:
        return evaluate(
            ctx(),
            identities,
            resource=resources,
            principal_arn_for_resource_policies=USER,
            cross_account=True,
        ).effect

    assert decide([ADMIN], [resource]) is Effect.ALLOW
    assert decide([], [resource]) is Effect.IMPLICIT_DENY  # names the caller, still not enough
    assert decide([ADMIN], []) is Effect.IMPLICIT_DENY
    boundary = identity(allow("s3:*"))
    assert (
        evaluate(
            ctx(),
            [ADMIN],
            boundary=[boundary],
            resource=[resource],
            principal_arn_for_resource_policies=USER,
            cross_account=True,
        ).effect
        is Effect.IMPLICIT_DENY
    )


# ------------------------------------------------------------------ properties

ACTIONS = ("iam:CreateUser", "iam:GetUser", "s3:GetObject", "sts:AssumeRole")
PATTERNS = ("*", "iam:*", "iam:Create*", "s3:*", "iam:GetUser", "sts:*")


def statements() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda effect, pattern: {"Effect": effect, "Action": pattern, "Resource": "*"},
        st.sampled_from(("Allow", "Deny")),
        st.sampled_from(PATTERNS),
    )


def policies() -> st.SearchStrategy[str]:
    return st.lists(statements(), min_size=1, max_size=3).map(lambda s: doc(*s))


levels = st.lists(st.lists(policies(), min_size=1, max_size=2), max_size=3)


@settings(max_examples=300, deadline=None)
@given(levels, st.sampled_from(ACTIONS), policies())
def test_scps_are_the_intersection_of_their_levels_with_deny_winning(
    level_texts: list[list[str]], action: str, identity_text: str
) -> None:
    compiled = [[compile_policy(t, PolicyKind.SCP, "scp") for t in level] for level in level_texts]
    own = compile_policy(identity_text, PolicyKind.IDENTITY, "identity")
    context = ctx(action)
    with_scps = evaluate(context, [own], scps=compiled)
    without = evaluate(context, [own])

    def level_verdict(level: list[CompiledPolicy]) -> Effect:
        return evaluate(context, level).effect

    verdicts = [level_verdict(level) for level in compiled]
    any_scp_deny = Effect.EXPLICIT_DENY in verdicts
    all_allow = all(v is Effect.ALLOW for v in verdicts)
    if any_scp_deny or without.effect is Effect.EXPLICIT_DENY:
        assert with_scps.effect is Effect.EXPLICIT_DENY
        assert with_scps.denied_by_organizations == any_scp_deny
    elif all_allow and without.effect is Effect.ALLOW:
        assert with_scps.effect is Effect.ALLOW
    else:
        assert with_scps.effect is Effect.IMPLICIT_DENY
    assert with_scps.allowed_by_organizations == (all_allow and not any_scp_deny)
    # SCPs only ever take away.
    if with_scps.effect is Effect.ALLOW:
        assert without.effect is Effect.ALLOW

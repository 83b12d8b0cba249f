"""Trust policy evaluation (`trust_allows`) for every Principal form and the conditions
sts:AssumeRole callers meet (ExternalId, MFA), and a role's compiled policies
(`PolicyCompiler.for_role`) over a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.local_services import local_services

from iamd.authz.trust import trust_allows
from iamd.clock import SystemClock
from iamd.model import Role
from iamd.model.owners import OwnerKind
from iamd.policy import Effect, RequestContext, evaluate
from iamd.services.container import Services

ACCOUNT = "123456789012"
OTHER = "111122223333"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app/Reader"
JDOE = f"arn:aws:iam::{ACCOUNT}:user/jdoe"
JDOE_ID = "AIDAJDOEJDOEJDOEJDOE1"


def role_trusting(principal: Any, *, action: Any = "sts:AssumeRole", **extra: Any) -> Role:
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action, **extra}],
        }
    )
    return Role(
        role_id="AROAREADERREADERREAD1",
        name="Reader",
        path="/app/",
        arn=ROLE_ARN,
        create_date=datetime.now(UTC),
        assume_role_policy=document,
    )


def caller(
    arn: str = JDOE, account: str = ACCOUNT, userid: str = JDOE_ID, **keys: str
) -> RequestContext:
    """The request context of an sts:AssumeRole call by `arn`."""
    return RequestContext(
        "sts:AssumeRole",
        ROLE_ARN,
        {"aws:PrincipalArn": arn, "aws:PrincipalAccount": account, "aws:userid": userid, **keys},
    )


def test_account_root_and_bare_account_id_match_every_principal_of_the_account() -> None:
    for principal in ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"AWS": ACCOUNT}):
        role = role_trusting(principal)
        assert trust_allows(role, caller())
        assert trust_allows(role, caller(f"arn:aws:iam::{ACCOUNT}:root", userid=ACCOUNT))
        # A role session presents its role's ARN as aws:PrincipalArn.
        other_role = f"arn:aws:iam::{ACCOUNT}:role/Other"
        assert trust_allows(role, caller(other_role, userid="AROAOTHEROTHEROTHER01:s"))
        assert not trust_allows(role, caller(f"arn:aws:iam::{OTHER}:user/x", OTHER))


def test_user_arn_matches_that_user_only() -> None:
    role = role_trusting({"AWS": JDOE})
    assert trust_allows(role, caller())
    assert not trust_allows(role, caller(f"arn:aws:iam::{ACCOUNT}:user/bob", userid="AIDAB"))
    # User names in principals are case-sensitive.
    assert not trust_allows(role, caller(f"arn:aws:iam::{ACCOUNT}:user/JDOE"))
    # A user's ARN includes its path.
    assert not trust_allows(role, caller(f"arn:aws:iam::{ACCOUNT}:user/division/jdoe"))


def test_role_arn_matches_sessions_of_that_role() -> None:
    writer = f"arn:aws:iam::{ACCOUNT}:role/ops/Writer"
    role = role_trusting({"AWS": writer})
    assert trust_allows(role, caller(writer, userid="AROAWRITERWRITERWRIT1:session"))
    assert trust_allows(
        role, caller(f"arn:aws:sts::{ACCOUNT}:assumed-role/Writer/s1", userid="AROAW:s1")
    )
    assert not trust_allows(role, caller(f"arn:aws:iam::{ACCOUNT}:role/ops/Other"))
    assert not trust_allows(role, caller())


def test_unique_id_principal_matches_the_entity_it_was_saved_for() -> None:
    role = role_trusting({"AWS": JDOE_ID})
    assert trust_allows(role, caller())
    assert not trust_allows(role, caller(userid="AIDAANOTHERJDOEANOTH1"))


def test_star_matches_everyone_but_service_principals_match_no_iam_caller() -> None:
    assert trust_allows(role_trusting("*"), caller(f"arn:aws:iam::{OTHER}:user/x", OTHER))
    assert trust_allows(role_trusting({"AWS": "*"}), caller())
    service = role_trusting({"Service": "ec2.amazonaws.com"})
    assert not trust_allows(service, caller())
    federated = role_trusting(
        {"Federated": "accounts.google.com"}, action="sts:AssumeRoleWithWebIdentity"
    )
    assert not trust_allows(federated, caller(), "sts:AssumeRoleWithWebIdentity")


def test_external_id_condition() -> None:
    role = role_trusting(
        {"AWS": ACCOUNT}, Condition={"StringEquals": {"sts:ExternalId": "Unique-7"}}
    )
    assert trust_allows(role, caller(**{"sts:ExternalId": "Unique-7"}))
    assert not trust_allows(role, caller(**{"sts:ExternalId": "unique-7"}))
    assert not trust_allows(role, caller())


def test_mfa_condition() -> None:
    role = role_trusting(
        {"AWS": ACCOUNT}, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    )
    assert trust_allows(role, caller(**{"aws:MultiFactorAuthPresent": "true"}))
    assert not trust_allows(role, caller(**{"aws:MultiFactorAuthPresent": "false"}))
    # Long-term keys carry no aws:MultiFactorAuthPresent at all: not allowed either.
    assert not trust_allows(role, caller())


def test_actions_deny_and_fail_closed() -> None:
    role = role_trusting({"AWS": ACCOUNT}, action=["sts:AssumeRole", "sts:TagSession"])
    assert trust_allows(role, caller(), "sts:TagSession")
    assert not trust_allows(role, caller(), "sts:SetSourceIdentity")
    denying = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
                {"Effect": "Deny", "Principal": {"AWS": JDOE}, "Action": "sts:AssumeRole"},
            ],
        }
    )
    base = role_trusting({"AWS": ACCOUNT})
    deny = Role(**{**_fields(base), "assume_role_policy": denying})
    assert not trust_allows(deny, caller())
    assert trust_allows(deny, caller(f"arn:aws:iam::{ACCOUNT}:user/bob", userid="AIDAB"))
    # A stored document that no longer parses allows nobody.
    broken = Role(**{**_fields(base), "assume_role_policy": "{"})
    assert not trust_allows(broken, caller())
    # Without a principal in the context nothing matches.
    assert not trust_allows(base, RequestContext("sts:AssumeRole", ROLE_ARN, {}))


def _fields(role: Role) -> dict[str, Any]:
    return {name: getattr(role, name) for name in Role.__slots__}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with local_services(tmp_path, SystemClock()) as built:
        yield built


def _policy(action: str, effect: str = "Allow") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}],
        }
    )


def test_role_policies_compile_like_a_users(services: Services) -> None:
    role = services.roles.create(
        "Reader", "/app/", role_trusting({"AWS": ACCOUNT}).assume_role_policy
    )
    managed = services.policies.create("Lists", "/", _policy("iam:List*"), None, ())
    boundary = services.policies.create("Cap", "/", _policy("iam:*"), None, ())
    services.inline_policies.put(OwnerKind.ROLE, "Reader", "Gets", _policy("iam:Get*"))
    services.inline_policies.put(
        OwnerKind.ROLE, "Reader", "NoRoles", _policy("iam:GetRole", "Deny")
    )
    services.policies.attach(OwnerKind.ROLE, "reader", managed.arn)
    with services.tx.read() as repos:
        loaded = repos.roles.get_by_name("READER")
        assert loaded is not None
        assert loaded.role_id == role.role_id
        assert repos.roles.get_by_id(role.role_id) == loaded
        assert repos.roles.get_by_id("AROANOSUCHROLE0000000") is None
        policies = services.policy_compiler.for_role(repos, loaded)
    assert policies.boundary is None

    def decide(action: str, boundary: Any = None) -> Effect:
        ctx = RequestContext(action, "*", {})
        return evaluate(ctx, policies.identity, boundary=boundary).effect

    assert decide("iam:GetUser") is Effect.ALLOW
    assert decide("iam:ListUsers") is Effect.ALLOW
    assert decide("iam:GetRole") is Effect.EXPLICIT_DENY
    assert decide("iam:CreateUser") is Effect.IMPLICIT_DENY
    sources = sorted(p.source_id.replace("\x1f", ":") for p in policies.identity)
    assert sources == ["role:Gets", "role:NoRoles", "user-managed:Lists"]

    services.permissions_boundaries.put(OwnerKind.ROLE, "Reader", boundary.arn)
    with services.tx.read() as repos:
        bounded = services.policy_compiler.for_role(repos, services.roles.get("Reader"))
    assert bounded.boundary is not None
    assert decide("iam:GetUser", bounded.boundary) is Effect.ALLOW
    capped = services.policies.create("OnlyList", "/", _policy("iam:List*"), None, ())
    services.permissions_boundaries.put(OwnerKind.ROLE, "Reader", capped.arn)
    with services.tx.read() as repos:
        bounded = services.policy_compiler.for_role(repos, services.roles.get("Reader"))
    assert decide("iam:GetUser", bounded.boundary) is Effect.IMPLICIT_DENY
    assert decide("iam:ListUsers", bounded.boundary) is Effect.ALLOW


def test_role_last_used_is_recorded_in_batches(services: Services) -> None:
    role = services.roles.create("Used", "/", role_trusting("*").assume_role_policy)
    assert services.roles.get("Used").last_used_date is None
    first = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    later = datetime(2026, 1, 2, 4, 0, 0, tzinfo=UTC)
    services.last_used.record_role(role.role_id, later, "eu-west-1")
    pending = services.last_used.pending_role(role.role_id)
    assert pending is not None
    assert (pending.when, pending.region) == (later, "eu-west-1")
    assert services.last_used.flush() == 1
    assert services.last_used.pending_role(role.role_id) is None
    stored = services.roles.get("Used")
    assert (stored.last_used_date, stored.last_used_region) == (later, "eu-west-1")
    # An older use written late (another node's batch) does not turn the date back.
    services.last_used.record_role(role.role_id, first, "us-east-1")
    services.last_used.flush()
    stored = services.roles.get("Used")
    assert (stored.last_used_date, stored.last_used_region) == (later, "eu-west-1")

"""Organizations seen from member accounts and from the policy engine, in-process on a
real database, with CreateAccount's background step run inline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.local_services import ACCOUNT, MovableClock, local_services

from iamd.errors import AWSOrganizationsNotInUseException, OrganizationsAccessDenied
from iamd.model.organizations import FULL_AWS_ACCESS_CONTENT
from iamd.services.container import Services
from iamd.services.organization_policies import OrganizationPolicyService
from iamd.services.organizations import OrganizationsService
from iamd.services.policies import sync_aws_managed_policies

DENY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}],
    }
)


@pytest.fixture
def world(
    tmp_path: Path,
) -> Iterator[tuple[Services, OrganizationsService, OrganizationPolicyService]]:
    clock = MovableClock()
    with local_services(tmp_path, clock) as services:
        # The new accounts' access role gets AdministratorAccess, as at a server's start.
        sync_aws_managed_policies(services.tx, clock)
        # CreateAccount's background step runs inline, so the test sees its outcome.
        orgs = OrganizationsService(services.tx, clock, services.accounts, lambda f: f())
        yield services, orgs, OrganizationPolicyService(services.tx, clock, orgs)


def _member(orgs: OrganizationsService, name: str) -> str:
    request = orgs.create_account(ACCOUNT, name, f"{name}@example.com", None, {})
    done = orgs.describe_create_account_status(ACCOUNT, request.request_id)
    assert done.state == "SUCCEEDED"
    assert done.account_id is not None
    return done.account_id


def test_member_accounts_may_describe_the_organization_and_nothing_else(
    world: tuple[Services, OrganizationsService, OrganizationPolicyService],
) -> None:
    _services, orgs, policies = world
    org = orgs.create_organization(ACCOUNT, "ALL")
    member = _member(orgs, "dev")
    assert orgs.describe_organization(member).organization_id == org.organization_id
    for call in (
        lambda: orgs.list_accounts(member, None, None),
        lambda: orgs.list_roots(member),
        lambda: orgs.describe_account(member, member),
        lambda: orgs.create_account(member, "x", "x@example.com", None, {}),
        lambda: orgs.delete_organization(member),
        lambda: policies.list_policies(member, "SERVICE_CONTROL_POLICY", None, None),
        lambda: policies.enable_policy_type(member, org.root_id, "SERVICE_CONTROL_POLICY"),
    ):
        with pytest.raises(OrganizationsAccessDenied) as refused:
            call()
        assert refused.value.message == "You don't have permissions to access this resource."
    outsider = "210987654321"
    with pytest.raises(AWSOrganizationsNotInUseException):
        orgs.describe_organization(outsider)
    with pytest.raises(AWSOrganizationsNotInUseException):
        orgs.list_accounts(outsider, None, None)


def _as_sets(levels: tuple[tuple[str, ...], ...] | None) -> list[set[str]] | None:
    return None if levels is None else [set(level) for level in levels]


def test_scp_levels_and_org_facts_follow_every_write(
    world: tuple[Services, OrganizationsService, OrganizationPolicyService],
) -> None:
    _services, orgs, policies = world
    assert orgs.scp_levels(ACCOUNT) is None
    assert orgs.org_facts(ACCOUNT) is None
    org = orgs.create_organization(ACCOUNT, "ALL")
    member = _member(orgs, "dev")
    root_path = f"{org.organization_id}/{org.root_id}/"
    assert orgs.org_facts(ACCOUNT) == (org.organization_id, (root_path,))
    assert orgs.org_facts(member) == (org.organization_id, (root_path,))
    assert orgs.scp_levels(member) is None  # SCPs not enabled yet

    policies.enable_policy_type(ACCOUNT, org.root_id, "SERVICE_CONTROL_POLICY")
    assert orgs.scp_levels(member) == ((FULL_AWS_ACCESS_CONTENT,), (FULL_AWS_ACCESS_CONTENT,))
    assert orgs.scp_levels(ACCOUNT) is None  # the management account is never restricted

    _org, outer = orgs.create_ou(ACCOUNT, org.root_id, "Outer", {})
    _org, inner = orgs.create_ou(ACCOUNT, outer.ou_id, "Inner", {})
    orgs.move_account(ACCOUNT, member, org.root_id, inner.ou_id)
    _org, deny = policies.create_policy(ACCOUNT, "Deny", "", DENY, "SERVICE_CONTROL_POLICY", {})
    policies.attach_policy(ACCOUNT, deny.policy_id, outer.ou_id)
    full = FULL_AWS_ACCESS_CONTENT
    # Levels in order (root, Outer, Inner, the account); within a level, any order.
    assert _as_sets(orgs.scp_levels(member)) == [{full}, {full, DENY}, {full}, {full}]
    assert orgs.org_facts(member) == (
        org.organization_id,
        (f"{root_path}{outer.ou_id}/{inner.ou_id}/",),
    )
    orgs.remove_account(ACCOUNT, member)
    assert orgs.scp_levels(member) is None
    assert orgs.org_facts(member) is None

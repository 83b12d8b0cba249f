"""Several accounts in one database: the accounts service and per-account services,
on real SQLite and PostgreSQL databases with the real services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.local_services import ACCOUNT, MovableClock, local_services

from iamd.errors import (
    AccountNotFoundException,
    EmailAlreadyTaken,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
)
from iamd.model.owners import OwnerKind
from iamd.model.quotas import Quotas
from iamd.services.container import Services
from iamd.services.policies import sync_aws_managed_policies

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    url = request.getfixturevalue("fresh_postgres_url") if request.param == "postgresql" else None
    clock = MovableClock()
    with local_services(tmp_path, clock, database_url=url, quotas=Quotas(users=3)) as made:
        sync_aws_managed_policies(made.tx, clock)
        yield made


def test_accounts_are_created_listed_and_suspended(services: Services) -> None:
    accounts = services.accounts
    made = accounts.create("Dev", "dev@example.com")
    assert len(made.account_id) == 12
    assert made.account_id.isdigit()
    assert made.account_id != ACCOUNT
    assert (made.name, made.email, made.status) == ("Dev", "dev@example.com", "ACTIVE")
    assert accounts.get(made.account_id) == made
    assert [a.account_id for a in accounts.list()] == [ACCOUNT, made.account_id]
    with pytest.raises(EmailAlreadyTaken):
        accounts.create("Other", "DEV@example.com")
    assert accounts.set_status(made.account_id, "SUSPENDED").status == "SUSPENDED"
    with pytest.raises(AccountNotFoundException):
        accounts.get("000000000001")
    with pytest.raises(AccountNotFoundException):
        accounts.get("12345")
    assert accounts.find(made.account_id) == accounts.get(made.account_id)
    assert not accounts.exists("999999999999")


def test_the_same_user_name_in_two_accounts_each_with_its_keys(services: Services) -> None:
    other_id = services.accounts.create("Prod", "prod@example.com").account_id
    other = services.in_account(other_id)
    assert services.in_account(other_id) is other
    assert services.in_account(ACCOUNT) is services
    mine = services.users.create("jdoe", "/")
    theirs = other.users.create("JDoe", "/")
    assert mine.arn == f"arn:aws:iam::{ACCOUNT}:user/jdoe"
    assert theirs.arn == f"arn:aws:iam::{other_id}:user/JDoe"
    with pytest.raises(EntityAlreadyExists):
        other.users.create("JDOE", "/")
    my_key = services.access_keys.create("jdoe")
    their_key = other.access_keys.create("jdoe")
    for key, account, arn in ((my_key, ACCOUNT, mine.arn), (their_key, other_id, theirs.arn)):
        resolved = services.credentials.resolve(key.key.access_key_id)
        assert resolved is not None
        assert (resolved.caller.account_id, resolved.caller.arn) == (account, arn)
        assert resolved.secret_access_key == key.secret_access_key
    # Each account sees only its own.
    assert [u.name for u in other.users.listing("/", None, 100).items] == ["JDoe"]
    assert "JDoe" not in [u.name for u in services.users.listing("/", None, 100).items]
    services.users.create("only-here", "/")
    with pytest.raises(NoSuchEntity):
        other.users.get("only-here")
    # A key id of one account is no key of the other's users.
    with pytest.raises(NoSuchEntity):
        other.access_keys.delete("JDoe", my_key.key.access_key_id)


def test_quotas_and_the_summary_count_per_account(services: Services) -> None:
    other = services.in_account(services.accounts.create("Q", "q@example.com").account_id)
    for n in range(3):
        services.users.create(f"u{n}", "/")
    with pytest.raises(LimitExceeded):
        services.users.create("u3", "/")
    # The other account still has its whole quota.
    for n in range(3):
        other.users.create(f"u{n}", "/")
    assert services.account.summary().users == 3
    assert other.account.summary().users == 3
    other.policies.create("Mine", "/", json.dumps(_ALLOW_ALL), None, ())
    assert other.account.summary().policies == 1
    assert services.account.summary().policies == 0


def test_provisioned_access_role_is_trusted_by_the_management_account(
    services: Services,
) -> None:
    new_id = services.accounts.create("New", "new@example.com").account_id
    role = services.accounts.provision_access_role(new_id, "OrganizationAccountAccessRole", ACCOUNT)
    assert role.arn == f"arn:aws:iam::{new_id}:role/OrganizationAccountAccessRole"
    trust = json.loads(role.assume_role_policy)
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    new = services.in_account(new_id)

    attached = new.policies.attached(
        OwnerKind.ROLE, "OrganizationAccountAccessRole", "/", None, 100
    ).items
    assert [p.arn for p in attached] == [ADMIN]
    # AWS's policy is shared, its attachments are each account's.
    assert new.policies.get(ADMIN).attachment_count == 1
    assert services.policies.get(ADMIN).attachment_count == 0
    with pytest.raises(NoSuchEntity):
        services.roles.get("OrganizationAccountAccessRole")


_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

"""CreateAccount requests a stopped node left IN_PROGRESS are finished by another node,
on a real database: once, with the account made for them, never a second one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.local_services import ACCOUNT, MovableClock, local_services

from iamd.services import organizations as organizations_module
from iamd.services.container import Services
from iamd.services.organizations import OrganizationsService
from iamd.services.policies import sync_aws_managed_policies


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    url = request.getfixturevalue("fresh_postgres_url") if request.param == "postgresql" else None
    clock = MovableClock()
    with local_services(tmp_path, clock, database_url=url) as made:
        sync_aws_managed_policies(made.tx, clock)
        yield made


def _nodes(services: Services) -> tuple[OrganizationsService, OrganizationsService, list[Any]]:
    """A node that stops before its background step runs, and one that runs it inline."""
    dropped: list[Callable[[], None]] = []
    stopping = OrganizationsService(services.tx, services.clock, services.accounts, dropped.append)
    running = OrganizationsService(services.tx, services.clock, services.accounts, lambda f: f())
    return stopping, running, dropped


def _later(services: Services) -> None:
    clock = services.clock
    assert isinstance(clock, MovableClock)
    clock.when += organizations_module.RESUME_AFTER


def test_a_request_left_in_progress_is_finished_by_the_next_node(services: Services) -> None:
    stopping, running, _dropped = _nodes(services)
    stopping.create_organization(ACCOUNT, "ALL")
    request = stopping.create_account(ACCOUNT, "Left", "left@example.com", None, {"team": "a"})
    assert running.resume_interrupted() == 0  # not old enough: its node may be at it

    _later(services)
    assert running.resume_interrupted() == 1
    done = running.describe_create_account_status(ACCOUNT, request.request_id)
    assert done.state == "SUCCEEDED"
    assert done.account_id is not None
    assert running.describe_account(ACCOUNT, done.account_id).status == "ACTIVE"
    role = services.in_account(done.account_id).roles.get("OrganizationAccountAccessRole")
    assert role.arn.endswith(":role/OrganizationAccountAccessRole")
    assert running.resume_interrupted() == 0


def test_the_account_made_before_the_stop_is_the_one_the_request_gets(
    services: Services,
) -> None:
    stopping, running, dropped = _nodes(services)
    stopping.create_organization(ACCOUNT, "ALL")
    request = stopping.create_account(ACCOUNT, "Half", "half@example.com", "Ops", {})
    # The stopped node got as far as the account and its role.
    made = services.accounts.create("Half", "half@example.com")
    services.accounts.provision_access_role(made.account_id, "Ops", ACCOUNT)
    accounts_before = len(services.accounts.list())

    _later(services)
    # Asking its status resumes it too (the request is stale): the answer is the
    # status read before, the next one the outcome.
    assert running.describe_create_account_status(ACCOUNT, request.request_id).state == (
        "IN_PROGRESS"
    )
    done = running.describe_create_account_status(ACCOUNT, request.request_id)
    assert done.account_id == made.account_id
    assert len(services.accounts.list()) == accounts_before
    # The stopped node's own step, were it to run after all, changes nothing.
    dropped.pop()()
    again = running.describe_create_account_status(ACCOUNT, request.request_id)
    assert (again.state, again.account_id) == ("SUCCEEDED", made.account_id)


def test_an_email_another_account_had_before_fails_as_taken(services: Services) -> None:
    stopping, running, _dropped = _nodes(services)
    services.accounts.create("Older", "taken@example.com")
    clock = services.clock
    assert isinstance(clock, MovableClock)
    clock.when += timedelta(seconds=1)
    stopping.create_organization(ACCOUNT, "ALL")
    request = stopping.create_account(ACCOUNT, "New", "taken@example.com", None, {})
    _later(services)
    running.resume_interrupted()
    done = running.describe_create_account_status(ACCOUNT, request.request_id)
    assert (done.state, done.failure_reason) == ("FAILED", "EMAIL_ALREADY_EXISTS")

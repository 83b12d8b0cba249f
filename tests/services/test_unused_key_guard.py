"""The server-side guard that deactivates access keys unused for N days."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.local_services import MovableClock, local_services

from iamd.model import AccessKeyStatus
from iamd.server.unused_key_guard import UnusedKeyGuard
from iamd.services.container import Services


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Services, MovableClock, UnusedKeyGuard]]:
    clock = MovableClock()
    with local_services(tmp_path, clock) as services:
        guard = UnusedKeyGuard(
            services.tx, clock, services.last_used, timedelta(days=90), timedelta(hours=1)
        )
        yield services, clock, guard


def status(services: Services, key_id: str) -> AccessKeyStatus:
    with services.tx.read() as repos:
        key = repos.access_keys.get(key_id)
    assert key is not None
    return key.status


def test_keys_idle_past_the_limit_are_deactivated_and_logged(
    world: tuple[Services, MovableClock, UnusedKeyGuard], caplog: pytest.LogCaptureFixture
) -> None:
    services, clock, guard = world
    services.users.create("alice", "/")
    never_used = services.access_keys.create("alice").key.access_key_id
    used = services.access_keys.create("alice").key.access_key_id
    clock.when += timedelta(days=5)
    services.last_used.record(used, clock.now(), "iam", "us-east-1")

    clock.when += timedelta(days=89)  # never_used: 94 days old; used: idle 89 days
    with caplog.at_level(logging.WARNING):
        assert guard.sweep() == [never_used]
    assert status(services, never_used) == AccessKeyStatus.INACTIVE
    assert status(services, used) == AccessKeyStatus.ACTIVE
    assert f"set access key {never_used} of user alice Inactive (never used" in caplog.text

    clock.when += timedelta(days=2)
    assert guard.sweep() == [used]
    assert guard.sweep() == []


def test_a_use_not_yet_written_protects_the_key(
    world: tuple[Services, MovableClock, UnusedKeyGuard],
) -> None:
    services, clock, guard = world
    services.users.create("bob", "/")
    key_id = services.access_keys.create("bob").key.access_key_id
    clock.when += timedelta(days=100)
    services.last_used.record(key_id, clock.now(), "sts", "us-east-1")

    assert guard.sweep() == []
    assert status(services, key_id) == AccessKeyStatus.ACTIVE

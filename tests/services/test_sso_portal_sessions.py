"""The access portal's sessions with a clock the test moves: an hour without a request
ends one, so do eight hours however busy, and so does sign-out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.local_services import MovableClock, local_services

from iamd.services.container import Services


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Services, MovableClock, str, str]]:
    clock = MovableClock()
    with local_services(tmp_path, clock) as services:
        instance = services.identity_center.create_instance("Corp")
        user = services.identity_store.create_user(
            instance.identity_store_id, {"UserName": "jdoe"}, "admin"
        )
        yield services, clock, instance.instance_arn, user.user_id


def test_idle_timeout(world: tuple[Services, MovableClock, str, str]) -> None:
    services, clock, instance, user = world
    sessions = services.portal_sessions
    cookie = sessions.open(instance, user, mfa=True)
    clock.when += timedelta(minutes=59)
    owner = sessions.owner(cookie)
    assert owner is not None
    assert (owner.instance_arn, owner.user_id) == (instance, user)
    clock.when += timedelta(minutes=59)  # 59 minutes after the last request
    assert sessions.owner(cookie) is not None
    clock.when += timedelta(minutes=60)
    assert sessions.owner(cookie) is None


def test_absolute_timeout_and_sign_out(world: tuple[Services, MovableClock, str, str]) -> None:
    services, clock, instance, user = world
    sessions = services.portal_sessions
    cookie = sessions.open(instance, user, mfa=False)
    for _ in range(15):
        clock.when += timedelta(minutes=30)
        assert sessions.owner(cookie) is not None
    clock.when += timedelta(minutes=31)  # 8 h 1 min after sign-in
    assert sessions.owner(cookie) is None

    other = sessions.open(instance, user, mfa=False)
    assert sessions.owner(other) is not None
    sessions.close(other)
    assert sessions.owner(other) is None
    assert sessions.owner("") is None
    assert sessions.owner("x" * 500) is None

"""Identity Center MFA on a real database (SQLite and PostgreSQL) with a clock the test
moves (exact TOTP steps and back-off windows): codes are good once, wrong codes back off
in their own key space (a password sign-in is not slowed by them), a ticket dies after
five codes or five minutes, a deleted user's pending sign-in goes nowhere, and its
devices go with it. The codes are computed by tests/support/totp.py, not by iamd."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.local_services import MovableClock, local_services
from tests.support.totp import code_at

from iamd.model.identity_center import DirectoryUser, Instance
from iamd.services.container import Services
from iamd.services.sso_mfa import Challenge, MfaBlocked, Refused, Verified
from iamd.services.sso_portal import SignedIn

PASSWORD = "Correct-Horse-42"


@dataclass
class World:
    services: Services
    clock: MovableClock
    instance: Instance
    user: DirectoryUser

    def begin(self) -> Challenge:
        challenge = self.services.sso_mfa.begin(self.instance, self.user, "device", {"k": "v"})
        assert challenge is not None
        return challenge

    def code(self, seed: str, steps: int = 0) -> str:
        return code_at(seed, self.clock.now().timestamp() + 30 * steps)

    def wrong(self, seed: str) -> str:
        """A code of no step near the clock's."""
        near = {self.code(seed, k) for k in range(-2, 3)}
        return next(
            c for c in ("111111", "222222", "333333", "444444", "555555", "666666") if c not in near
        )

    def verify(self, challenge: Challenge, code: str) -> Verified | Refused:
        return self.services.sso_mfa.verify(challenge.ticket, code, "device")

    def registered(self) -> str:
        """The user registers an app; its seed."""
        challenge = self.begin()
        assert challenge.registration is not None
        seed = challenge.registration.seed_base32
        assert isinstance(self.verify(challenge, self.code(seed)), Verified)
        return seed


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    url = request.getfixturevalue("fresh_postgres_url") if request.param == "postgresql" else None
    clock = MovableClock()
    with local_services(tmp_path, clock, database_url=url) as services:
        instance = services.identity_center.create_instance("Corp")
        store = instance.identity_store_id
        services.identity_store.create_user(store, {"UserName": "jdoe"}, "admin")
        services.sso_portal.set_password(store, "jdoe", PASSWORD, must_change=False)
        with services.tx.read() as repos:
            user = repos.identity_center.user_named(store, "jdoe")
        assert user is not None
        services.sso_mfa.admin.set_settings(instance.instance_arn, "always", "register")
        yield World(services, clock, instance, user)


def test_never_asks_nothing(world: World) -> None:
    world.services.sso_mfa.admin.set_settings(world.instance.instance_arn, "never", "register")
    assert world.services.sso_mfa.begin(world.instance, world.user, "device", {}) is None


def test_block_without_a_device(world: World) -> None:
    world.services.sso_mfa.admin.set_settings(world.instance.instance_arn, "always", "block")
    with pytest.raises(MfaBlocked):
        world.begin()


def test_the_context_comes_back_once_and_codes_are_good_once(world: World) -> None:
    seed = world.registered()
    first = world.begin()
    assert first.registration is None
    # The registration spent the current step; the next one is within the drift window.
    assert isinstance(world.verify(first, world.code(seed)), Refused)
    verified = world.verify(first, world.code(seed, 1))
    assert isinstance(verified, Verified)
    assert verified.context == {"k": "v"}
    assert verified.user_id == world.user.user_id
    again = world.verify(first, world.code(seed, 1))
    assert isinstance(again, Refused)
    assert again.reason == "expired"
    # Another sign-in with the same code: spent.
    second = world.begin()
    replay = world.verify(second, world.code(seed, 1))
    assert isinstance(replay, Refused)
    assert replay.reason == "wrong"
    world.clock.when += timedelta(seconds=60)
    assert isinstance(world.verify(second, world.code(seed)), Verified)


def test_wrong_codes_back_off_apart_from_passwords(world: World) -> None:
    seed = world.registered()
    challenge = world.begin()
    wrong = world.wrong(seed)
    for _ in range(3):
        refused = world.verify(challenge, wrong)
        assert isinstance(refused, Refused)
        assert refused.reason == "wrong"
    throttled = world.verify(challenge, world.code(seed, 1))
    assert isinstance(throttled, Refused)
    assert throttled.reason == "throttled"
    assert throttled.retry_at is not None
    # The password's ledger entry is another: the user can still type their password.
    signed_in = world.services.sso_portal.sign_in(world.instance, "jdoe", PASSWORD)
    assert isinstance(signed_in, SignedIn)
    world.clock.when += timedelta(seconds=5)
    assert isinstance(world.verify(challenge, world.code(seed, 1)), Verified)


def test_a_ticket_dies_after_five_codes_or_five_minutes(world: World) -> None:
    seed = world.registered()
    challenge = world.begin()
    alive = []
    for _ in range(5):
        world.clock.when += timedelta(seconds=40)  # past every back-off window
        refused = world.verify(challenge, world.wrong(seed))
        assert isinstance(refused, Refused)
        alive.append(refused.ticket_alive)
    assert alive == [True, True, True, True, False]
    world.clock.when += timedelta(seconds=40)
    late = world.verify(challenge, world.code(seed))
    assert isinstance(late, Refused)
    assert late.reason == "expired"

    challenge = world.begin()
    world.clock.when += timedelta(minutes=5, seconds=1)
    expired = world.verify(challenge, world.code(seed))
    assert isinstance(expired, Refused)
    assert expired.reason == "expired"


def test_a_deleted_user_goes_nowhere_and_loses_its_devices(world: World) -> None:
    seed = world.registered()
    challenge = world.begin()
    store = world.instance.identity_store_id
    world.services.identity_store.delete_user(store, world.user.user_id)
    refused = world.verify(challenge, world.code(seed, 1))
    assert isinstance(refused, Refused)
    assert refused.reason == "expired"
    with world.services.tx.read() as repos:
        assert repos.identity_center_mfa.devices(world.user.user_id) == []

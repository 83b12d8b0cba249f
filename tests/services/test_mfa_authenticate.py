"""`MFADeviceService.authenticate`, the one-time-code check STS calls, on a real database.

A clock the test moves stands in for time, so codes of exact steps can be tried; the
services and the SQLite database are the real ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.local_services import MovableClock, local_services

from iamd.auth import totp
from iamd.errors import AccessDenied
from iamd.services.container import Services

ACCOUNT = "123456789012"
BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  "
    "Please verify your MFA serial number is valid and associated with this user."
)


@dataclass
class World:
    services: Services
    clock: MovableClock
    user_id: str
    serial: str
    seed: bytes

    @property
    def step(self) -> int:
        return totp.time_step(self.clock.now())

    def code(self, step: int) -> str:
        return totp.code_at(self.seed, step)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    # Mid-step, so the steps around it are whole.
    clock = MovableClock(datetime(2026, 3, 1, 12, 0, 15, tzinfo=UTC))
    with local_services(tmp_path, clock) as services:
        yield _world(services, clock)


def _world(services: Services, clock: MovableClock) -> World:
    user = services.users.create("alice", "/")
    new = services.mfa_devices.create("alice-phone", "/")
    seed = totp.seed_of_base32(new.base32_seed)
    step = totp.time_step(clock.now())
    services.mfa_devices.enable(
        "alice",
        new.device.serial_number,
        totp.code_at(seed, step - 1),
        totp.code_at(seed, step),
    )
    # The next step: the codes that enabled the device are spent.
    clock.when += timedelta(seconds=30)
    return World(services, clock, user.user_id, new.device.serial_number, seed)


def _denied(
    world: World, code: str, *, user_id: str | None = None, serial: str | None = None
) -> str:
    with pytest.raises(AccessDenied) as caught:
        world.services.mfa_devices.authenticate(
            user_id or world.user_id, serial or world.serial, code
        )
    return caught.value.message


def test_a_good_code_authenticates_once_and_returns_the_time(world: World) -> None:
    code = world.code(world.step)
    assert world.services.mfa_devices.authenticate(world.user_id, world.serial, code) == (
        world.clock.now()
    )
    assert _denied(world, code) == BAD_CODE


def test_one_step_of_drift_either_way_and_no_more(world: World) -> None:
    world.clock.when += timedelta(minutes=5)
    now = world.step
    assert _denied(world, world.code(now + 2)) == BAD_CODE
    assert _denied(world, world.code(now - 2)) == BAD_CODE
    world.services.mfa_devices.authenticate(world.user_id, world.serial, world.code(now - 1))
    world.services.mfa_devices.authenticate(world.user_id, world.serial, world.code(now + 1))
    # Once a later step is used, earlier codes are spent too.
    assert _denied(world, world.code(now)) == BAD_CODE


def test_codes_used_to_enable_the_device_are_spent(world: World) -> None:
    # The clock moved one step on: the enabling code is within the drift, yet refused.
    assert _denied(world, world.code(world.step - 1)) == BAD_CODE


@pytest.mark.parametrize("code", ["000000", "12345", "1234567", "abcdef", ""])
def test_malformed_or_wrong_codes(world: World, code: str) -> None:
    if code == world.code(world.step):
        return
    assert _denied(world, code) == BAD_CODE


def test_devices_not_enabled_for_the_user_read_alike(world: World) -> None:
    code = world.code(world.step)
    bob = world.services.users.create("bob", "/")
    assert _denied(world, code, user_id=bob.user_id) == UNKNOWN_DEVICE
    ghost = f"arn:aws:iam::{ACCOUNT}:mfa/ghost"
    assert _denied(world, code, serial=ghost) == UNKNOWN_DEVICE
    world.services.mfa_devices.deactivate("alice", world.serial)
    assert _denied(world, code) == UNKNOWN_DEVICE


def test_two_requests_racing_with_one_code_accept_it_once(world: World) -> None:
    code = world.code(world.step)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait()
        try:
            world.services.mfa_devices.authenticate(world.user_id, world.serial, code)
            outcomes.append("accepted")
        except AccessDenied:
            outcomes.append("denied")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "denied", "denied", "denied"]


def test_resync_teaches_the_device_drift_to_later_codes(world: World) -> None:
    # The phone's clock runs 5 steps (2.5 minutes) fast: its codes are out of the window.
    ahead = 5
    assert _denied(world, world.code(world.step + ahead)) == BAD_CODE
    now = world.step
    world.services.mfa_devices.resync(
        "alice", world.serial, world.code(now + ahead - 1), world.code(now + ahead)
    )
    world.clock.when += timedelta(seconds=30)
    # The next code the phone shows is accepted, one step either side of it too.
    world.services.mfa_devices.authenticate(
        world.user_id, world.serial, world.code(world.step + ahead)
    )
    world.clock.when += timedelta(seconds=60)
    world.services.mfa_devices.authenticate(
        world.user_id, world.serial, world.code(world.step + ahead - 1)
    )
    # A code of the server's own time is now as far off as the phone's were.
    world.clock.when += timedelta(seconds=60)
    assert _denied(world, world.code(world.step)) == BAD_CODE

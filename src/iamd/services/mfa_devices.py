"""Virtual MFA devices: create, enable for a user, resync, deactivate, delete, and the
one-time-code check the STS operations call (`authenticate`).

The TOTP seed is returned once, by CreateVirtualMFADevice (as base32 and as a QR code),
and stored only sealed by the secret box, bound to the device's serial number. A code is
accepted once: the device keeps the newest time step it accepted, and the step of every
accepted code is recorded by a conditional UPDATE in the transaction that checked it
(under the database write lock on SQLite, the device's row lock on PostgreSQL), so two
requests, or two nodes, can never both accept the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from iamd.auth import totp
from iamd.auth.secret_box import SecretBox
from iamd.clock import Clock
from iamd.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from iamd.model import Tag, iam_arn
from iamd.model.mfa_devices import AssignmentStatus, VirtualMFADevice
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.services.qr_codes import qr_png
from iamd.services.tagging import ResourceTags, TaggedKind, check_tag_count
from iamd.services.users import lock_user, require_user
from iamd.store.schema import MFA_SERIAL_NUMBER_LENGTH
from iamd.store.sql.paging import page_of_sequence
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

# ResyncMFADevice accepts codes from a device whose clock drifted: ten minutes either side.
RESYNC_WINDOW_STEPS = 20


@dataclass(frozen=True, slots=True)
class NewVirtualMFADevice:
    device: VirtualMFADevice
    base32_seed: str
    qr_code_png: bytes


def seed_context(serial_number: str) -> bytes:
    """Associated data binding a sealed seed to its device."""
    return f"mfa-device:{serial_number}".encode()


_TAGS: TaggedKind[VirtualMFADevice] = TaggedKind(
    find=lambda repos, serial, for_update: _require_device(repos, serial, for_update=for_update),
    tags_of=lambda device: device.tags,
    owner_id=lambda device: device.serial_number,
    repository=lambda repos: repos.mfa_devices.tags,
    credentials=NO_CREDENTIALS,
)


class MFADeviceService:
    def __init__(self, tx: Transactions, clock: Clock, quotas: Quotas, box: SecretBox) -> None:
        self._tx = tx
        self._clock = clock
        self._quotas = quotas
        self.tags = ResourceTags(tx, _TAGS, quotas.tags_per_resource)
        self._box = box

    # -- devices -------------------------------------------------------------------------

    def create(self, name: str, path: str, tags: Sequence[Tag] = ()) -> NewVirtualMFADevice:
        serial = iam_arn(self._tx.account_id, "mfa", path, name)
        _check_serial_number_length(name, path, serial)
        check_tag_count((), tags, self._quotas.tags_per_resource)
        # Everything that can fail (sealing, drawing the QR code) comes before the first
        # write: a device is saved only if the seed reaches the caller.
        with self._tx.read() as repos:
            account = repos.account.get()
        seed = totp.new_seed()
        base32_seed = totp.seed_base32(seed)
        sealed = self._box.seal(base32_seed, seed_context(serial))
        # The QR label names the account by its alias when it has one, else by its id.
        account_name = account.alias if account and account.alias else self._tx.account_id
        qr_code = qr_png(totp.otpauth_uri(name, account_name, base32_seed))
        # A new, unassigned device changes no credential.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("mfa_devices")
            # AWS allows as many virtual devices as users in an account.
            if repos.mfa_devices.count() >= self._quotas.users:
                raise LimitExceeded.quota("VirtualMFADevicesPerAccount", self._quotas.users)
            device = VirtualMFADevice(
                serial_number=serial,
                name=name,
                path=path,
                create_date=self._clock.now(),
                tags=tuple(tags),
            )
            repos.mfa_devices.add(device, sealed)
        return NewVirtualMFADevice(device, base32_seed, qr_code)

    def delete(self, serial_number: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            device = _require_device(repos, serial_number)
            if device.user is not None:
                raise DeleteConflict.mfa_device_in_use()
            repos.mfa_devices.delete(serial_number)

    def listing(
        self, status: AssignmentStatus, marker: str | None, max_items: int
    ) -> Page[VirtualMFADevice]:
        with self._tx.read() as repos:
            return repos.mfa_devices.listing(status, marker, max_items)

    # -- devices of users ----------------------------------------------------------------

    def enable(self, user_name: str, serial_number: str, code1: str, code2: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = lock_user(repos, user_name)
            device = _require_device(repos, serial_number, for_update=True)
            if device.user is not None:
                raise EntityAlreadyExists("MFA Device is already in use.")
            limit = self._quotas.mfa_devices_per_user
            if repos.mfa_devices.count_for_user(user.user_id) >= limit:
                raise LimitExceeded.quota("MFADevicesPerUser", limit)
            now = self._clock.now()
            step = self._consecutive_step(repos, device, code1, code2, totp.DRIFT_STEPS)
            drift = step - totp.time_step(now)
            repos.mfa_devices.assign(serial_number, user.user_id, now, step, drift)

    def resync(self, user_name: str, serial_number: str, code1: str, code2: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            device = _require_users_device(repos, user_name, serial_number)
            step = self._consecutive_step(repos, device, code1, code2, RESYNC_WINDOW_STEPS)
            # The device's clock is this far off: later codes are looked for there.
            drift = step - totp.time_step(self._clock.now())
            if not repos.mfa_devices.consume_step(serial_number, step, drift):
                raise InvalidAuthenticationCode()

    def deactivate(self, user_name: str, serial_number: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            _require_users_device(repos, user_name, serial_number)
            repos.mfa_devices.unassign(serial_number)

    def of_user(self, user_name: str, marker: str | None, max_items: int) -> Page[VirtualMFADevice]:
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            devices = repos.mfa_devices.for_user(user.user_id)
        return page_of_sequence(devices, marker, max_items)

    def get(self, user_name: str, serial_number: str) -> VirtualMFADevice:
        with self._tx.read() as repos:
            return _require_users_device(repos, user_name, serial_number, for_update=False)

    # -- one-time codes ------------------------------------------------------------------

    def authenticate(self, user_id: str, serial_number: str, token_code: str) -> datetime:
        """Check an MFA code of a device enabled for the user; the time it authenticated.

        For STS (GetSessionToken, AssumeRole with SerialNumber and TokenCode). The code
        must be the device's for the current time step, give or take one, and newer than
        any code the device accepted before; its step is consumed in the same
        transaction. Every failure is AccessDenied with STS's words: a serial number that
        names no device enabled for this user reads differently from a bad code.
        """
        now = self._clock.now()
        with self._tx.write_uncached() as repos:  # no cache holds the step or drift
            device = repos.mfa_devices.get(serial_number, for_update=True)
            if device is None or device.user is None or device.user.user_id != user_id:
                raise AccessDenied.mfa_device_unknown()
            seed = self._seed(repos, serial_number)
            current = totp.time_step(now)
            step = totp.matching_step(
                seed, token_code, current + device.drift_steps, after=device.last_used_step
            )
            # The drift stays as enable or resync learnt it: a code typed a step late
            # must not move the window for the next one.
            if step is None or not repos.mfa_devices.consume_step(
                serial_number, step, device.drift_steps
            ):
                raise AccessDenied.mfa_code_invalid()
        return now

    def _consecutive_step(
        self,
        repos: Repositories,
        device: VirtualMFADevice,
        code1: str,
        code2: str,
        window: int,
    ) -> int:
        seed = self._seed(repos, device.serial_number)
        step = totp.matching_consecutive_steps(
            seed,
            code1,
            code2,
            totp.time_step(self._clock.now()),
            window=window,
            after=device.last_used_step,
        )
        if step is None:
            raise InvalidAuthenticationCode()
        return step

    def _seed(self, repos: Repositories, serial_number: str) -> bytes:
        sealed = repos.mfa_devices.sealed_seed(serial_number)
        if sealed is None:
            raise NoSuchEntity.mfa_device(serial_number)
        return totp.seed_of_base32(self._box.open(sealed, seed_context(serial_number)))


def _check_serial_number_length(name: str, path: str, serial: str) -> None:
    """The serial number must fit the SerialNumber every later operation takes (256).

    The model bounds the name only below; past this, the device could be created but
    never enabled, tagged or deleted (and its QR code would not hold the URI).
    """
    excess = len(serial) - MFA_SERIAL_NUMBER_LENGTH
    if excess <= 0:
        return
    if len(name) - excess >= 1:
        member, value, limit = "virtualMFADeviceName", name, len(name) - excess
    else:  # no name fits behind this path
        member, value, limit = "path", path, len(path) - (excess - len(name) + 1)
    raise ValidationError.constraint(
        member, f"Member must have length less than or equal to {limit}", value=value
    )


def _require_device(
    repos: Repositories, serial_number: str, *, for_update: bool = False
) -> VirtualMFADevice:
    device = repos.mfa_devices.get(serial_number, for_update=for_update)
    if device is None:
        raise NoSuchEntity.mfa_device(serial_number)
    return device


def _require_users_device(
    repos: Repositories, user_name: str, serial_number: str, *, for_update: bool = True
) -> VirtualMFADevice:
    user = require_user(repos, user_name, for_update=for_update)
    device = _require_device(repos, serial_number, for_update=for_update)
    # A device enabled for someone else reads like one not enabled at all.
    if device.user is None or device.user.user_id != user.user_id:
        raise NoSuchEntity.mfa_device_of_user()
    return device

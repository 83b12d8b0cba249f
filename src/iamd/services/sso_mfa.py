"""MFA for IAM Identity Center users: the instance's setting, users' authenticator apps
(TOTP, as IAM's virtual MFA devices), and the second step of a sign-in.

AWS sets MFA in its console (Settings, Authentication); iamd keeps the two choices the
sign-in pages need: prompt every sign-in (`always`) or never (`never`, the default of an
instance never set), and what a user without a device meets when prompted (`register`:
they register an authenticator app there and then; `block`: they cannot sign in).

A correct password does not sign the user in when MFA is asked: `begin` keeps the
sign-in server-side behind a one-time ticket (stored as its SHA-256 digest, five
minutes, five codes at most), and only `verify` with a right code for that ticket lets
the page go on (approve the device, show the consent page, open a portal session).
Nothing but the ticket leads there, so the MFA form cannot be posted without the
password step. A registration's seed is drawn at `begin`, sealed in the pending row
(bound to the ticket), and becomes a device only when the user types its current code.

Codes are good once: each device keeps the newest time step it accepted, recorded by a
conditional UPDATE in the transaction that checked it (as IAM's devices do). Wrong codes
back off through the sign-in failure ledger, in their own key space (per identity store
and user), as wrong passwords do.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from iamd.auth import totp
from iamd.auth.secret_box import SecretBox
from iamd.clock import Clock
from iamd.errors import PortalResourceNotFoundException, ValidationError
from iamd.model.identity_center import DirectoryUser, Instance
from iamd.services.qr_codes import qr_png
from iamd.services.throttle import FailureLedger
from iamd.store.sql.identity_center_mfa import MfaDeviceRow, PendingSignIn
from iamd.store.transactions import Repositories, Transactions

MODES = ("always", "never")
NO_DEVICE = ("register", "block")
PENDING_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
# The issuer authenticator apps show for the account.
ISSUER = "IAM Identity Center"
# The ledger's key space for codes: no identity store id or account starts with it.
_LEDGER_SPACE = "ic-mfa:"


@dataclass(frozen=True, slots=True)
class MfaSettings:
    mode: str
    no_device: str

    @property
    def required(self) -> bool:
        return self.mode == "always"


NEVER = MfaSettings("never", "register")


@dataclass(frozen=True, slots=True)
class MfaDevice:
    device_id: str
    name: str
    registered: datetime


@dataclass(frozen=True, slots=True)
class Registration:
    """What the registration page shows: the seed, its key URI, the URI's QR code."""

    seed_base32: str = field(repr=False)
    otpauth_uri: str = field(repr=False)
    qr_png: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Challenge:
    """The MFA step of a sign-in: its ticket, and a registration for a user with none."""

    ticket: str = field(repr=False)
    workflow: str
    registration: Registration | None


class MfaBlocked(Exception):
    """MFA is required, the user has no device, and the instance blocks such users."""


@dataclass(frozen=True, slots=True)
class Verified:
    instance_arn: str
    user_id: str
    purpose: str
    context: dict[str, Any]
    workflow: str
    registered: bool  # the code registered the user's first device


@dataclass(frozen=True, slots=True)
class Refused:
    """A code that did not sign the user in. `reason`: wrong | throttled | expired.
    With `ticket_alive`, the same form may be posted again (`registration` is then the
    one to show again, if the step registers a device)."""

    reason: str
    instance_arn: str | None = None
    user_id: str | None = None
    workflow: str | None = None
    ticket_alive: bool = False
    registration: Registration | None = None
    retry_at: datetime | None = None


def ticket_digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8", "replace")).hexdigest()


def _pending_context(digest: str) -> bytes:
    return f"ic-mfa-pending:{digest}".encode()


def _device_context(device_id: str) -> bytes:
    return f"ic-mfa-device:{device_id}".encode()


class SsoMfaAdmin:
    """The administrator's side (no secret needed): the setting and users' devices."""

    def __init__(self, tx: Transactions, clock: Clock) -> None:
        self._tx = tx
        self._clock = clock

    def settings(self, instance_arn: str) -> MfaSettings:
        with self._tx.read() as repos:
            found = repos.identity_center_mfa.settings(instance_arn)
        return NEVER if found is None else MfaSettings(*found)

    def set_settings(self, instance_arn: str, mode: str, no_device: str) -> MfaSettings:
        if mode not in MODES:
            raise ValidationError(f"The MFA mode must be one of {', '.join(MODES)}.")
        if no_device not in NO_DEVICE:
            raise ValidationError(f"The no-device choice must be one of {', '.join(NO_DEVICE)}.")
        with self._tx.write_uncached() as repos:
            if repos.identity_center.instance(instance_arn) is None:
                raise PortalResourceNotFoundException(f"No instance {instance_arn}.")
            repos.identity_center_mfa.set_settings(instance_arn, mode, no_device, self._clock.now())
        return MfaSettings(mode, no_device)

    def devices(self, identity_store_id: str, user_name: str) -> list[MfaDevice]:
        with self._tx.read() as repos:
            user = _require_user(repos, identity_store_id, user_name)
            rows = repos.identity_center_mfa.devices(user.user_id)
        return [MfaDevice(r.device_id, r.name, r.registered) for r in rows]

    def delete_device(self, identity_store_id: str, user_name: str, device_id: str) -> None:
        with self._tx.write_uncached() as repos:
            user = _require_user(repos, identity_store_id, user_name)
            if not repos.identity_center_mfa.delete_device(user.user_id, device_id):
                raise PortalResourceNotFoundException(f"{user_name} has no MFA device {device_id}.")


class SsoMfaService:
    """The sign-in pages' MFA step."""

    def __init__(
        self, tx: Transactions, clock: Clock, box: SecretBox, failures: FailureLedger
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._box = box
        self._failures = failures
        self.admin = SsoMfaAdmin(tx, clock)

    def begin(
        self,
        instance: Instance,
        user: DirectoryUser,
        purpose: str,
        context: dict[str, Any],
        workflow: str | None = None,
    ) -> Challenge | None:
        """After a correct password: None when the instance asks no MFA (the user is
        signed in), else the challenge the page shows. MfaBlocked: the user has no device
        and the instance does not let them register one."""
        settings = self.admin.settings(instance.instance_arn)
        if not settings.required:
            return None
        ticket = secrets.token_urlsafe(32)
        digest = ticket_digest(ticket)
        workflow = workflow or str(uuid.uuid4())
        now = self._clock.now()
        with self._tx.read() as repos:
            has_device = bool(repos.identity_center_mfa.devices(user.user_id))
        registration = None
        sealed = None
        if not has_device:
            if settings.no_device != "register":
                raise MfaBlocked()
            seed = totp.seed_base32(totp.new_seed())
            sealed = self._box.seal(seed, _pending_context(digest))
            registration = _registration(seed, user.user_name, instance.identity_store_id)
        with self._tx.write_uncached() as repos:
            repos.identity_center_mfa.forget_pending(now)
            repos.identity_center_mfa.add_pending(
                PendingSignIn(
                    ticket_digest=digest,
                    instance_arn=instance.instance_arn,
                    user_id=user.user_id,
                    purpose=purpose,
                    context=json.dumps({"workflow": workflow, **context}),
                    seed_sealed=sealed,
                    attempts=0,
                    expires=now + PENDING_LIFETIME,
                )
            )
        return Challenge(ticket, workflow, registration)

    def verify(self, ticket: str, code: str, purpose: str) -> Verified | Refused:
        """The MFA form's code for the sign-in behind `ticket` (of that `purpose`)."""
        now = self._clock.now()
        digest = ticket_digest(ticket)
        with self._tx.write_uncached() as repos:  # no cache holds steps or tickets
            mfa = repos.identity_center_mfa
            pending = mfa.pending(digest) if ticket else None
            if pending is None or pending.expires <= now or pending.purpose != purpose:
                return Refused("expired")
            context = json.loads(pending.context)
            workflow = str(context.pop("workflow", ""))
            instance = repos.identity_center.instance(pending.instance_arn)
            store = instance.identity_store_id if instance else ""
            user = repos.identity_center.user(store, pending.user_id) if instance else None
            if user is None or user.status != "ENABLED":
                mfa.delete_pending(digest)
                return Refused("expired")

            def refused(reason: str, retry_at: datetime | None = None) -> Refused:
                alive = pending.attempts + 1 < MAX_ATTEMPTS
                if alive:
                    mfa.count_attempt(digest)
                else:
                    # Too many codes for one password: the sign-in starts over.
                    mfa.delete_pending(digest)
                return Refused(
                    reason,
                    pending.instance_arn,
                    pending.user_id,
                    workflow,
                    alive,
                    self._registration_of(pending, user) if alive else None,
                    retry_at,
                )

            retry = self._failures.admit(_LEDGER_SPACE + store, pending.user_id, now)
            if retry is not None:
                return refused("throttled", retry)
            current = totp.time_step(now)
            registered = False
            if pending.seed_sealed is not None:
                seed_text = self._box.open(pending.seed_sealed, _pending_context(digest))
                step = totp.matching_step(totp.seed_of_base32(seed_text), code, current)
                if step is None:
                    return refused("wrong")
                device_id = str(uuid.uuid4())
                mfa.add_device(
                    MfaDeviceRow(
                        device_id,
                        pending.user_id,
                        "Authenticator app",
                        self._box.seal(seed_text, _device_context(device_id)),
                        now,
                        step,
                    )
                )
                registered = True
            elif not self._code_of_a_device(repos, pending.user_id, code, current):
                return refused("wrong")
            mfa.delete_pending(digest)
        self._failures.forgive(_LEDGER_SPACE + store, pending.user_id)
        return Verified(
            pending.instance_arn, pending.user_id, purpose, context, workflow, registered
        )

    def _code_of_a_device(self, repos: Repositories, user_id: str, code: str, current: int) -> bool:
        for device in repos.identity_center_mfa.devices(user_id):
            seed = totp.seed_of_base32(
                self._box.open(device.seed_sealed, _device_context(device.device_id))
            )
            step = totp.matching_step(seed, code, current, after=device.last_used_step)
            if step is not None and repos.identity_center_mfa.consume_step(device.device_id, step):
                return True
        return False

    def _registration_of(self, pending: PendingSignIn, user: DirectoryUser) -> Registration | None:
        if pending.seed_sealed is None:
            return None
        seed = self._box.open(pending.seed_sealed, _pending_context(pending.ticket_digest))
        return _registration(seed, user.user_name, user.identity_store_id)


def _registration(seed: str, user_name: str, store: str) -> Registration:
    issuer = quote(ISSUER, safe="")
    label = f"{issuer}:{quote(user_name, safe='@')}@{quote(store, safe='')}"
    uri = f"otpauth://totp/{label}?secret={seed}&issuer={issuer}"
    return Registration(seed, uri, qr_png(uri))


def _require_user(repos: Repositories, identity_store_id: str, user_name: str) -> DirectoryUser:
    user = repos.identity_center.user_named(identity_store_id, user_name)
    if user is None:
        raise PortalResourceNotFoundException(f"No user {user_name} in {identity_store_id}.")
    return user

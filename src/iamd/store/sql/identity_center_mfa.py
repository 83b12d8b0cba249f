"""Rows of Identity Center's MFA and portal sessions: the instance's setting, users'
authenticator apps (sealed seeds), sign-ins waiting for their code, and the access
portal's browser sessions. Tickets and session cookies arrive here as digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from iamd.store.schema import ic_mfa_devices, ic_mfa_pending, ic_mfa_settings, ic_portal_sessions


@dataclass(frozen=True, slots=True)
class MfaDeviceRow:
    device_id: str
    user_id: str
    name: str
    seed_sealed: bytes
    registered: datetime
    last_used_step: int | None


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    ticket_digest: str
    instance_arn: str
    user_id: str
    purpose: str
    context: str  # JSON: what the sign-in goes on to once the code is right
    seed_sealed: bytes | None  # a registration's seed, until the user confirms it
    attempts: int
    expires: datetime


@dataclass(frozen=True, slots=True)
class PortalSessionRow:
    session_digest: str
    instance_arn: str
    user_id: str
    family: str
    created: datetime
    last_seen: datetime
    mfa: bool


_CONSUME = (
    update(ic_mfa_devices)
    .where(ic_mfa_devices.c.device_id == bindparam("device"))
    .where(
        ic_mfa_devices.c.last_used_step.is_(None)
        | (ic_mfa_devices.c.last_used_step < bindparam("step"))
    )
    .values(last_used_step=bindparam("step"))
)


class MfaRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- the instance's setting --------------------------------------------------------

    def settings(self, instance_arn: str) -> tuple[str, str] | None:
        """(mode, no_device) of the instance, or None when never set."""
        row = self._conn.execute(
            select(ic_mfa_settings).where(ic_mfa_settings.c.instance_arn == instance_arn)
        ).first()
        return None if row is None else (row.mode, row.no_device)

    def set_settings(self, instance_arn: str, mode: str, no_device: str, when: datetime) -> None:
        c = ic_mfa_settings.c
        done = self._conn.execute(
            update(ic_mfa_settings)
            .where(c.instance_arn == instance_arn)
            .values(mode=mode, no_device=no_device, updated=when)
        )
        if not done.rowcount:
            self._conn.execute(
                insert(ic_mfa_settings).values(
                    instance_arn=instance_arn, mode=mode, no_device=no_device, updated=when
                )
            )

    # -- devices -----------------------------------------------------------------------

    def devices(self, user_id: str) -> list[MfaDeviceRow]:
        rows = self._conn.execute(
            select(ic_mfa_devices)
            .where(ic_mfa_devices.c.user_id == user_id)
            .order_by(ic_mfa_devices.c.registered, ic_mfa_devices.c.device_id)
        )
        return [
            MfaDeviceRow(
                r.device_id, r.user_id, r.name, r.seed_sealed, r.registered, r.last_used_step
            )
            for r in rows
        ]

    def add_device(self, device: MfaDeviceRow) -> None:
        self._conn.execute(
            insert(ic_mfa_devices).values(
                device_id=device.device_id,
                user_id=device.user_id,
                name=device.name,
                seed_sealed=device.seed_sealed,
                registered=device.registered,
                last_used_step=device.last_used_step,
            )
        )

    def consume_step(self, device_id: str, step: int) -> bool:
        """Record `step` as the device's newest, unless one as new was recorded first:
        the condition is part of the UPDATE, so of two racing uses only one wins."""
        return self._conn.execute(_CONSUME, {"device": device_id, "step": step}).rowcount == 1

    def delete_device(self, user_id: str, device_id: str) -> bool:
        c = ic_mfa_devices.c
        done = self._conn.execute(
            delete(ic_mfa_devices).where(c.user_id == user_id).where(c.device_id == device_id)
        )
        return bool(done.rowcount)

    def delete_user(self, user_id: str) -> None:
        """A deleted user's devices, pending sign-ins and portal sessions."""
        self._conn.execute(delete(ic_mfa_devices).where(ic_mfa_devices.c.user_id == user_id))
        self._conn.execute(delete(ic_mfa_pending).where(ic_mfa_pending.c.user_id == user_id))
        self._conn.execute(
            delete(ic_portal_sessions).where(ic_portal_sessions.c.user_id == user_id)
        )

    # -- pending sign-ins --------------------------------------------------------------

    def add_pending(self, pending: PendingSignIn) -> None:
        self._conn.execute(
            insert(ic_mfa_pending).values(
                ticket_digest=pending.ticket_digest,
                instance_arn=pending.instance_arn,
                user_id=pending.user_id,
                purpose=pending.purpose,
                context=pending.context,
                seed_sealed=pending.seed_sealed,
                attempts=pending.attempts,
                expires=pending.expires,
            )
        )

    def pending(self, ticket_digest: str) -> PendingSignIn | None:
        row = self._conn.execute(
            select(ic_mfa_pending)
            .where(ic_mfa_pending.c.ticket_digest == ticket_digest)
            .with_for_update()
        ).first()
        if row is None:
            return None
        return PendingSignIn(
            row.ticket_digest,
            row.instance_arn,
            row.user_id,
            row.purpose,
            row.context,
            row.seed_sealed,
            row.attempts,
            row.expires,
        )

    def count_attempt(self, ticket_digest: str) -> None:
        c = ic_mfa_pending.c
        self._conn.execute(
            update(ic_mfa_pending)
            .where(c.ticket_digest == ticket_digest)
            .values(attempts=c.attempts + 1)
        )

    def delete_pending(self, ticket_digest: str) -> bool:
        done = self._conn.execute(
            delete(ic_mfa_pending).where(ic_mfa_pending.c.ticket_digest == ticket_digest)
        )
        return bool(done.rowcount)

    def forget_pending(self, before: datetime) -> None:
        self._conn.execute(delete(ic_mfa_pending).where(ic_mfa_pending.c.expires < before))

    # -- portal sessions ---------------------------------------------------------------

    def add_session(self, session: PortalSessionRow) -> None:
        self._conn.execute(
            insert(ic_portal_sessions).values(
                session_digest=session.session_digest,
                instance_arn=session.instance_arn,
                user_id=session.user_id,
                family=session.family,
                created=session.created,
                last_seen=session.last_seen,
                mfa=session.mfa,
            )
        )

    def session(self, session_digest: str) -> PortalSessionRow | None:
        row = self._conn.execute(
            select(ic_portal_sessions).where(ic_portal_sessions.c.session_digest == session_digest)
        ).first()
        if row is None:
            return None
        return PortalSessionRow(
            row.session_digest,
            row.instance_arn,
            row.user_id,
            row.family,
            row.created,
            row.last_seen,
            bool(row.mfa),
        )

    def touch_session(self, session_digest: str, when: datetime) -> None:
        self._conn.execute(
            update(ic_portal_sessions)
            .where(ic_portal_sessions.c.session_digest == session_digest)
            .values(last_seen=when)
        )

    def delete_session(self, session_digest: str) -> None:
        self._conn.execute(
            delete(ic_portal_sessions).where(ic_portal_sessions.c.session_digest == session_digest)
        )

    def forget_sessions(self, last_seen_before: datetime, created_before: datetime) -> None:
        c = ic_portal_sessions.c
        self._conn.execute(
            delete(ic_portal_sessions).where(
                (c.last_seen < last_seen_before) | (c.created < created_before)
            )
        )

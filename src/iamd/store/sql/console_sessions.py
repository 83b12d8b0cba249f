"""The web console's sessions and pending MFA sign-ins, by the hash of their ids.

Not account-scoped: a cookie names one session whatever the account, and the row says
which account it acts in. Nothing here is cached, so these writes go through
`Transactions.write_uncached` and drop no cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, insert, or_, select, update

from iamd.store.schema import console_pending_sign_ins, console_sessions


@dataclass(frozen=True, slots=True)
class SessionRow:
    account_id: str
    user_id: str
    user_name: str
    access_key_id: str
    csrf: str
    issued: int
    expires: int
    last_seen: int
    mfa_authenticated: int | None
    role: RoleRow | None = None
    source_ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class RoleRow:
    access_key_id: str
    session_token: str = field(repr=False)
    role_arn: str = ""
    label: str = ""
    color: str = ""


@dataclass(frozen=True, slots=True)
class PendingRow:
    account: str
    account_id: str
    user_id: str
    user_name: str
    user_arn: str
    started: int
    attempts: int


class ConsoleSessionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, token_hash: bytes, row: SessionRow) -> None:
        self._conn.execute(
            insert(console_sessions).values(
                token_hash=token_hash,
                account_id=row.account_id,
                user_id=row.user_id,
                user_name=row.user_name,
                access_key_id=row.access_key_id,
                csrf=row.csrf,
                issued=row.issued,
                expires=row.expires,
                last_seen=row.last_seen,
                mfa_authenticated=row.mfa_authenticated,
                source_ip=row.source_ip,
                user_agent=row.user_agent,
            )
        )

    def get(self, token_hash: bytes) -> SessionRow | None:
        found = self._conn.execute(
            select(
                console_sessions.c.account_id,
                console_sessions.c.user_id,
                console_sessions.c.user_name,
                console_sessions.c.access_key_id,
                console_sessions.c.csrf,
                console_sessions.c.issued,
                console_sessions.c.expires,
                console_sessions.c.last_seen,
                console_sessions.c.mfa_authenticated,
                console_sessions.c.role_access_key_id,
                console_sessions.c.role_session_token,
                console_sessions.c.role_arn,
                console_sessions.c.role_label,
                console_sessions.c.role_color,
            ).where(console_sessions.c.token_hash == token_hash)
        ).one_or_none()
        if found is None:
            return None
        role = None
        if found[9] is not None and found[10] is not None:
            role = RoleRow(found[9], found[10], found[11] or "", found[12] or "", found[13] or "")
        return SessionRow(*found[:9], role=role)

    def of_user(self, account_id: str, user_id: str) -> list[tuple[bytes, SessionRow]]:
        """A user's sessions (those that ended by themselves too), oldest first."""
        found = self._conn.execute(
            select(
                console_sessions.c.token_hash,
                console_sessions.c.issued,
                console_sessions.c.expires,
                console_sessions.c.last_seen,
                console_sessions.c.mfa_authenticated,
                console_sessions.c.source_ip,
                console_sessions.c.user_agent,
                console_sessions.c.user_name,
            )
            .where(
                console_sessions.c.account_id == account_id,
                console_sessions.c.user_id == user_id,
            )
            .order_by(console_sessions.c.issued)
        ).all()
        return [
            (
                r[0],
                SessionRow(
                    account_id=account_id,
                    user_id=user_id,
                    user_name=r[7],
                    access_key_id="",
                    csrf="",
                    issued=r[1],
                    expires=r[2],
                    last_seen=r[3],
                    mfa_authenticated=r[4],
                    source_ip=r[5] or "",
                    user_agent=r[6] or "",
                ),
            )
            for r in found
        ]

    def set_role(self, token_hash: bytes, role: RoleRow | None) -> None:
        """Switch the session to `role`'s session, or back to the user (None)."""
        self._conn.execute(
            update(console_sessions)
            .where(console_sessions.c.token_hash == token_hash)
            .values(
                role_access_key_id=role.access_key_id if role else None,
                role_session_token=role.session_token if role else None,
                role_arn=role.role_arn if role else None,
                role_label=role.label if role else None,
                role_color=role.color if role else None,
            )
        )

    def touch(self, token_hash: bytes, last_seen: int) -> None:
        self._conn.execute(
            update(console_sessions)
            .where(console_sessions.c.token_hash == token_hash)
            .values(last_seen=last_seen)
        )

    def remove(self, token_hash: bytes) -> None:
        self._conn.execute(
            delete(console_sessions).where(console_sessions.c.token_hash == token_hash)
        )

    def remove_ended(self, now: int, idle_before: int) -> None:
        """Sessions past their absolute end or idle since before `idle_before`."""
        self._conn.execute(
            delete(console_sessions).where(
                or_(console_sessions.c.expires <= now, console_sessions.c.last_seen <= idle_before)
            )
        )

    # -- pending MFA sign-ins ----------------------------------------------------------

    def add_pending(self, ticket_hash: bytes, row: PendingRow) -> None:
        self._conn.execute(
            insert(console_pending_sign_ins).values(
                ticket_hash=ticket_hash,
                account=row.account,
                account_id=row.account_id,
                user_id=row.user_id,
                user_name=row.user_name,
                user_arn=row.user_arn,
                started=row.started,
                attempts=row.attempts,
            )
        )

    def take_attempt(
        self, ticket_hash: bytes, max_attempts: int, started_after: int
    ) -> PendingRow | None:
        """The pending sign-in with one more attempt counted, atomically; None when it
        is unknown, started at or before `started_after`, or out of attempts."""
        counted = self._conn.execute(
            update(console_pending_sign_ins)
            .where(
                console_pending_sign_ins.c.ticket_hash == ticket_hash,
                console_pending_sign_ins.c.attempts < max_attempts,
                console_pending_sign_ins.c.started > started_after,
            )
            .values(attempts=console_pending_sign_ins.c.attempts + 1)
        )
        if counted.rowcount != 1:
            return None
        found = self._conn.execute(
            select(
                console_pending_sign_ins.c.account,
                console_pending_sign_ins.c.account_id,
                console_pending_sign_ins.c.user_id,
                console_pending_sign_ins.c.user_name,
                console_pending_sign_ins.c.user_arn,
                console_pending_sign_ins.c.started,
                console_pending_sign_ins.c.attempts,
            ).where(console_pending_sign_ins.c.ticket_hash == ticket_hash)
        ).one()
        return PendingRow(*found)

    def remove_pending(self, ticket_hash: bytes) -> None:
        self._conn.execute(
            delete(console_pending_sign_ins).where(
                console_pending_sign_ins.c.ticket_hash == ticket_hash
            )
        )

    def remove_stale_pending(self, started_before: int) -> None:
        self._conn.execute(
            delete(console_pending_sign_ins).where(
                console_pending_sign_ins.c.started <= started_before
            )
        )

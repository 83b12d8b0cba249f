"""The web console's sessions, kept server-side: the browser holds only a random id.

The cookie carries 256 random bits; the database keeps their SHA-256, never the id, so a
copy of the database (or a backup) cannot be replayed as a cookie. Every node shares the
rows, and a restart signs nobody out. A session ends at sign-out, after `idle_seconds`
without a request (counted to the minute: a session's last request is written at most
once a minute), `absolute_seconds` after sign-in, whichever comes first; whoever uses the
session loads its user again from the database on each request (http/console/front.py),
so deleting the user ends it too.

A sign-in that is half done (the password was right, the MFA code is still to come) is a
pending row for a few minutes and a few codes at most; each code counts atomically, so
racing posts cannot try more.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from iamd.auth.session_tokens import SessionClaims, SessionKind
from iamd.store.sql.console_sessions import PendingRow, RoleRow, SessionRow
from iamd.store.transactions import Transactions

IDLE_SECONDS = 3600
ABSOLUTE_SECONDS = 12 * 3600
PENDING_SECONDS = 300
#: Wrong MFA codes a pending sign-in takes before the password must be given again.
PENDING_ATTEMPTS = 3
#: How stale a session's last-seen time may get before a request writes it again.
_TOUCH_SECONDS = 60
_MAX_TOKEN = 128


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    account_id: str
    user_name: str
    # The session as the policy engine sees it (kind CONSOLE, MFA time).
    claims: SessionClaims
    # The synchronizer token every form of this session carries.
    csrf: str = field(repr=False)
    # The role session it switched to (switch role), acting as that role until it
    # switches back or the role session expires.
    role: RoleRow | None = None


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    account: str  # as typed: the id or the alias
    account_id: str
    user_name: str
    user_id: str
    user_arn: str
    started: int


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One session in its user's sessions list; `handle` names it in a form (a
    digest of the stored digest: neither the cookie nor the row's key)."""

    handle: str
    issued: int
    last_seen: int
    source_ip: str
    user_agent: str
    mfa: bool


def handle_of_hash(key: bytes) -> str:
    return hashlib.sha256(b"console-session-handle:" + key).hexdigest()[:32]


def handle_of(token: str) -> str:
    """The handle of the session the cookie `token` names."""
    return handle_of_hash(_digest(token))


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class ConsoleSessions:
    def __init__(
        self,
        tx: Transactions,
        idle_seconds: int = IDLE_SECONDS,
        absolute_seconds: int = ABSOLUTE_SECONDS,
    ) -> None:
        self._tx = tx
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds

    def open(
        self,
        account_id: str,
        user_name: str,
        user_id: str,
        access_key_id: str,
        mfa_authenticated: int | None,
        now: datetime,
        source_ip: str = "",
        user_agent: str = "",
    ) -> tuple[str, ConsoleSession]:
        """A new session; the cookie value that names it, and the session (with where
        and with what it signed in, for the user's sessions list)."""
        token = secrets.token_urlsafe(32)
        issued = _epoch(now)
        row = SessionRow(
            account_id=account_id,
            user_id=user_id,
            user_name=user_name,
            access_key_id=access_key_id,
            csrf=secrets.token_urlsafe(24),
            issued=issued,
            expires=issued + self.absolute_seconds,
            last_seen=issued,
            mfa_authenticated=mfa_authenticated,
            source_ip=source_ip[:64],
            user_agent=user_agent[:512],
        )
        with self._tx.write_uncached() as repos:
            # Sign-ins sweep the sessions that ended by themselves.
            repos.console_sessions.remove_ended(issued, issued - self.idle_seconds)
            repos.console_sessions.add(_digest(token), row)
        return token, _session(row)

    def find(self, token: str, now: datetime) -> ConsoleSession | None:
        """The open session `token` names; None when unknown or timed out."""
        if not token or len(token) > _MAX_TOKEN:
            return None
        key = _digest(token)
        moment = _epoch(now)
        with self._tx.read() as repos:
            row = repos.console_sessions.get(key)
        if row is None:
            return None
        if moment - row.last_seen >= self.idle_seconds or moment >= row.expires:
            self.end(token)
            return None
        if moment - row.last_seen >= _TOUCH_SECONDS:
            with self._tx.write_uncached() as repos:
                repos.console_sessions.touch(key, moment)
        return _session(row)

    def of_user(self, account_id: str, user_id: str, now: datetime) -> list[SessionInfo]:
        """The user's open sessions, oldest first."""
        moment = _epoch(now)
        with self._tx.read() as repos:
            found = repos.console_sessions.of_user(account_id, user_id)
        return [
            SessionInfo(
                handle_of_hash(key),
                row.issued,
                row.last_seen,
                row.source_ip,
                row.user_agent,
                row.mfa_authenticated is not None,
            )
            for key, row in found
            if moment - row.last_seen < self.idle_seconds and moment < row.expires
        ]

    def end_of_user(
        self, account_id: str, user_id: str, *, handle: str = "", keep: str = ""
    ) -> int:
        """End the user's session `handle`, or (no handle) all its sessions but the one
        the cookie `keep` names; how many ended."""
        kept = _digest(keep) if keep else b""
        ended = 0
        with self._tx.write_uncached() as repos:
            for key, _ in repos.console_sessions.of_user(account_id, user_id):
                if key == kept or (
                    handle and not secrets.compare_digest(handle_of_hash(key), handle)
                ):
                    continue
                repos.console_sessions.remove(key)
                ended += 1
        return ended

    def switch_role(
        self,
        token: str,
        access_key_id: str,
        session_token: str,
        role_arn: str,
        label: str,
        color: str,
    ) -> None:
        """Act as the role session (`access_key_id`, `session_token`) from the next
        request on, under a banner of `label` in `color`."""
        role = RoleRow(access_key_id, session_token, role_arn, label, color)
        with self._tx.write_uncached() as repos:
            repos.console_sessions.set_role(_digest(token), role)

    def switch_back(self, token: str) -> None:
        """Act as the user again."""
        with self._tx.write_uncached() as repos:
            repos.console_sessions.set_role(_digest(token), None)

    def end(self, token: str) -> None:
        if not token or len(token) > _MAX_TOKEN:
            return
        with self._tx.write_uncached() as repos:
            repos.console_sessions.remove(_digest(token))

    def begin_pending(
        self,
        account: str,
        account_id: str,
        user_name: str,
        user_id: str,
        user_arn: str,
        now: datetime,
    ) -> str:
        ticket = secrets.token_urlsafe(32)
        moment = _epoch(now)
        row = PendingRow(account, account_id, user_id, user_name, user_arn, moment, 0)
        with self._tx.write_uncached() as repos:
            repos.console_sessions.remove_stale_pending(moment - PENDING_SECONDS)
            repos.console_sessions.add_pending(_digest(ticket), row)
        return ticket

    def pending(self, ticket: str, now: datetime) -> PendingSignIn | None:
        """The pending sign-in `ticket` names, counted as one more attempt; None when
        unknown, expired or out of attempts."""
        if not ticket or len(ticket) > _MAX_TOKEN:
            return None
        with self._tx.write_uncached() as repos:
            row = repos.console_sessions.take_attempt(
                _digest(ticket), PENDING_ATTEMPTS, _epoch(now) - PENDING_SECONDS
            )
        if row is None:
            return None
        return PendingSignIn(
            row.account, row.account_id, row.user_name, row.user_id, row.user_arn, row.started
        )

    def end_pending(self, ticket: str) -> None:
        with self._tx.write_uncached() as repos:
            repos.console_sessions.remove_pending(_digest(ticket))


def _session(row: SessionRow) -> ConsoleSession:
    claims = SessionClaims(
        access_key_id=row.access_key_id,
        secret_access_key="",
        kind=SessionKind.CONSOLE,
        principal_id=row.user_id,
        issued=row.issued,
        expires=row.expires,
        mfa_authenticated=row.mfa_authenticated,
    )
    return ConsoleSession(row.account_id, row.user_name, claims, row.csrf, row.role)

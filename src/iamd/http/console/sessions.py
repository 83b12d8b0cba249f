"""Console sessions, kept server-side: the browser holds only a random opaque id.

The cookie carries 256 random bits; the store keeps their SHA-256, never the id itself,
so a copy of the store (or of a log of it) cannot be replayed as a cookie. A session
ends at sign-out, after `idle_seconds` without a request, and `absolute_seconds` after
sign-in, whichever comes first; the user it belongs to is loaded again from the database
on each request (http/console/front.py), so deleting the user ends it too.

Sessions live in this process's memory: a restart signs everyone out, and several nodes
behind one name need sticky sessions (docs/console.md). A sign-in that is half done
(the password was right, the MFA code is still to come) is a `PendingSignIn` here too,
for a few minutes and a few codes at most.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from iamd.auth.session_tokens import SessionClaims

IDLE_SECONDS = 3600
ABSOLUTE_SECONDS = 12 * 3600
PENDING_SECONDS = 300
#: Wrong MFA codes a pending sign-in takes before the password must be given again.
PENDING_ATTEMPTS = 3
MAX_SESSIONS = 20_000


@dataclass(slots=True)
class ConsoleSession:
    account_id: str
    user_name: str
    # The session as the policy engine sees it (kind CONSOLE, MFA time).
    claims: SessionClaims
    # The synchronizer token every form of this session carries.
    csrf: str = field(repr=False)
    last_seen: int = 0


@dataclass(slots=True)
class PendingSignIn:
    account: str  # as typed: the id or the alias
    account_id: str
    user_name: str
    user_id: str
    user_arn: str
    started: int
    attempts: int = 0


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class ConsoleSessions:
    """Open sessions and pending sign-ins by the hash of their ids; thread-safe."""

    def __init__(
        self,
        idle_seconds: int = IDLE_SECONDS,
        absolute_seconds: int = ABSOLUTE_SECONDS,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds
        self._max = max_sessions
        self._lock = threading.Lock()
        self._sessions: OrderedDict[bytes, ConsoleSession] = OrderedDict()
        self._pending: OrderedDict[bytes, PendingSignIn] = OrderedDict()

    def open(self, session: ConsoleSession, now: datetime) -> str:
        """Store `session`; the cookie value that names it."""
        token = secrets.token_urlsafe(32)
        session.last_seen = _epoch(now)
        with self._lock:
            self._sessions[_digest(token)] = session
            # The oldest sessions go first when the bound is reached.
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)
        return token

    def find(self, token: str, now: datetime) -> ConsoleSession | None:
        """The open session `token` names, touched; None when unknown or timed out."""
        if not token or len(token) > 128:
            return None
        key = _digest(token)
        moment = _epoch(now)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if moment - session.last_seen >= self.idle_seconds or moment >= session.claims.expires:
                del self._sessions[key]
                return None
            session.last_seen = moment
            self._sessions.move_to_end(key)
            return session

    def end(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(_digest(token), None)

    def begin_pending(self, pending: PendingSignIn) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._pending[_digest(token)] = pending
            while len(self._pending) > self._max:
                self._pending.popitem(last=False)
        return token

    def pending(self, token: str, now: datetime) -> PendingSignIn | None:
        """The pending sign-in `token` names, counted as one more attempt; None when
        unknown, expired or out of attempts (then it is dropped)."""
        if not token or len(token) > 128:
            return None
        key = _digest(token)
        with self._lock:
            pending = self._pending.get(key)
            if pending is None:
                return None
            if _epoch(now) - pending.started >= PENDING_SECONDS or (
                pending.attempts >= PENDING_ATTEMPTS
            ):
                del self._pending[key]
                return None
            pending.attempts += 1
            return pending

    def end_pending(self, token: str) -> None:
        with self._lock:
            self._pending.pop(_digest(token), None)

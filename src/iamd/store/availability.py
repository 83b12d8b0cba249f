"""Telling a database that is away, or a bounded wait that ran out, from a bug.

Both become `ServiceUnavailable` (503), which the SDKs retry. An outage (no connection,
the server shutting down or refusing connections) is logged once when it starts and
once when it ends, with how many requests it refused, never a traceback per request:
while PostgreSQL restarts, every request fails the same way and one line says why.
A wait that ran out (`lock_timeout`, `statement_timeout`, a session ended by
`idle_in_transaction_session_timeout`, a serialization failure, SQLite's busy timeout)
is not an outage; it is logged at most once per `CONTENTION_LOG_SECONDS`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from sqlalchemy import exc as sa_exc

log = logging.getLogger("iamd.database")

# PostgreSQL SQLSTATEs of a wait that ran out or a transaction the server gave up:
# lock_not_available (lock_timeout), query_canceled (statement_timeout),
# idle_in_transaction_session_timeout, serialization_failure, deadlock_detected.
_GAVE_UP = frozenset({"55P03", "57014", "25P03", "40001", "40P01"})
CONTENTION_LOG_SECONDS = 10.0


def classify(error: BaseException) -> str | None:
    """'outage', 'contention', or None for an error that is not the database's state."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free
        return "contention"
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return None
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        text = str(original)
        return "contention" if "locked" in text or "busy" in text else None
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate in _GAVE_UP:
        return "contention"
    # Anything else psycopg calls operational (connection refused or lost, the server
    # shutting down, too many connections) or a closed connection: the database is away.
    return "outage"


def describe(error: BaseException) -> str:
    """One line about the error, without the statement or its parameters."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [""])[0]
    return f"{type(original).__name__}: {first_line[:200]}"


class DatabaseHealth:
    """Whether the database answers, as the requests find out; logs the changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._refused = 0
        self._contention_logged = 0.0
        self._contention_unlogged = 0

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def failed(self, kind: str, error: BaseException) -> None:
        with self._lock:
            if kind == "outage":
                self._refused += 1
                if self._down_since is None:
                    self._down_since = time.monotonic()
                    log.error(
                        "database unreachable (%s); requests answer ServiceUnavailable "
                        "until it is back",
                        describe(error),
                    )
                return
            self._contention_unlogged += 1
            now = time.monotonic()
            if now - self._contention_logged >= CONTENTION_LOG_SECONDS:
                log.warning(
                    "%d database operation(s) gave up waiting and answered "
                    "ServiceUnavailable (last: %s)",
                    self._contention_unlogged,
                    describe(error),
                )
                self._contention_logged = now
                self._contention_unlogged = 0

    def succeeded(self) -> None:
        if not self.is_down:  # the common case: no lock taken
            return
        with self._lock:
            since, self._down_since = self._down_since, None
            if since is None:  # another thread logged the end
                return
            log.warning(
                "database reachable again after %.1f s (%d operation(s) refused meanwhile)",
                time.monotonic() - since,
                self._refused,
            )
            self._refused = 0

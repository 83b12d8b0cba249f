"""Engine set-up and transactions for SQLite and PostgreSQL.

`Database.read()` opens a read transaction and `Database.write()` a write transaction.
On SQLite a write transaction starts with `BEGIN IMMEDIATE`, which takes the database's
write lock up front: two writers never interleave, so a count-then-insert quota check
inside one is race-free. On PostgreSQL writers lock the parent row they check
(`SELECT ... FOR UPDATE`), which the repositories do. SQLite runs with WAL and
`synchronous=FULL` so that an acknowledged write survives a power loss.

On SQLite the writers of one process also queue on a lock of the process before `BEGIN
IMMEDIATE`. SQLite's own wait for its write lock polls, sleeping 1, 2, 5 ... up to 100 ms
between tries, so under concurrent writes a waiting writer slept long after the lock was
free (a p99 of 137 ms at four connections); a lock of the process hands over at once.
SQLite's wait still covers other processes (`iamd` CLI commands, several workers).

Every wait on PostgreSQL is bounded (`DatabaseTimeouts`, set on each new connection):
a lock (`lock_timeout`), a statement (`statement_timeout`), a transaction left open by
a client that stopped (`idle_in_transaction_session_timeout`, which ends its session and
frees its locks), connecting (`connect_timeout`) and a peer that vanished (TCP
keepalives). A database that is away or a wait that ran out raises `ServiceUnavailable`
(`store/availability.py`); the outage is logged once.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from iamd.errors import ServiceUnavailable
from iamd.store.availability import DatabaseHealth, classify

_WRITE_OPTION = "iamd_write"
# The tables a write transaction's statements wrote, in its connection's `info`.
_WRITTEN = "iamd_written"
#: In the written tables when a statement's target could not be read: every table.
EVERY_TABLE = "*"
_DML = re.compile(
    r'\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)"?',
    re.IGNORECASE,
)
# Statements that write nothing (SQLAlchemy's and ours; a SELECT ... FOR UPDATE too).
_NOT_WRITING = ("SELECT", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")
_SQLITE_BUSY_SECONDS = 30


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """PostgreSQL's bounds on waiting, in seconds (0 switches one off)."""

    # A write waiting for a row or advisory lock another transaction holds.
    lock_seconds: float = 2.0
    # Any one statement; the slowest iamd runs (the credential report's) take well under.
    statement_seconds: float = 30.0
    # A transaction whose client sent nothing for this long (a stopped or stalled node)
    # is ended by the server, and its locks freed.
    idle_in_transaction_seconds: float = 5.0
    connect_seconds: int = 5
    # TCP keepalives: a half-open connection is noticed after about idle + 3 x interval.
    keepalive_idle_seconds: int = 10
    keepalive_interval_seconds: int = 3

    def settings(self) -> dict[str, str]:
        """The session settings, as PostgreSQL reads them (milliseconds)."""
        return {
            "lock_timeout": _milliseconds(self.lock_seconds),
            "statement_timeout": _milliseconds(self.statement_seconds),
            "idle_in_transaction_session_timeout": _milliseconds(self.idle_in_transaction_seconds),
        }


def _milliseconds(seconds: float) -> str:
    return str(round(seconds * 1000))


class Database:
    """The one handle on the database a process holds."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 8,
        timeouts: DatabaseTimeouts | None = None,
        application_name: str = "iamd",
        cross_process_writers: bool = False,
    ) -> None:
        self.url = _normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.timeouts = timeouts or DatabaseTimeouts()
        self.health = DatabaseHealth()
        # Reentrant: a write nested in a write on one thread reaches SQLite's own wait
        # (and its timeout) as before, rather than hanging here.
        self._sqlite_writers: threading.RLock | None = None
        self._writers_file: _WritersFile | None = None
        if self.is_sqlite:
            self._sqlite_writers = threading.RLock()
            database_file = make_url(self.url).database
            if cross_process_writers and database_file and database_file != ":memory:":
                self._writers_file = _WritersFile(database_file + "-writers.lock")
            self.engine: Engine = create_engine(
                self.url,
                poolclass=QueuePool,
                pool_size=pool_size,
                max_overflow=4,
                connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_SECONDS},
            )
            event.listen(self.engine, "connect", _configure_sqlite_connection)
            event.listen(self.engine, "begin", _begin_sqlite_transaction)
        else:
            t = self.timeouts
            self.engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=4,
                pool_pre_ping=True,
                # A request never waits long for a pooled connection either.
                pool_timeout=max(t.lock_seconds, 1.0),
                connect_args={
                    "connect_timeout": t.connect_seconds,
                    "application_name": application_name,
                    "keepalives": 1,
                    "keepalives_idle": t.keepalive_idle_seconds,
                    "keepalives_interval": t.keepalive_interval_seconds,
                    "keepalives_count": 3,
                },
            )
            settings = t.settings()
            event.listen(
                self.engine,
                "connect",
                lambda dbapi_connection, _record: _configure_postgresql_connection(
                    dbapi_connection, settings
                ),
            )

        event.listen(self.engine, "before_cursor_execute", _note_written_table)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._available(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._writer_turn(), self._available(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            conn.info[_WRITTEN] = set()
            try:
                with conn.begin():
                    yield conn
            finally:
                # `info` outlives the checkout (it is the pooled connection's).
                conn.info.pop(_WRITTEN, None)

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        writers = self._sqlite_writers
        if writers is None:
            yield
            return
        # The same bound as SQLite's own wait (its busy timeout).
        if not writers.acquire(timeout=_SQLITE_BUSY_SECONDS):
            raise ServiceUnavailable()
        try:
            if self._writers_file is None:
                yield
            else:
                with self._writers_file.held():
                    yield
        finally:
            writers.release()

    @contextmanager
    def _available(self) -> Iterator[None]:
        """Turn the database's absence, or a wait that ran out, into ServiceUnavailable."""
        try:
            yield
        except (sa_exc.DBAPIError, sa_exc.TimeoutError) as error:
            kind = classify(error)
            if kind is None:
                raise
            self.health.failed(kind, error)
            # Logged (once) above; the chain would only repeat it on every request.
            raise ServiceUnavailable() from None
        self.health.succeeded()

    def dispose(self) -> None:
        self.engine.dispose()


class _WritersFile:
    """The writers' lock shared by the processes serving one SQLite file.

    Taken inside the process's reentrant lock, so a nested write on the thread that
    holds it does not lock again (flock is not counted: one unlock frees it).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd = -1
        self._pid = 0
        self._depth = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._depth = 1
        try:
            yield
        finally:
            self._depth = 0
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int:
        # Opened in the process that locks: a descriptor inherited across fork would
        # share its lock with the parent's.
        if self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


def written_tables(conn: Connection) -> frozenset[str]:
    """The tables the write transaction on `conn` has written so far (with EVERY_TABLE
    when a statement's target could not be read)."""
    return frozenset(conn.info.get(_WRITTEN, (EVERY_TABLE,)))


def _note_written_table(
    conn: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    # Read caches are dropped by the tables a write touched (store/transactions.py), so
    # every statement of a write is accounted for: a target this cannot read counts as
    # every table, never as none.
    written = conn.info.get(_WRITTEN)
    if written is None:
        return  # not a write transaction
    head = statement.lstrip()[:9].upper()
    if head.startswith(_NOT_WRITING):
        return
    found = _DML.match(statement)
    written.add(found.group(1).lower() if found else EVERY_TABLE)


def _normalise_url(url: str) -> str:
    parsed = make_url(url)
    # SQLAlchemy's default PostgreSQL driver is psycopg2; iamd ships psycopg 3.
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _configure_postgresql_connection(dbapi_connection: Any, settings: dict[str, str]) -> None:
    cursor = dbapi_connection.cursor()
    for name, value in settings.items():
        cursor.execute("SELECT set_config(%s, %s, false)", (name, value))
    cursor.close()
    dbapi_connection.commit()


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module so that BEGIN is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    if conn.get_execution_options().get(_WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")

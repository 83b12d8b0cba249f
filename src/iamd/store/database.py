"""Engine set-up and transactions for SQLite and PostgreSQL.

`Database.read()` opens a read transaction and `Database.write()` a write transaction.
On SQLite a write transaction starts with `BEGIN IMMEDIATE`, which takes the database's
write lock up front: two writers never interleave, so a count-then-insert quota check
inside one is race-free. On PostgreSQL writers lock the parent row they check
(`SELECT ... FOR UPDATE`), which the repositories do. SQLite runs with WAL and
`synchronous=FULL` so that an acknowledged write survives a power loss.

On SQLite the writers of one process take turns on a lock of the process and share
commits (group commit, `_SqliteGroupCommit`): a writer whose turn ends while others
wait for theirs leaves the transaction open, the next one adds its statements to it (in
a savepoint of its own, so that its failure undoes only its part), and the last of the
run commits for all: one fsync for many writes. No writer returns before the COMMIT
that holds its write, so an acknowledged write is still durable, and a failed COMMIT
fails every writer in it. The turn also keeps writers out of SQLite's own wait for its
write lock, which polls, sleeping 1, 2, 5 ... up to 100 ms between tries (a p99 of
137 ms at four connections). With `--workers`, the processes hand the database over
through a file lock each holds for its whole batch (`_WritersFile`); SQLite's wait still
covers other processes (`iamd` CLI commands).

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

from sqlalchemy import Connection, Engine, NestedTransaction, RootTransaction, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from iamd.errors import ServiceUnavailable
from iamd.store.availability import DatabaseHealth, classify
from iamd.store.commit_gate import CommitGate

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
# At most this many writes share one SQLite commit, so that under a steady stream of
# writers the first of a run is not kept waiting for its acknowledgement without end.
_GROUP_COMMIT_MAX_WRITES = 32
# A writer waiting for its batch's COMMIT looks this often whether the batch was left
# open for a writer that gave up (its wait for the turn ran out) and commits it then.
_ORPHAN_CHECK_SECONDS = 1.0


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
        #: This process's committed signalled writes (Transactions.own_commits_and).
        self.commits = CommitGate()
        self._group: _SqliteGroupCommit | None = None
        self._writers_file: _WritersFile | None = None
        if self.is_sqlite:
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
            self._group = _SqliteGroupCommit(self)
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
    def write(self, *, signalled: bool = False) -> Iterator[Connection]:
        """A write transaction. `signalled`: it bumps the change counter, and its commit
        is counted in `commits` (the change watcher's own-commits figure)."""
        if self._group is not None:
            with self._group.write(signalled) as conn:
                yield conn
            return
        with self._available(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            conn.info[_WRITTEN] = set()
            try:
                transaction = conn.begin()
                try:
                    yield conn
                except BaseException:
                    transaction.rollback()
                    raise
                self._commit(transaction, 1 if signalled else 0)
            finally:
                # `info` outlives the checkout (it is the pooled connection's).
                conn.info.pop(_WRITTEN, None)

    def _commit(self, transaction: RootTransaction, signalled: int) -> None:
        """COMMIT, counted in `commits` when it carries signalled writes."""
        if not signalled:
            transaction.commit()
            return
        self.commits.enter()
        committed = False
        try:
            transaction.commit()
            committed = True
        finally:
            self.commits.leave(signalled if committed else 0)

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


class _Batch:
    """One SQLite write transaction and the writers whose statements it holds."""

    __slots__ = ("conn", "done", "error", "signalled", "transaction", "writes")

    def __init__(self, conn: Connection, transaction: RootTransaction) -> None:
        self.conn = conn
        self.transaction = transaction
        self.writes = 0  # writers whose statements it holds
        self.signalled = 0  # of which bumped the change counter
        self.done = threading.Event()
        self.error: BaseException | None = None


class _SqliteGroupCommit:
    """The writers of one process take turns on one open transaction; the last writer
    of a run (nobody waiting, or the batch full) commits for all (module docstring)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._turn = threading.Lock()
        self._waiting = 0  # writers blocked on the turn; read by the turn's holder
        self._waiting_lock = threading.Lock()
        self._batch: _Batch | None = None
        self._holder = threading.local()

    @contextmanager
    def write(self, signalled: bool) -> Iterator[Connection]:
        if getattr(self._holder, "active", False):
            # The turn is this thread's: waiting for it would never end.
            raise RuntimeError("a write transaction nested in another on one thread")
        with self._waiting_lock:
            self._waiting += 1
        acquired = self._turn.acquire(timeout=_SQLITE_BUSY_SECONDS)
        with self._waiting_lock:
            self._waiting -= 1
        if not acquired:
            raise ServiceUnavailable()
        self._holder.active = True
        try:
            batch = self._batch_for_turn()
            yield from self._run_turn(batch, signalled)
        finally:
            self._holder.active = False
            self._turn.release()
        # Acknowledged only once the COMMIT holding this write has returned.
        while not batch.done.wait(_ORPHAN_CHECK_SECONDS):
            self._commit_if_orphaned(batch)
        if batch.error is not None:
            raise ServiceUnavailable() from None

    def _commit_if_orphaned(self, batch: _Batch) -> None:
        """Commit a batch left open for a writer that then gave up waiting for its turn."""
        if not self._turn.acquire(blocking=False):
            return  # someone has the turn, and with it the batch
        try:
            if self._batch is batch:
                self._finish(batch, commit=batch.writes > 0)
        finally:
            self._turn.release()

    def _batch_for_turn(self) -> _Batch:
        if self._batch is not None:
            return self._batch
        writers_file = self._database._writers_file
        if writers_file is not None:
            writers_file.acquire()
        try:
            with self._database._available():
                conn = self._database.engine.connect()
                try:
                    conn.execution_options(**{_WRITE_OPTION: True})
                    batch = _Batch(conn, conn.begin())
                except BaseException:
                    conn.close()
                    raise
        except BaseException:
            if writers_file is not None:
                writers_file.release()
            raise
        self._batch = batch
        return batch

    def _run_turn(self, batch: _Batch, signalled: bool) -> Iterator[Connection]:
        conn = batch.conn
        # A savepoint only when earlier writers' statements are in the transaction: a
        # lone writer's failure rolls the whole (otherwise empty) transaction back.
        savepoint = conn.begin_nested() if batch.writes else None
        conn.info[_WRITTEN] = set()
        try:
            with self._database._available():
                yield conn
                if savepoint is not None:
                    savepoint.commit()
        except BaseException:
            conn.info.pop(_WRITTEN, None)
            self._undo(batch, savepoint)
            self._end_turn(batch)
            raise
        conn.info.pop(_WRITTEN, None)
        batch.writes += 1
        batch.signalled += 1 if signalled else 0
        self._end_turn(batch)

    def _undo(self, batch: _Batch, savepoint: NestedTransaction | None) -> None:
        """Undo this writer's statements only, or, alone in the batch, the batch."""
        if savepoint is None:
            self._finish(batch, commit=False)
            return
        try:
            savepoint.rollback()
        except BaseException:
            # The transaction itself is broken: nothing in it can be committed.
            self._finish(batch, commit=False, error=ServiceUnavailable())

    def _end_turn(self, batch: _Batch) -> None:
        if batch.done.is_set():
            return  # finished by _undo
        with self._waiting_lock:
            someone_waits = self._waiting > 0
        if someone_waits and batch.writes < _GROUP_COMMIT_MAX_WRITES:
            return  # the next writer adds to this transaction; the last one commits
        self._finish(batch, commit=batch.writes > 0)

    def _finish(self, batch: _Batch, *, commit: bool, error: BaseException | None = None) -> None:
        self._batch = None
        try:
            if error is None and commit:
                with self._database._available():
                    self._database._commit(batch.transaction, batch.signalled)
            else:
                batch.transaction.rollback()
        except BaseException as failure:  # every writer of the batch learns it failed
            batch.error = failure
        else:
            batch.error = error
        finally:
            batch.conn.close()
            if self._database._writers_file is not None:
                self._database._writers_file.release()
            batch.done.set()


class _WritersFile:
    """The writers' lock shared by the processes serving one SQLite file (`--workers`):
    held by a process from its batch's BEGIN IMMEDIATE to its COMMIT, so the processes
    hand the database over at once instead of through SQLite's polling busy wait."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd = -1
        self._pid = 0

    def acquire(self) -> None:
        fcntl.flock(self._open(), fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

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

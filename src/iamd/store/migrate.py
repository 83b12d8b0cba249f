"""Bringing a database to the current schema with the Alembic migrations shipped here.

Nodes sharing a PostgreSQL database may start at the same moment: `startup_lock` holds
a session advisory lock while one of them migrates and bootstraps, and the others wait
for it, then find the schema current and the account there. (Without it two nodes both
created `alembic_version`, and all but one crashed with a UniqueViolation.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from iamd.store.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# pg_advisory_lock's two keys: iamd's namespace ("iamd" in ASCII) and the start-up lock.
ADVISORY_NAMESPACE = 0x69616D64
_STARTUP_LOCK = 1
# How long a node waits for another node's migration and bootstrap before giving up.
STARTUP_LOCK_SECONDS = 300


class StartupLockTimeout(RuntimeError):
    """Another node held the start-up lock for longer than STARTUP_LOCK_SECONDS."""


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


@contextmanager
def startup_lock(database: Database) -> Iterator[None]:
    """Hold the cluster-wide start-up lock (PostgreSQL; SQLite has one process)."""
    if database.is_sqlite:
        yield
        return
    keys = {"namespace": ADVISORY_NAMESPACE, "lock": _STARTUP_LOCK}
    with database.engine.connect() as conn:
        conn.execute(text("SELECT set_config('lock_timeout', :ms, false)"), {"ms": "0"})
        conn.execute(
            text("SELECT set_config('statement_timeout', :ms, false)"),
            {"ms": str(STARTUP_LOCK_SECONDS * 1000)},
        )
        try:
            conn.execute(text("SELECT pg_advisory_lock(:namespace, :lock)"), keys)
        except Exception as exc:
            raise StartupLockTimeout(
                f"another iamd node held the start-up lock for over {STARTUP_LOCK_SECONDS} s "
                "(migrating the database?); start this node again once it is up"
            ) from exc
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:namespace, :lock)"), keys)
            conn.commit()
            # The settings above are this connection's: it must not go back to the pool.
            conn.invalidate()


def upgrade_to_head(database: Database) -> None:
    upgrade_to(database, "head")


def upgrade_to(database: Database, revision: str) -> None:
    """Upgrade to `revision` (tests build older schemas with it)."""
    config = alembic_config(database)
    with database.engine.connect() as connection:
        if database.is_sqlite:
            # Rebuilding a table (SQLite's way to change a column) drops the old one:
            # with foreign keys enforced, that would cascade into its children. Alembic's
            # advice: switch enforcement off around the migration, check afterwards.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        else:
            # A migration may rewrite a large table: no statement bound for it.
            connection.execute(text("SELECT set_config('statement_timeout', '0', false)"))
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if database.is_sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"migration left a broken foreign key: {broken}")
        finally:
            if database.is_sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
            else:
                connection.invalidate()

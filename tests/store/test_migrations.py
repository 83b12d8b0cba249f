"""The migrations build exactly the schema the code declares, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from iamd.store.database import Database
from iamd.store.migrate import upgrade_to, upgrade_to_head
from iamd.store.schema import metadata


def _differences(url: str) -> list[object]:
    database = Database(url)
    try:
        upgrade_to_head(database)
        with database.engine.connect() as conn:
            context = MigrationContext.configure(conn)
            return list(compare_metadata(context, metadata))
    finally:
        database.dispose()


def test_migrations_match_the_schema_on_sqlite(tmp_path: Path) -> None:
    assert _differences(f"sqlite:///{tmp_path / 'iamd.sqlite3'}") == []


@pytest.mark.postgres
def test_migrations_match_the_schema_on_postgresql(postgres_url: str) -> None:
    assert _differences(postgres_url) == []


def test_upgrading_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'iamd.sqlite3'}"
    assert _differences(url) == []
    assert _differences(url) == []


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_0008_keeps_every_row(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # 0008 rebuilds tables on SQLite; with foreign keys enforced, dropping the old
    # mfa_devices would have deleted its tags (ON DELETE CASCADE).
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'iamd.sqlite3'}"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    database = Database(url)
    try:
        upgrade_to(database, "0007")
        with database.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO account (account_id, create_date, alias, change_counter) "
                    "VALUES ('123456789012', 0, NULL, 7)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO users (user_id, name, name_lower, path, create_date) "
                    "VALUES ('AIDA1', 'Ann', 'ann', '/', 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO user_tags (user_id, key_lower, key, value, position) "
                    "VALUES ('AIDA1', 'team', 'Team', 'blue', 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO mfa_devices (serial_number, name, name_lower, path, "
                    "seed_sealed, create_date, user_id) VALUES ('arn:mfa', 'Phone', 'phone', "
                    "'/', :seed, 0, 'AIDA1')"
                ),
                {"seed": b"sealed"},
            )
            conn.execute(
                text(
                    "INSERT INTO mfa_device_tags (serial_number, key_lower, key, value, "
                    "position) VALUES ('arn:mfa', 'k', 'K', 'v', 0)"
                )
            )
        upgrade_to_head(database)
        with database.read() as conn:
            assert conn.execute(text("SELECT key, value FROM user_tags")).all() == [
                ("Team", "blue")
            ]
            assert conn.execute(text("SELECT name, user_id FROM mfa_devices")).all() == [
                ("Phone", "AIDA1")
            ]
            assert conn.execute(text("SELECT key FROM mfa_device_tags")).all() == [("K",)]
            assert conn.execute(text("SELECT count(*) FROM change_slots")).scalar() == 128
            assert conn.execute(text("SELECT alias FROM account")).all() == [(None,)]
    finally:
        database.dispose()

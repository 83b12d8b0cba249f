"""The migrations build exactly the schema the code declares, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from iamd.store.database import Database
from iamd.store.migrate import upgrade_to_head
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

"""The migrations build exactly the schema the code declares, on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from iamd.model import Group
from iamd.store.database import Database
from iamd.store.migrate import upgrade_to, upgrade_to_head
from iamd.store.schema import metadata
from iamd.store.sql.trail import lookup
from iamd.store.transactions import Repositories

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _differences(url: str) -> list[object]:
    database = Database(url)
    try:
        upgrade_to_head(database)
        with database.engine.connect() as conn:
            context = MigrationContext.configure(conn)
            return list(compare_metadata(context, metadata))
    finally:
        database.dispose()


def _empty_database(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    if engine == "sqlite":
        return Database(f"sqlite:///{tmp_path / 'iamd.sqlite3'}")
    return Database(request.getfixturevalue("fresh_postgres_url"))


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
    database = _empty_database(engine, tmp_path, request)
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


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_0026_moves_every_trail_event_into_batches(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database = _empty_database(engine, tmp_path, request)
    legacy_id = "0f8e2a9c-3b1d-4c55-9d7e-1a2b3c4d5e6f"  # version 4: found by its key row
    try:
        upgrade_to(database, "0025")
        with database.write() as conn:
            for n in range(300):  # more than one batch's worth for one account
                account = "111111111111" if n < 290 else "222222222222"
                conn.execute(
                    text(
                        "INSERT INTO trail_events VALUES (:id, :account, :time, :name, "
                        "'iam.amazonaws.com', 'ann', NULL, :read_only, :record)"
                    ),
                    {
                        "id": legacy_id if n == 7 else f"00000000-0000-4000-8000-{n:012d}",
                        "account": account,
                        "time": 1_700_000_000_000_000 + n * 1000,
                        "name": "CreateUser" if n % 2 else "GetUser",
                        "read_only": n % 2 == 0,
                        "record": f'{{"awsRegion":"eu-west-1","n":{n}}}',
                    },
                )
            conn.execute(
                text(
                    "INSERT INTO trail_event_resources VALUES (:id, 0, '111111111111', "
                    ":time, 'AWS::IAM::User', 'bob')"
                ),
                {"id": legacy_id, "time": 1_700_000_000_007_000},
            )
        upgrade_to_head(database)
        with database.read() as conn:
            start, end = 1_600_000_000_000_000, 1_800_000_000_000_000
            everything = lookup(conn, "111111111111", None, start, end, 1000)
            assert [json.loads(e.record)["n"] for e in everything] == list(range(289, -1, -1))
            assert {e.region for e in everything} == {"eu-west-1"}
            (by_id,) = lookup(conn, "111111111111", ("EventId", legacy_id), start, end, 50)
            assert by_id.resources == (("AWS::IAM::User", "bob"),)
            by_name = lookup(conn, "111111111111", ("ResourceName", "bob"), start, end, 50)
            assert [e.event_id for e in by_name] == [legacy_id]
            writes = lookup(conn, "111111111111", ("ReadOnly", "false"), start, end, 500)
            assert len(writes) == 145
            assert {e.event_name for e in writes} == {"CreateUser"}
            assert len(lookup(conn, "222222222222", None, start, end, 50)) == 10
    finally:
        database.dispose()


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_0033_counts_every_accounts_entities_and_the_counts_stay_true(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database = _empty_database(engine, tmp_path, request)
    accounts = {"111111111111": 3, "222222222222": 1}
    try:
        upgrade_to(database, "0032")
        with database.write() as conn:
            for account, users in accounts.items():
                conn.execute(
                    text("INSERT INTO account (account_id, create_date) VALUES (:a, :d)"),
                    {"a": account, "d": 1_767_225_600_000_000},
                )
                for n in range(users):
                    conn.execute(
                        text(
                            "INSERT INTO users (user_id, account_id, name, name_lower, path,"
                            " create_date) VALUES (:id, :a, :name, :name, '/', :d)"
                        ),
                        {
                            "id": f"AIDA{account}{n}",
                            "a": account,
                            "name": f"u{n}",
                            "d": 1_767_225_600_000_000,
                        },
                    )
            conn.execute(
                text(
                    "INSERT INTO groups (group_id, account_id, name, name_lower, path,"
                    " create_date) VALUES ('AGPA1', '111111111111', 'g', 'g', '/', :d)"
                ),
                {"d": 1_767_225_600_000_000},
            )
        upgrade_to_head(database)
        with database.read() as conn:
            one = Repositories(conn, "111111111111")
            two = Repositories(conn, "222222222222")
            assert (one.users.count(), one.groups.count(), one.roles.count()) == (3, 1, 0)
            assert (two.users.count(), two.groups.count()) == (1, 0)
        # The repositories keep them true: an insert and a delete in one account only.
        with database.write() as conn:
            two = Repositories(conn, "222222222222")
            two.users.delete("AIDA2222222222220")
            two.groups.add(Group("AGPA2", "g", "/", "arn:aws:iam::222222222222:group/g", NOW))
        with database.write() as conn:
            # Another account's id deletes nothing here, and counts nothing off.
            Repositories(conn, "222222222222").users.delete("AIDA1111111111110")
        with database.read() as conn:
            one = Repositories(conn, "111111111111")
            two = Repositories(conn, "222222222222")
            assert (one.users.count(), one.groups.count()) == (3, 1)
            assert (two.users.count(), two.groups.count()) == (0, 1)
    finally:
        database.dispose()

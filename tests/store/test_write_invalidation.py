"""A committed write drops the read caches that read a table it wrote, and keeps the
others; a write whose statement's table cannot be told, a failed write and a change seen
from another node drop every cache. The change watcher tells another node's writes from
this process's own by the commits the process counted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, text, update

from iamd.store.database import Database
from iamd.store.migrate import upgrade_to_head
from iamd.store.schema import access_keys, account, users
from iamd.store.sql import changes
from iamd.store.transactions import Transactions

ACCOUNT = "123456789012"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "iamd.sqlite3"


@pytest.fixture
def tx(path: Path) -> Transactions:
    database = Database(f"sqlite:///{path}")
    upgrade_to_head(database)
    with database.write() as conn:
        conn.execute(insert(account).values(account_id=ACCOUNT, create_date=datetime.now(UTC)))
    return Transactions(database, ACCOUNT)


def _dropped(tx: Transactions) -> dict[str, list[int]]:
    drops: dict[str, list[int]] = {"users": [], "keys": [], "any": []}
    tx.on_write_committed(lambda: drops["users"].append(1), [users.name])
    tx.on_write_committed(lambda: drops["keys"].append(1), [access_keys.name, users.name])
    tx.on_write_committed(lambda: drops["any"].append(1))
    return drops


def _add_user(tx: Transactions, user_id: str, name: str) -> None:
    with tx.write() as repos:
        repos.conn.execute(
            insert(users).values(
                user_id=user_id,
                account_id=ACCOUNT,
                name=name,
                name_lower=name.lower(),
                path="/",
                create_date=datetime.now(UTC),
            )
        )


def test_only_the_caches_of_the_tables_written_are_dropped(tx: Transactions) -> None:
    drops = _dropped(tx)
    _add_user(tx, "AIDAUSER1", "ann")
    assert drops == {"users": [1], "keys": [1], "any": [1]}

    with tx.write() as repos:
        repos.conn.execute(
            insert(access_keys).values(
                access_key_id="AKIAKEY1",
                user_id="AIDAUSER1",
                account_id=ACCOUNT,
                status="Active",
                create_date=datetime.now(UTC),
                secret_sealed=b"sealed",
            )
        )
    # The key's write keeps the users' cache, drops the keys' and the unnamed one.
    assert drops == {"users": [1], "keys": [1, 1], "any": [1, 1]}

    with tx.write() as repos:
        repos.conn.execute(update(users).where(users.c.user_id == "AIDAUSER1").values(path="/x/"))
    assert drops == {"users": [1, 1], "keys": [1, 1, 1], "any": [1, 1, 1]}

    # A read-only "write" (nothing written but the change counter) drops only the unnamed.
    with tx.write() as repos:
        repos.conn.execute(text("SELECT 1"))
    assert drops == {"users": [1, 1], "keys": [1, 1, 1], "any": [1, 1, 1, 1]}


def test_an_unreadable_statement_a_failed_write_and_another_nodes_change_drop_all(
    tx: Transactions,
) -> None:
    drops = _dropped(tx)
    _add_user(tx, "AIDAUSER1", "ann")
    with tx.write() as repos:
        # A statement whose target the parser does not read (here a CTE) counts as all.
        repos.conn.execute(
            text("WITH v(n) AS (SELECT 'bob') UPDATE users SET path = '/y/' WHERE name = 'ann'")
        )
    assert drops == {"users": [1, 1], "keys": [1, 1], "any": [1, 1]}

    def failing_write() -> None:
        with tx.write() as repos:
            repos.conn.execute(text("SELECT 1"))
            raise RuntimeError("the operation failed")

    with pytest.raises(RuntimeError):
        failing_write()
    assert drops == {"users": [1, 1, 1], "keys": [1, 1, 1], "any": [1, 1, 1]}

    tx.drop_caches()  # what the change watcher does for another node's write
    assert drops == {"users": [1, 1, 1, 1], "keys": [1, 1, 1, 1], "any": [1, 1, 1, 1]}


def test_the_watcher_sees_only_the_other_nodes_writes(tx: Transactions, path: Path) -> None:
    def others() -> int:
        with tx.database.read() as conn:
            own, total = tx.own_commits_and(lambda: changes.total(conn))
        return total - own

    before = others()
    _add_user(tx, "AIDAUSER1", "ann")
    with tx.write() as repos:
        repos.conn.execute(text("SELECT 1"))
    assert others() == before  # this process's two commits

    def failing_write() -> None:
        with tx.write() as repos:
            repos.conn.execute(text("SELECT 1"))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        failing_write()
    assert others() == before  # rolled back: neither counted nor in the counter

    other_node = Transactions(Database(f"sqlite:///{path}"), ACCOUNT)
    with other_node.write() as repos:
        repos.conn.execute(text("SELECT 1"))
    assert others() == before + 1

"""The account row (creation date, alias) and the locks of account-wide quota checks."""

from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model import Account
from iamd.store.schema import account

# pg_advisory_xact_lock's first key: iamd's namespace ("iamd"), as in store/migrate.py.
_ADVISORY_NAMESPACE = 0x69616D64


class AccountRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def get(self) -> Account | None:
        row = self._conn.execute(
            select(account).where(account.c.account_id == self._account_id)
        ).first()
        return Account(row.account_id, row.create_date, row.alias) if row else None

    def create(self, when: datetime) -> Account:
        self._conn.execute(
            insert(account).values(account_id=self._account_id, create_date=when, alias=None)
        )
        return Account(self._account_id, when, None)

    def lock(self, scope: str) -> None:
        """Serialise one account-wide check (a quota's count-then-insert) between writers.

        On PostgreSQL a transaction advisory lock per scope ("users", "groups"...): a
        CreateUser waits only for other CreateUsers, never for unrelated writes, and no
        longer than `lock_timeout`. SQLite writers are serialised by BEGIN IMMEDIATE.
        """
        if self._conn.dialect.name == "postgresql":
            namespace, key = quota_lock_keys(self._account_id, scope)
            self._conn.execute(_LOCK, {"namespace": namespace, "key": key})

    def set_alias(self, alias: str | None) -> None:
        try:
            self._conn.execute(
                update(account).where(account.c.account_id == self._account_id).values(alias=alias)
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists(f"The account alias {alias} already exists.") from exc


def quota_lock_keys(account_id: str, scope: str) -> tuple[int, int]:
    """pg_advisory_xact_lock's two keys for one account-wide check."""
    return _ADVISORY_NAMESPACE, _signed32(zlib.crc32(f"{account_id}:{scope}".encode()))


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


# Built once (see named_entities).
_LOCK = select(func.pg_advisory_xact_lock(bindparam("namespace"), bindparam("key")))

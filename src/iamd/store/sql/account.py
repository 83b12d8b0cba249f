"""The account row: creation date, alias, and the cross-node change counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model import Account
from iamd.store.schema import account


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
            insert(account).values(
                account_id=self._account_id, create_date=when, alias=None, change_counter=0
            )
        )
        return Account(self._account_id, when, None)

    def lock(self) -> None:
        """Serialise account-wide quota checks between PostgreSQL writers."""
        self._conn.execute(_LOCK, {"the_account": self._account_id})

    def set_alias(self, alias: str | None) -> None:
        try:
            self._conn.execute(
                update(account).where(account.c.account_id == self._account_id).values(alias=alias)
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists(f"The account alias {alias} already exists.") from exc

    def bump_change_counter(self) -> None:
        self._conn.execute(_BUMP, {"the_account": self._account_id})

    def change_counter(self) -> int:
        value = self._conn.execute(
            select(account.c.change_counter).where(account.c.account_id == self._account_id)
        ).scalar()
        return int(value or 0)


# Every write runs these; they are built once (see named_entities).
_LOCK = (
    select(account.c.account_id)
    .where(account.c.account_id == bindparam("the_account"))
    .with_for_update()
)
_BUMP = (
    update(account)
    .where(account.c.account_id == bindparam("the_account"))
    .values(change_counter=account.c.change_counter + 1)
)

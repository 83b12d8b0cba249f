"""PROVISIONAL rows of accounts made by CreateAccount (name, email, status), until the
accounts service of issue 13 part A owns them in its `account` table; then this module,
its table and services/provisional_accounts.py go."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from iamd.store.schema import provisional_accounts


class ProvisionalAccountRow:
    __slots__ = ("account_id", "create_date", "email", "name", "status")

    def __init__(self, row: Any) -> None:
        self.account_id: str = row.account_id
        self.name: str = row.name
        self.email: str = row.email
        self.status: str = row.status
        self.create_date: datetime = row.create_date


class ProvisionalAccountRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, account_id: str) -> ProvisionalAccountRow | None:
        row = self._conn.execute(
            select(provisional_accounts).where(provisional_accounts.c.account_id == account_id)
        ).first()
        return ProvisionalAccountRow(row) if row else None

    def email_taken(self, email: str) -> bool:
        row = self._conn.execute(
            select(provisional_accounts.c.account_id).where(
                provisional_accounts.c.email_lower == email.lower()
            )
        ).first()
        return row is not None

    def add(self, account_id: str, name: str, email: str, when: datetime) -> None:
        self._conn.execute(
            insert(provisional_accounts).values(
                account_id=account_id,
                name=name,
                email=email,
                email_lower=email.lower(),
                status="ACTIVE",
                create_date=when,
            )
        )

    def set_status(self, account_id: str, status: str) -> None:
        self._conn.execute(
            update(provisional_accounts)
            .where(provisional_accounts.c.account_id == account_id)
            .values(status=status)
        )

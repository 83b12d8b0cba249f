"""The accounts (creation date, alias, name, email, status) and the locks of account-wide
quota checks. A repository is bound to one account; `all_accounts` and `add_account`
look beyond it (the list of accounts is what the accounts service manages)."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EmailAlreadyTaken, EntityAlreadyExists
from iamd.model import Account
from iamd.store.schema import account

# pg_advisory_xact_lock's first key: iamd's namespace ("iamd"), as in store/migrate.py.
_ADVISORY_NAMESPACE = 0x69616D64


def _to_account(row: Row[Any]) -> Account:
    return Account(
        row.account_id,
        row.create_date,
        row.alias,
        name=row.name,
        email=row.email,
        status=row.status,
    )


class AccountRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def get(self) -> Account | None:
        return self.get_account(self._account_id)

    def get_account(self, account_id: str) -> Account | None:
        row = self._conn.execute(_BY_ID, {"account_id": account_id}).first()
        return _to_account(row) if row else None

    def create(self, when: datetime) -> Account:
        """The bound account's row (the bootstrap account: no name or email)."""
        return self.add_account(self._account_id, when, None, None)

    def add_account(
        self, account_id: str, when: datetime, name: str | None, email: str | None
    ) -> Account:
        """Another account's row. EmailAlreadyTaken when the email is taken."""
        try:
            self._conn.execute(
                insert(account).values(
                    account_id=account_id,
                    create_date=when,
                    alias=None,
                    name=name,
                    email=email,
                    email_lower=email.lower() if email is not None else None,
                    status="ACTIVE",
                )
            )
        except IntegrityError as exc:
            raise EmailAlreadyTaken("An account with this email address already exists.") from exc
        return Account(account_id, when, None, name=name, email=email)

    def all_accounts(self) -> list[Account]:
        rows = self._conn.execute(select(account).order_by(account.c.create_date))
        return [_to_account(row) for row in rows]

    def email_taken(self, email: str) -> bool:
        return self.by_email(email) is not None

    def by_email(self, email: str) -> Account | None:
        row = self._conn.execute(
            select(account).where(account.c.email_lower == email.lower())
        ).first()
        return _to_account(row) if row else None

    def set_status(self, account_id: str, status: str) -> bool:
        result = self._conn.execute(
            update(account).where(account.c.account_id == account_id).values(status=status)
        )
        return bool(result.rowcount)

    def lock(self, scope: str) -> None:
        """Serialise one account-wide check (a quota's count-then-insert) between writers.

        On PostgreSQL a transaction advisory lock per account and scope ("users",
        "groups"...): a CreateUser waits only for other CreateUsers of its account, never
        for unrelated writes, and no longer than `lock_timeout`. SQLite writers are
        serialised by BEGIN IMMEDIATE.
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

    def global_endpoint_token_version(self) -> int:
        """1 or 2 (SetSecurityTokenServicePreferences); 1 when never set, as in AWS."""
        query = select(account.c.global_endpoint_token_version).where(
            account.c.account_id == self._account_id
        )
        value = self._conn.execute(query).scalar()
        return int(value) if value is not None else 1

    def set_global_endpoint_token_version(self, version: int) -> None:
        self._conn.execute(
            update(account)
            .where(account.c.account_id == self._account_id)
            .values(global_endpoint_token_version=version)
        )

    def by_alias(self, alias: str) -> Account | None:
        row = self._conn.execute(_BY_ALIAS, {"alias": alias}).first()
        return _to_account(row) if row else None


def quota_lock_keys(account_id: str, scope: str) -> tuple[int, int]:
    """pg_advisory_xact_lock's two keys for one account-wide check."""
    return _ADVISORY_NAMESPACE, _signed32(zlib.crc32(f"{account_id}:{scope}".encode()))


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


# Built once (see named_entities).
_LOCK = select(func.pg_advisory_xact_lock(bindparam("namespace"), bindparam("key")))
_BY_ID = select(account).where(account.c.account_id == bindparam("account_id"))
_BY_ALIAS = select(account).where(account.c.alias == bindparam("alias"))

"""Access keys. The secret is stored sealed; it is opened only to verify signatures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from iamd.model import AccessKey, AccessKeyStatus
from iamd.store.schema import access_keys, users


@dataclass(frozen=True, slots=True)
class LastUse:
    access_key_id: str
    when: datetime
    service: str
    region: str


@dataclass(frozen=True, slots=True)
class KeyWithSecret:
    key: AccessKey
    secret_sealed: bytes


def _select() -> Any:
    return select(access_keys, users.c.name.label("user_name")).join(
        users, users.c.user_id == access_keys.c.user_id
    )


def _to_key(row: Row[Any]) -> AccessKey:
    return AccessKey(
        access_key_id=row.access_key_id,
        user_id=row.user_id,
        user_name=row.user_name,
        status=AccessKeyStatus(row.status),
        create_date=row.create_date,
        last_used_date=row.last_used_date,
        last_used_service=row.last_used_service,
        last_used_region=row.last_used_region,
    )


class AccessKeyRepository:
    """Access keys. Look-ups by key id are global (key ids are unique across accounts,
    and resolving a credential is what finds its account); a key's user is already of
    one account, so per-user queries need no account filter. Process-wide work (last-used
    flushes, the master-key check of backups) passes no account: it adds no key."""

    def __init__(self, conn: Connection, account_id: str | None = None) -> None:
        self._conn = conn
        self._account_id = account_id

    def _require_account(self) -> str:
        if self._account_id is None:
            raise TypeError("adding an access key needs the repository of its account")
        return self._account_id

    def get(self, access_key_id: str) -> AccessKey | None:
        row = self._conn.execute(_BY_ID, {"key_id": access_key_id}).first()
        return _to_key(row) if row else None

    def get_with_secret(self, access_key_id: str) -> KeyWithSecret | None:
        row = self._conn.execute(_BY_ID, {"key_id": access_key_id}).first()
        return KeyWithSecret(_to_key(row), bytes(row.secret_sealed)) if row else None

    def for_user(self, user_id: str) -> list[AccessKey]:
        rows = self._conn.execute(_OF_USER, {"user_id": user_id})
        return [_to_key(r) for r in rows]

    def any_with_secret(self) -> KeyWithSecret | None:
        row = self._conn.execute(_select().limit(1)).first()
        return KeyWithSecret(_to_key(row), bytes(row.secret_sealed)) if row else None

    def count_for_user(self, user_id: str) -> int:
        return int(self._conn.execute(_COUNT_OF_USER, {"user_id": user_id}).scalar_one())

    def add(self, key: AccessKey, secret_sealed: bytes) -> None:
        self._conn.execute(
            _INSERT,
            {
                "access_key_id": key.access_key_id,
                "user_id": key.user_id,
                "account_id": self._require_account(),
                "secret_sealed": secret_sealed,
                "status": key.status.value,
                "create_date": key.create_date,
            },
        )

    def set_status(self, access_key_id: str, status: AccessKeyStatus) -> None:
        self._conn.execute(_SET_STATUS, {"key_id": access_key_id, "new_status": status.value})

    def delete(self, access_key_id: str) -> None:
        self._conn.execute(_DELETE, {"key_id": access_key_id})

    def active_unused_since(self, cutoff: datetime) -> list[AccessKey]:
        """Active keys last used before `cutoff`, or never used and created before it."""
        last_activity = func.coalesce(access_keys.c.last_used_date, access_keys.c.create_date)
        rows = self._conn.execute(
            _select()
            .where(access_keys.c.status == AccessKeyStatus.ACTIVE.value)
            .where(last_activity < cutoff)
            .order_by(users.c.name_lower, access_keys.c.create_date)
        )
        return [_to_key(row) for row in rows]

    def deactivate_if_unused_since(self, access_key_id: str, cutoff: datetime) -> bool:
        """Set Inactive unless the key was used (or reactivated) meanwhile."""
        last_activity = func.coalesce(access_keys.c.last_used_date, access_keys.c.create_date)
        result = self._conn.execute(
            update(access_keys)
            .where(access_keys.c.access_key_id == access_key_id)
            .where(access_keys.c.status == AccessKeyStatus.ACTIVE.value)
            .where(last_activity < cutoff)
            .values(status=AccessKeyStatus.INACTIVE.value)
        )
        return result.rowcount == 1

    def record_last_uses(self, uses: Iterable[LastUse]) -> None:
        """Write a batch of last-used records; a later date never goes backwards."""
        params = [
            {"key_id": u.access_key_id, "when": u.when, "service": u.service, "region": u.region}
            for u in uses
        ]
        if not params:
            return
        statement = (
            update(access_keys)
            .where(access_keys.c.access_key_id == bindparam("key_id"))
            .where(
                (access_keys.c.last_used_date.is_(None))
                | (access_keys.c.last_used_date <= bindparam("when"))
            )
            .values(
                last_used_date=bindparam("when"),
                last_used_service=bindparam("service"),
                last_used_region=bindparam("region"),
            )
        )
        self._conn.execute(statement, params)


# The statements of the request path, built once (see named_entities for why).
_BY_ID = _select().where(access_keys.c.access_key_id == bindparam("key_id"))
_OF_USER = (
    _select()
    .where(access_keys.c.user_id == bindparam("user_id"))
    .order_by(access_keys.c.create_date, access_keys.c.access_key_id)
)
_COUNT_OF_USER = (
    select(func.count())
    .select_from(access_keys)
    .where(access_keys.c.user_id == bindparam("user_id"))
)
_INSERT = insert(access_keys)
_SET_STATUS = (
    update(access_keys)
    .where(access_keys.c.access_key_id == bindparam("key_id"))
    .values(status=bindparam("new_status"))
)
_DELETE = delete(access_keys).where(access_keys.c.access_key_id == bindparam("key_id"))

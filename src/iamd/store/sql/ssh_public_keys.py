"""SSH public keys of users, stored in their OpenSSH form with their fingerprint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from iamd.model import SSHPublicKey, SSHPublicKeyStatus
from iamd.store.schema import ssh_public_keys, users


def _to_key(row: Row[Any]) -> SSHPublicKey:
    return SSHPublicKey(
        ssh_public_key_id=row.ssh_public_key_id,
        user_id=row.user_id,
        user_name=row.user_name,
        fingerprint=row.fingerprint,
        body=row.body,
        status=SSHPublicKeyStatus(row.status),
        upload_date=row.upload_date,
    )


class SSHPublicKeyRepository:
    """SSH public keys; by key id globally (git-over-SSH logins name only the id)."""

    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def get(self, ssh_public_key_id: str) -> SSHPublicKey | None:
        row = self._conn.execute(_BY_ID, {"key_id": ssh_public_key_id}).first()
        return _to_key(row) if row else None

    def for_user(self, user_id: str) -> list[SSHPublicKey]:
        return [_to_key(r) for r in self._conn.execute(_OF_USER, {"user_id": user_id})]

    def count_for_user(self, user_id: str) -> int:
        return int(self._conn.execute(_COUNT_OF_USER, {"user_id": user_id}).scalar_one())

    def has_fingerprint(self, user_id: str, fingerprint: str) -> bool:
        row = self._conn.execute(_BY_FINGERPRINT, {"user_id": user_id, "fp": fingerprint})
        return row.first() is not None

    def add(self, key: SSHPublicKey) -> None:
        self._conn.execute(
            _INSERT,
            {
                "ssh_public_key_id": key.ssh_public_key_id,
                "user_id": key.user_id,
                "account_id": self._account_id,
                "fingerprint": key.fingerprint,
                "body": key.body,
                "status": key.status.value,
                "upload_date": key.upload_date,
            },
        )

    def set_status(self, ssh_public_key_id: str, status: SSHPublicKeyStatus) -> None:
        self._conn.execute(_SET_STATUS, {"key_id": ssh_public_key_id, "new_status": status.value})

    def delete(self, ssh_public_key_id: str) -> None:
        self._conn.execute(_DELETE, {"key_id": ssh_public_key_id})


# The statements, built once (see named_entities for why).
_SELECT = select(ssh_public_keys, users.c.name.label("user_name")).join(
    users, users.c.user_id == ssh_public_keys.c.user_id
)
_BY_ID = _SELECT.where(ssh_public_keys.c.ssh_public_key_id == bindparam("key_id"))
_OF_USER = _SELECT.where(ssh_public_keys.c.user_id == bindparam("user_id")).order_by(
    ssh_public_keys.c.upload_date, ssh_public_keys.c.ssh_public_key_id
)
_COUNT_OF_USER = (
    select(func.count())
    .select_from(ssh_public_keys)
    .where(ssh_public_keys.c.user_id == bindparam("user_id"))
)
_BY_FINGERPRINT = select(ssh_public_keys.c.ssh_public_key_id).where(
    ssh_public_keys.c.user_id == bindparam("user_id"),
    ssh_public_keys.c.fingerprint == bindparam("fp"),
)
_INSERT = insert(ssh_public_keys)
_SET_STATUS = (
    update(ssh_public_keys)
    .where(ssh_public_keys.c.ssh_public_key_id == bindparam("key_id"))
    .values(status=bindparam("new_status"))
)
_DELETE = delete(ssh_public_keys).where(ssh_public_keys.c.ssh_public_key_id == bindparam("key_id"))

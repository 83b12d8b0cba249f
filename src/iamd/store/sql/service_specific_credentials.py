"""Service-specific credentials of users, their passwords stored only as hashes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from iamd.model.service_credentials import ServiceCredentialStatus, ServiceSpecificCredential
from iamd.store.schema import service_specific_credentials, users


def _to_credential(row: Row[Any]) -> ServiceSpecificCredential:
    return ServiceSpecificCredential(
        credential_id=row.credential_id,
        user_id=row.user_id,
        user_name=row.user_name,
        service_name=row.service_name,
        service_user_name=row.service_user_name,
        password_hash=row.password_hash,
        status=ServiceCredentialStatus(row.status),
        create_date=row.create_date,
    )


class ServiceSpecificCredentialRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def get(self, credential_id: str) -> ServiceSpecificCredential | None:
        row = self._conn.execute(
            _BY_ID, {"cid": credential_id, "account_id": self._account_id}
        ).first()
        return _to_credential(row) if row else None

    def for_user(self, user_id: str) -> list[ServiceSpecificCredential]:
        return [_to_credential(r) for r in self._conn.execute(_OF_USER, {"user_id": user_id})]

    def in_account(self) -> list[ServiceSpecificCredential]:
        rows = self._conn.execute(_OF_ACCOUNT, {"account_id": self._account_id})
        return [_to_credential(r) for r in rows]

    def for_service_user_name(self, service_user_name: str) -> list[ServiceSpecificCredential]:
        """Every credential logging in as `service_user_name` (git over HTTPS)."""
        rows = self._conn.execute(
            _BY_SERVICE_USER, {"name": service_user_name, "account_id": self._account_id}
        )
        return [_to_credential(r) for r in rows]

    def count_for_user_service(self, user_id: str, service_name: str) -> int:
        params = {"user_id": user_id, "service_name": service_name}
        return int(self._conn.execute(_COUNT, params).scalar_one())

    def add(self, credential: ServiceSpecificCredential) -> None:
        self._conn.execute(
            _INSERT,
            {
                "credential_id": credential.credential_id,
                "account_id": self._account_id,
                "user_id": credential.user_id,
                "service_name": credential.service_name,
                "service_user_name": credential.service_user_name,
                "password_hash": credential.password_hash,
                "status": credential.status.value,
                "create_date": credential.create_date,
            },
        )

    def set_status(self, credential_id: str, status: ServiceCredentialStatus) -> None:
        self._conn.execute(_SET_STATUS, {"cid": credential_id, "new": status.value})

    def set_password_hash(self, credential_id: str, password_hash: str) -> None:
        self._conn.execute(_SET_HASH, {"cid": credential_id, "new": password_hash})

    def delete(self, credential_id: str) -> None:
        self._conn.execute(_DELETE, {"cid": credential_id})


# The statements, built once (see named_entities for why).
_t = service_specific_credentials
_SELECT = select(_t, users.c.name.label("user_name")).join(users, users.c.user_id == _t.c.user_id)
_BY_ID = _SELECT.where(
    _t.c.credential_id == bindparam("cid"), _t.c.account_id == bindparam("account_id")
)
_OF_USER = _SELECT.where(_t.c.user_id == bindparam("user_id")).order_by(
    _t.c.create_date, _t.c.credential_id
)
_OF_ACCOUNT = _SELECT.where(_t.c.account_id == bindparam("account_id")).order_by(
    users.c.name_lower, _t.c.create_date, _t.c.credential_id
)
_BY_SERVICE_USER = _SELECT.where(
    _t.c.service_user_name == bindparam("name"), _t.c.account_id == bindparam("account_id")
)
_COUNT = (
    select(func.count())
    .select_from(_t)
    .where(_t.c.user_id == bindparam("user_id"), _t.c.service_name == bindparam("service_name"))
)
_INSERT = insert(_t)
_SET_STATUS = (
    update(_t).where(_t.c.credential_id == bindparam("cid")).values(status=bindparam("new"))
)
_SET_HASH = (
    update(_t).where(_t.c.credential_id == bindparam("cid")).values(password_hash=bindparam("new"))
)
_DELETE = delete(_t).where(_t.c.credential_id == bindparam("cid"))

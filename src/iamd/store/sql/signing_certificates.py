"""Users' X.509 signing certificates, in the repository's account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from iamd.model.certificates import SigningCertificate, SigningCertificateStatus
from iamd.store.schema import signing_certificates, users

_t = signing_certificates


def _to_certificate(row: Row[Any]) -> SigningCertificate:
    return SigningCertificate(
        certificate_id=row.certificate_id,
        user_id=row.user_id,
        user_name=row.user_name,
        body=row.body,
        status=SigningCertificateStatus(row.status),
        upload_date=row.upload_date,
    )


class SigningCertificateRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def _params(self, **values: Any) -> dict[str, Any]:
        return {"account": self._account_id, **values}

    def get(self, certificate_id: str) -> SigningCertificate | None:
        row = self._conn.execute(_BY_ID, self._params(cert_id=certificate_id)).first()
        return _to_certificate(row) if row else None

    def for_user(self, user_id: str) -> list[SigningCertificate]:
        rows = self._conn.execute(_OF_USER, self._params(user_id=user_id))
        return [_to_certificate(r) for r in rows]

    def count_for_user(self, user_id: str) -> int:
        return int(self._conn.execute(_COUNT_OF_USER, self._params(user_id=user_id)).scalar_one())

    def has_fingerprint(self, fingerprint: str) -> bool:
        """Whether any user of the account holds this certificate."""
        row = self._conn.execute(_BY_FINGERPRINT, self._params(fp=fingerprint)).first()
        return row is not None

    def add(self, certificate: SigningCertificate, fingerprint: str) -> None:
        self._conn.execute(
            insert(_t),
            {
                "certificate_id": certificate.certificate_id,
                "account_id": self._account_id,
                "user_id": certificate.user_id,
                "fingerprint": fingerprint,
                "body": certificate.body,
                "status": certificate.status.value,
                "upload_date": certificate.upload_date,
            },
        )

    def set_status(self, certificate_id: str, status: SigningCertificateStatus) -> None:
        self._conn.execute(
            _SET_STATUS, self._params(cert_id=certificate_id, new_status=status.value)
        )

    def delete(self, certificate_id: str) -> None:
        self._conn.execute(_DELETE, self._params(cert_id=certificate_id))


# The statements, built once (see named_entities for why).
_IN_ACCOUNT = _t.c.account_id == bindparam("account")
_SELECT = (
    select(_t, users.c.name.label("user_name"))
    .join(users, users.c.user_id == _t.c.user_id)
    .where(_IN_ACCOUNT)
)
_BY_ID = _SELECT.where(_t.c.certificate_id == bindparam("cert_id"))
_OF_USER = _SELECT.where(_t.c.user_id == bindparam("user_id")).order_by(
    _t.c.upload_date, _t.c.certificate_id
)
_COUNT_OF_USER = (
    select(func.count()).select_from(_t).where(_IN_ACCOUNT, _t.c.user_id == bindparam("user_id"))
)
_BY_FINGERPRINT = select(_t.c.certificate_id).where(
    _IN_ACCOUNT, _t.c.fingerprint == bindparam("fp")
)
_SET_STATUS = (
    update(_t)
    .where(_IN_ACCOUNT, _t.c.certificate_id == bindparam("cert_id"))
    .values(status=bindparam("new_status"))
)
_DELETE = delete(_t).where(_IN_ACCOUNT, _t.c.certificate_id == bindparam("cert_id"))

"""Rows of outbound web identity federation: an account's issuer, its signing keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from iamd.store.schema import outbound_federation as _issuers
from iamd.store.schema import outbound_signing_keys as _keys


@dataclass(frozen=True, slots=True)
class IssuerRow:
    account_id: str
    issuer_id: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class SigningKeyRow:
    kid: str
    algorithm: str
    private_key_sealed: bytes = field(repr=False)
    public_jwk: str
    signs_from: datetime
    retires: datetime


def issuer_of(conn: Connection, account_id: str) -> IssuerRow | None:
    row = conn.execute(
        select(_issuers.c.account_id, _issuers.c.issuer_id, _issuers.c.enabled).where(
            _issuers.c.account_id == account_id
        )
    ).first()
    return None if row is None else IssuerRow(row[0], row[1], bool(row[2]))


def issuer_by_id(conn: Connection, issuer_id: str) -> IssuerRow | None:
    """The issuer named in a discovery URL, whatever its account (ids are unique)."""
    row = conn.execute(
        select(_issuers.c.account_id, _issuers.c.issuer_id, _issuers.c.enabled).where(
            _issuers.c.issuer_id == issuer_id
        )
    ).first()
    return None if row is None else IssuerRow(row[0], row[1], bool(row[2]))


def add_issuer(conn: Connection, account_id: str, issuer_id: str, now: datetime) -> None:
    conn.execute(
        insert(_issuers).values(
            account_id=account_id, issuer_id=issuer_id, enabled=True, changed=now
        )
    )


def set_enabled(conn: Connection, account_id: str, *, enabled: bool, now: datetime) -> bool:
    """Switch the feature; False when it was already so (or the account has no issuer)."""
    result = conn.execute(
        update(_issuers)
        .where(_issuers.c.account_id == account_id, _issuers.c.enabled == (not enabled))
        .values(enabled=enabled, changed=now)
    )
    return result.rowcount == 1


def add_key(conn: Connection, account_id: str, key: SigningKeyRow) -> None:
    conn.execute(
        insert(_keys).values(
            account_id=account_id,
            kid=key.kid,
            algorithm=key.algorithm,
            private_key_sealed=key.private_key_sealed,
            public_jwk=key.public_jwk,
            signs_from=key.signs_from,
            retires=key.retires,
        )
    )


def keys_retiring_after(
    conn: Connection, account_id: str, moment: datetime, algorithm: str | None = None
) -> list[SigningKeyRow]:
    """The account's keys that still sign or are published at `moment`, oldest first."""
    query = select(
        _keys.c.kid,
        _keys.c.algorithm,
        _keys.c.private_key_sealed,
        _keys.c.public_jwk,
        _keys.c.signs_from,
        _keys.c.retires,
    ).where(_keys.c.account_id == account_id, _keys.c.retires > moment)
    if algorithm is not None:
        query = query.where(_keys.c.algorithm == algorithm)
    rows = conn.execute(query.order_by(_keys.c.signs_from, _keys.c.kid)).all()
    return [SigningKeyRow(*row) for row in rows]


def forget_keys_retired_before(conn: Connection, account_id: str, moment: datetime) -> None:
    conn.execute(delete(_keys).where(_keys.c.account_id == account_id, _keys.c.retires <= moment))

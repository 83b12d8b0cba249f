"""SAML providers of the repository's account, their tags, and the assertion replay cache.

Provider names are unique per account ignoring case (`name_lower`); listings are in name
order. The replay cache holds an accepted assertion's ID until its NotOnOrAfter: a second
insert of the same ID fails on the primary key, which is what refuses a replay even when
two requests race.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model.saml_providers import SamlPrivateKey, SamlProvider
from iamd.store.schema import (
    saml_assertion_replays,
    saml_provider_private_keys,
    saml_provider_tags,
    saml_providers,
)
from iamd.store.sql.tags import TagRepository

_t = saml_providers
_r = saml_assertion_replays
_k = saml_provider_private_keys


def saml_provider_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:saml-provider/{name}"


class SamlProviderRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id
        self.tags = TagRepository(conn, saml_provider_tags, "provider_id", account_id)

    def _to_provider(self, row: Row[Any], tags: tuple[Any, ...] | None = None) -> SamlProvider:
        return SamlProvider(
            provider_id=row.provider_id,
            name=row.name,
            arn=saml_provider_arn(self._account_id, row.name),
            metadata_document=row.metadata_document,
            create_date=row.create_date,
            valid_until=row.valid_until,
            tags=self.tags.of(row.provider_id) if tags is None else tags,
            assertion_encryption_mode=row.assertion_encryption_mode,
            private_keys=tuple(
                SamlPrivateKey(key_id, upload_date)
                for key_id, upload_date, _ in self._keys(row.provider_id)
            ),
        )

    def _keys(self, provider_id: str) -> list[tuple[str, datetime, bytes]]:
        rows = self._conn.execute(
            select(_k.c.key_id, _k.c.upload_date, _k.c.private_key_sealed)
            .where(_k.c.account_id == self._account_id, _k.c.provider_id == provider_id)
            .order_by(_k.c.upload_date, _k.c.key_id)
        )
        return [(r.key_id, r.upload_date, bytes(r.private_key_sealed)) for r in rows]

    def sealed_private_keys(self, provider_id: str) -> list[tuple[str, bytes]]:
        """The provider's private keys as (key id, sealed PEM), oldest first."""
        return [(key_id, sealed) for key_id, _, sealed in self._keys(provider_id)]

    def add_private_key(
        self, provider_id: str, key_id: str, sealed: bytes, upload_date: datetime
    ) -> None:
        self._conn.execute(
            insert(_k),
            {
                "key_id": key_id,
                "provider_id": provider_id,
                "account_id": self._account_id,
                "private_key_sealed": sealed,
                "upload_date": upload_date,
            },
        )

    def remove_private_key(self, provider_id: str, key_id: str) -> bool:
        removed = self._conn.execute(
            delete(_k).where(
                _k.c.account_id == self._account_id,
                _k.c.provider_id == provider_id,
                _k.c.key_id == key_id,
            )
        )
        return bool(removed.rowcount)

    def set_encryption_mode(self, provider_id: str, mode: str) -> None:
        self._conn.execute(
            update(_t)
            .where(_t.c.account_id == self._account_id, _t.c.provider_id == provider_id)
            .values(assertion_encryption_mode=mode)
        )

    def get_by_name(self, name: str, *, for_update: bool = False) -> SamlProvider | None:
        statement = _BY_NAME_FOR_UPDATE if for_update else _BY_NAME
        row = self._conn.execute(
            statement, {"account": self._account_id, "name_lower": name.lower()}
        ).first()
        return self._to_provider(row) if row else None

    def count(self) -> int:
        return int(self._conn.execute(_COUNT, {"account": self._account_id}).scalar_one())

    def add(self, provider: SamlProvider) -> None:
        try:
            self._conn.execute(
                insert(_t),
                {
                    "provider_id": provider.provider_id,
                    "account_id": self._account_id,
                    "name": provider.name,
                    "name_lower": provider.name.lower(),
                    "metadata_document": provider.metadata_document,
                    "create_date": provider.create_date,
                    "valid_until": provider.valid_until,
                    "assertion_encryption_mode": provider.assertion_encryption_mode,
                },
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists.saml_provider(provider.name) from exc
        if provider.tags:
            self.tags.upsert(provider.provider_id, provider.tags)

    def listing(self) -> list[SamlProvider]:
        # At most 100 per account: ListSAMLProviders has no paging.
        query = select(_t).where(_t.c.account_id == self._account_id).order_by(_t.c.name_lower)
        return [self._to_provider(r, ()) for r in self._conn.execute(query).all()]

    def update_metadata(self, provider_id: str, document: str, valid_until: datetime) -> None:
        self._conn.execute(
            update(_t)
            .where(_t.c.account_id == self._account_id, _t.c.provider_id == provider_id)
            .values(metadata_document=document, valid_until=valid_until)
        )

    def delete(self, provider_id: str) -> None:
        # Its tags and private keys go with it (ON DELETE CASCADE).
        self._conn.execute(
            delete(_t).where(_t.c.account_id == self._account_id, _t.c.provider_id == provider_id)
        )

    def assertion_seen(self, assertion_id: str) -> bool:
        """Whether an assertion was accepted before (and is still remembered)."""
        key = {"account": self._account_id, "assertion_id": assertion_id}
        return self._conn.execute(_SEEN, key).first() is not None

    def record_assertion(self, assertion_id: str, not_on_or_after: datetime, now: datetime) -> bool:
        """Remember an accepted assertion; False when it was already seen (a replay)."""
        self._conn.execute(delete(_r).where(_r.c.not_on_or_after < now))
        key = {"account": self._account_id, "assertion_id": assertion_id}
        if self._conn.execute(_SEEN, key).first() is not None:
            return False
        try:
            self._conn.execute(
                insert(_r),
                {
                    "account_id": self._account_id,
                    "assertion_id": assertion_id,
                    "not_on_or_after": not_on_or_after,
                },
            )
        except IntegrityError:
            # A concurrent request recorded it first; the caller refuses, which rolls
            # this transaction back.
            return False
        return True


# The statements, built once (see named_entities for why).
_BY_NAME = select(_t).where(
    _t.c.account_id == bindparam("account"), _t.c.name_lower == bindparam("name_lower")
)
_BY_NAME_FOR_UPDATE = _BY_NAME.with_for_update()
_COUNT = select(func.count()).select_from(_t).where(_t.c.account_id == bindparam("account"))
_SEEN = select(_r.c.assertion_id).where(
    _r.c.account_id == bindparam("account"), _r.c.assertion_id == bindparam("assertion_id")
)

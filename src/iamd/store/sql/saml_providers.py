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
from iamd.model.saml_providers import SamlProvider
from iamd.store.schema import saml_assertion_replays, saml_provider_tags, saml_providers
from iamd.store.sql.tags import TagRepository

_t = saml_providers
_r = saml_assertion_replays


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
                },
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists.saml_provider(provider.name) from exc
        if provider.tags:
            self.tags.upsert(provider.provider_id, provider.tags)

    def listing(self) -> list[SamlProvider]:
        # At most 100 per account: ListSAMLProviders has no paging.
        query = select(_t).where(_t.c.account_id == self._account_id).order_by(_t.c.name_lower)
        return [self._to_provider(r, ()) for r in self._conn.execute(query)]

    def update_metadata(self, provider_id: str, document: str, valid_until: datetime) -> None:
        self._conn.execute(
            update(_t)
            .where(_t.c.account_id == self._account_id, _t.c.provider_id == provider_id)
            .values(metadata_document=document, valid_until=valid_until)
        )

    def delete(self, provider_id: str) -> None:
        # Its tags go with it (ON DELETE CASCADE).
        self._conn.execute(
            delete(_t).where(_t.c.account_id == self._account_id, _t.c.provider_id == provider_id)
        )

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

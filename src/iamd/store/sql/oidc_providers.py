"""OpenID Connect providers of the repository's account, and their tags.

A provider is unique per account by its URL (without `https://`, exactly as given:
AWS does not fold case there). Client ids and thumbprints are small JSON lists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model.oidc_providers import OIDCProvider
from iamd.store.schema import oidc_provider_tags, oidc_providers
from iamd.store.sql.tags import TagRepository

_t = oidc_providers


def oidc_provider_arn(account_id: str, url: str) -> str:
    return f"arn:aws:iam::{account_id}:oidc-provider/{url}"


class OIDCProviderRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id
        self.tags = TagRepository(conn, oidc_provider_tags, "provider_id", account_id)

    def _to_provider(self, row: Row[Any]) -> OIDCProvider:
        return OIDCProvider(
            provider_id=row.provider_id,
            arn=oidc_provider_arn(self._account_id, row.url),
            url=row.url,
            client_ids=tuple(json.loads(row.client_ids)),
            thumbprints=tuple(json.loads(row.thumbprints)),
            create_date=row.create_date,
            tags=self.tags.of(row.provider_id),
        )

    def get_by_url(self, url: str, *, for_update: bool = False) -> OIDCProvider | None:
        statement = _BY_URL_FOR_UPDATE if for_update else _BY_URL
        row = self._conn.execute(statement, {"account": self._account_id, "url": url}).first()
        return self._to_provider(row) if row else None

    def count(self) -> int:
        return int(self._conn.execute(_COUNT, {"account": self._account_id}).scalar_one())

    def urls(self) -> list[str]:
        query = select(_t.c.url).where(_t.c.account_id == self._account_id).order_by(_t.c.url)
        return [str(u) for u in self._conn.execute(query).scalars()]

    def add(self, provider: OIDCProvider) -> None:
        try:
            self._conn.execute(
                insert(_t),
                {
                    "provider_id": provider.provider_id,
                    "account_id": self._account_id,
                    "url": provider.url,
                    "client_ids": json.dumps(list(provider.client_ids)),
                    "thumbprints": json.dumps(list(provider.thumbprints)),
                    "create_date": provider.create_date,
                },
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists.oidc_provider(provider.url) from exc
        if provider.tags:
            self.tags.upsert(provider.provider_id, provider.tags)

    def set_client_ids(self, provider_id: str, client_ids: Sequence[str]) -> None:
        self._set(provider_id, client_ids=json.dumps(list(client_ids)))

    def set_thumbprints(self, provider_id: str, thumbprints: Sequence[str]) -> None:
        self._set(provider_id, thumbprints=json.dumps(list(thumbprints)))

    def _set(self, provider_id: str, **values: str) -> None:
        self._conn.execute(
            update(_t)
            .where(_t.c.account_id == self._account_id, _t.c.provider_id == provider_id)
            .values(values)
        )

    def delete(self, provider_id: str) -> None:
        # Its tags go with it (ON DELETE CASCADE).
        self._conn.execute(
            delete(_t).where(_t.c.account_id == self._account_id, _t.c.provider_id == provider_id)
        )


# The statements, built once (see named_entities for why).
_BY_URL = select(_t).where(_t.c.account_id == bindparam("account"), _t.c.url == bindparam("url"))
_BY_URL_FOR_UPDATE = _BY_URL.with_for_update()
_COUNT = select(func.count()).select_from(_t).where(_t.c.account_id == bindparam("account"))

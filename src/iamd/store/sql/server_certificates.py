"""Server certificates of the repository's account, their sealed keys and their tags.

Names are unique per account ignoring case (`name_lower`); listings are in name order
with keyset markers. The sealed private key is written here and read by nothing that
answers a request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model import iam_arn
from iamd.model.certificates import ServerCertificate
from iamd.model.page import Page
from iamd.store.schema import server_certificate_tags, server_certificates
from iamd.store.sql.paging import decode_marker, page_of
from iamd.store.sql.tags import TagRepository

_t = server_certificates
# Every column but the sealed key: reads never carry it.
_PUBLIC_COLUMNS = [c for c in _t.c if c.name != "private_key_sealed"]


class ServerCertificateRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id
        self.tags = TagRepository(
            conn, server_certificate_tags, "server_certificate_id", account_id
        )

    def _to_certificate(
        self, row: Row[Any], tags: tuple[Any, ...] | None = None
    ) -> ServerCertificate:
        return ServerCertificate(
            server_certificate_id=row.server_certificate_id,
            name=row.name,
            path=row.path,
            arn=iam_arn(self._account_id, "server-certificate", row.path, row.name),
            body=row.body,
            chain=row.chain,
            expiration=row.expiration,
            upload_date=row.upload_date,
            tags=self.tags.of(row.server_certificate_id) if tags is None else tags,
        )

    def get_by_name(self, name: str, *, for_update: bool = False) -> ServerCertificate | None:
        statement = _BY_NAME_FOR_UPDATE if for_update else _BY_NAME
        row = self._conn.execute(
            statement, {"account": self._account_id, "name_lower": name.lower()}
        ).first()
        return self._to_certificate(row) if row else None

    def count(self) -> int:
        return int(self._conn.execute(_COUNT, {"account": self._account_id}).scalar_one())

    def add(self, certificate: ServerCertificate, private_key_sealed: bytes) -> None:
        try:
            self._conn.execute(
                insert(_t),
                {
                    "server_certificate_id": certificate.server_certificate_id,
                    "account_id": self._account_id,
                    "name": certificate.name,
                    "name_lower": certificate.name.lower(),
                    "path": certificate.path,
                    "body": certificate.body,
                    "chain": certificate.chain,
                    "private_key_sealed": private_key_sealed,
                    "expiration": certificate.expiration,
                    "upload_date": certificate.upload_date,
                },
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists.server_certificate(certificate.name) from exc
        if certificate.tags:
            self.tags.upsert(certificate.server_certificate_id, certificate.tags)

    def listing(
        self, path_prefix: str, marker: str | None, max_items: int
    ) -> Page[ServerCertificate]:
        query = (
            select(*_PUBLIC_COLUMNS)
            .where(_t.c.account_id == self._account_id)
            .order_by(_t.c.name_lower)
            .limit(max_items + 1)
        )
        if path_prefix != "/":
            query = query.where(_t.c.path.startswith(path_prefix, autoescape=True))
        after = decode_marker(marker)
        if after is not None:
            query = query.where(_t.c.name_lower > after)
        rows = page_of(list(self._conn.execute(query)), max_items, lambda r: str(r.name_lower))
        # The metadata of a listing carries no tags: one query per page, not per item.
        return Page([self._to_certificate(r, ()) for r in rows.items], rows.next_marker)

    def rename(self, certificate_id: str, new_name: str | None, new_path: str | None) -> None:
        values: dict[str, str] = {}
        if new_name is not None:
            values["name"] = new_name
            values["name_lower"] = new_name.lower()
        if new_path is not None:
            values["path"] = new_path
        if not values:
            return
        try:
            self._conn.execute(
                update(_t)
                .where(
                    _t.c.account_id == self._account_id,
                    _t.c.server_certificate_id == certificate_id,
                )
                .values(values)
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists.server_certificate(str(new_name)) from exc

    def delete(self, certificate_id: str) -> None:
        # Its tags go with it (ON DELETE CASCADE).
        self._conn.execute(
            delete(_t).where(
                _t.c.account_id == self._account_id, _t.c.server_certificate_id == certificate_id
            )
        )


# The statements, built once (see named_entities for why).
_BY_NAME = select(*_PUBLIC_COLUMNS).where(
    _t.c.account_id == bindparam("account"), _t.c.name_lower == bindparam("name_lower")
)
_BY_NAME_FOR_UPDATE = _BY_NAME.with_for_update()
_COUNT = select(func.count()).select_from(_t).where(_t.c.account_id == bindparam("account"))

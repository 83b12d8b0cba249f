"""Inline policies embedded in users and groups."""

from __future__ import annotations

from sqlalchemy import Connection, Table, delete, insert, select, update

from iamd.model import InlinePolicy
from iamd.model.page import Page
from iamd.store.sql.paging import decode_marker, page_of


class InlinePolicyRepository:
    """Inline policies of one kind of owner (`user_inline_policies` or `group_...`)."""

    def __init__(self, conn: Connection, table: Table, owner_column: str) -> None:
        self._conn = conn
        self._table = table
        self._owner = table.c[owner_column]

    def get(self, owner_id: str, name: str) -> InlinePolicy | None:
        t = self._table
        row = self._conn.execute(
            select(t.c.name, t.c.document).where(self._owner == owner_id, t.c.name == name)
        ).first()
        return InlinePolicy(row.name, row.document) if row else None

    def all(self, owner_id: str) -> list[InlinePolicy]:
        t = self._table
        rows = self._conn.execute(
            select(t.c.name, t.c.document).where(self._owner == owner_id).order_by(t.c.name)
        )
        return [InlinePolicy(r.name, r.document) for r in rows]

    def names(self, owner_id: str, marker: str | None, max_items: int) -> Page[str]:
        t = self._table
        after = decode_marker(marker)
        query = select(t.c.name).where(self._owner == owner_id).order_by(t.c.name)
        if after is not None:
            query = query.where(t.c.name > after)
        rows = [r.name for r in self._conn.execute(query.limit(max_items + 1))]
        return page_of(rows, max_items, lambda name: name)

    def put(self, owner_id: str, name: str, document: str) -> None:
        t = self._table
        result = self._conn.execute(
            update(t).where(self._owner == owner_id, t.c.name == name).values(document=document)
        )
        if not result.rowcount:
            self._conn.execute(
                insert(t).values({self._owner.name: owner_id, "name": name, "document": document})
            )

    def delete(self, owner_id: str, name: str) -> bool:
        t = self._table
        result = self._conn.execute(delete(t).where(self._owner == owner_id, t.c.name == name))
        return bool(result.rowcount)

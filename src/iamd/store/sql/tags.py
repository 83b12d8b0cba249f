"""Tags stored beside their entity (users, policies): keys unique ignoring case.

A tag table with an `account_id` column (server certificates) is given the account: its
rows are written with it and every statement filters by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, delete, func, insert, select, true

from iamd.model import Tag


class TagRepository:
    def __init__(
        self, conn: Connection, table: Table, owner_column: str, account_id: str | None = None
    ) -> None:
        self._conn = conn
        self._table = table
        self._owner = table.c[owner_column]
        self._account_id = account_id

    def _scope(self) -> Any:
        """The owner's rows, in the repository's account when the table has one."""
        if self._account_id is None:
            return true()
        return self._table.c.account_id == self._account_id

    def _scoped(self) -> dict[str, str]:
        return {} if self._account_id is None else {"account_id": self._account_id}

    def of(self, owner_id: str) -> tuple[Tag, ...]:
        params = {"owner": owner_id, **self._scoped()}
        statement = _tags_of(self._table, self._owner.name, self._account_id is not None)
        rows = self._conn.execute(statement, params)
        return tuple(Tag(r.key, r.value) for r in rows)

    def list_many(self, owner_ids: Sequence[str]) -> dict[str, tuple[Tag, ...]]:
        if not owner_ids:
            return {}
        t = self._table
        found: dict[str, list[Tag]] = {}
        rows = self._conn.execute(
            select(self._owner, t.c.key, t.c.value)
            .where(self._owner.in_(owner_ids), self._scope())
            .order_by(self._owner, t.c.position)
        )
        for owner, key, value in rows:
            found.setdefault(owner, []).append(Tag(key, value))
        return {owner: tuple(tags) for owner, tags in found.items()}

    def upsert(self, owner_id: str, tags: Iterable[Tag]) -> None:
        """Add tags, replacing the value of a key already present (any case)."""
        t = self._table
        next_position = self._conn.execute(
            select(func.coalesce(func.max(t.c.position), 0)).where(
                self._owner == owner_id, self._scope()
            )
        ).scalar_one()
        for tag in tags:
            key_lower = tag.key.lower()
            self._conn.execute(
                delete(t).where(self._owner == owner_id, t.c.key_lower == key_lower, self._scope())
            )
            next_position += 1
            self._conn.execute(
                insert(t).values(
                    {
                        self._owner.name: owner_id,
                        "key_lower": key_lower,
                        "key": tag.key,
                        "value": tag.value,
                        "position": next_position,
                        **self._scoped(),
                    }
                )
            )

    def remove(self, owner_id: str, keys: Iterable[str]) -> None:
        t = self._table
        lowered = [k.lower() for k in keys]
        if lowered:
            self._conn.execute(
                delete(t).where(self._owner == owner_id, t.c.key_lower.in_(lowered), self._scope())
            )

    def count(self, owner_id: str) -> int:
        t = self._table
        return int(
            self._conn.execute(
                select(func.count()).select_from(t).where(self._owner == owner_id, self._scope())
            ).scalar_one()
        )


@cache
def _tags_of(table: Table, owner_column: str, scoped: bool = False) -> Select[Any]:
    # Built once: see named_entities for why statements are prebuilt on hot paths.
    query = select(table.c.key, table.c.value).where(table.c[owner_column] == bindparam("owner"))
    if scoped:
        query = query.where(table.c.account_id == bindparam("account_id"))
    return query.order_by(table.c.position)

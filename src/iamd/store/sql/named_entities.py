"""What every named IAM entity table shares (users, groups and roles).

Each has an id column, a `name` unique ignoring case through `name_lower`, a `path`, and
is listed in name order with keyset markers. Subclasses say which table, what the
entity is called in AWS's messages, and how a row becomes a domain object.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Insert,
    Row,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model.page import Page
from iamd.store.schema import entity_counts
from iamd.store.sql.paging import decode_marker, page_of

E = TypeVar("E")


class NamedEntityRepository(Generic[E]):
    table: Table
    id_column: str
    # How AWS names the entity in "<Label> with name X already exists."
    label: str

    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def _to_entity(self, row: Row[Any]) -> E:
        raise NotImplementedError

    @property
    def _id(self) -> Column[Any]:
        return self.table.c[self.id_column]

    def get_by_name(self, name: str, *, for_update: bool = False) -> E | None:
        row = self._conn.execute(
            _by_name(self.table, for_update),
            {"name_lower": name.lower(), "account_id": self._account_id},
        ).first()
        return self._to_entity(row) if row else None

    def get_by_id(self, entity_id: str) -> E | None:
        """The entity of this account with the id, or None (also when another account's)."""
        row = self._conn.execute(
            _by_id(self.table, self.id_column), {"id": entity_id, "account_id": self._account_id}
        ).first()
        return self._to_entity(row) if row else None

    def find_by_id_in_any_account(self, entity_id: str) -> E | None:
        """The entity with the id, whatever its account: ids are unique across accounts.

        Only for resolving a credential (a key's user, a session's role), which is what
        tells the request its account; everything else looks up within its account.
        """
        row = self._conn.execute(_by_id_anywhere(self.table, self.id_column), {"id": entity_id})
        found = row.first()
        return self._to_entity(found) if found else None

    def count(self) -> int:
        """How many the account has: one row of `entity_counts`, whatever the size."""
        found = self._conn.execute(
            _COUNT_OF_KIND, {"account_id": self._account_id, "kind": self.table.name}
        ).scalar()
        return int(found or 0)

    def _counted(self, change: int) -> None:
        """Keep `entity_counts` true in the transaction that inserted or deleted a row."""
        params = {"of_account": self._account_id, "of_kind": self.table.name, "change": change}
        if self._conn.execute(_CHANGE_COUNT, params).rowcount == 0:
            # The account's first of its kind. Two such inserts at once: the loser's
            # primary key violation fails its write, as any conflicting write does.
            self._conn.execute(_FIRST_COUNT, params)

    def _insert(self, name: str, values: dict[str, Any]) -> None:
        try:
            # One statement per table, the values as parameters: building and
            # compiling an INSERT with inline values was most of a CreateUser's SQL cost.
            self._conn.execute(
                _insert_into(self.table),
                {
                    **values,
                    "account_id": self._account_id,
                    "name": name,
                    "name_lower": name.lower(),
                },
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists(f"{self.label} with name {name} already exists.") from exc
        self._counted(1)

    def rename(self, entity_id: str, new_name: str | None, new_path: str | None) -> None:
        values: dict[str, str] = {}
        if new_name is not None:
            values["name"] = new_name
            values["name_lower"] = new_name.lower()
        if new_path is not None:
            values["path"] = new_path
        if not values:
            return
        try:
            self._conn.execute(update(self.table).where(self._id == entity_id).values(values))
        except IntegrityError as exc:
            raise EntityAlreadyExists(f"{self.label} with name {new_name} already exists.") from exc

    def delete(self, entity_id: str) -> None:
        gone = self._conn.execute(
            delete(self.table).where(
                self._id == entity_id, self.table.c.account_id == self._account_id
            )
        ).rowcount
        if gone:
            self._counted(-gone)

    def set_permissions_boundary(self, entity_id: str, arn: str | None) -> None:
        """Users and roles: set (or, with None, remove) the permissions boundary."""
        self._conn.execute(
            update(self.table).where(self._id == entity_id).values(permissions_boundary_arn=arn)
        )

    def _dependents(self, entity_id: str, checks: list[tuple[str, Column[Any]]]) -> list[str]:
        """The labels of `checks` whose column holds a row referring to the entity."""
        return [
            label
            for label, column in checks
            if self._conn.execute(select(exists().where(column == entity_id))).scalar()
        ]

    def _page_by_name(
        self,
        query: Select[Any],
        marker: str | None,
        max_items: int,
        path_prefix: str = "/",
    ) -> Page[Row[Any]]:
        """Rows of `query` in name order, one page after `marker`."""
        name_lower = self.table.c.name_lower
        query = (
            query.where(self.table.c.account_id == self._account_id)
            .order_by(name_lower)
            .limit(max_items + 1)
        )
        if path_prefix != "/":
            query = query.where(self.table.c.path.startswith(path_prefix, autoescape=True))
        after = decode_marker(marker)
        if after is not None:
            query = query.where(name_lower > after)
        return page_of(list(self._conn.execute(query)), max_items, _name_lower)

    def _listing(
        self,
        path_prefix: str,
        marker: str | None,
        max_items: int,
        render: Callable[[list[Row[Any]]], list[E]] | None = None,
    ) -> Page[E]:
        rows = self._page_by_name(select(self.table), marker, max_items, path_prefix)
        entities = render(rows.items) if render else [self._to_entity(r) for r in rows.items]
        return Page(entities, rows.next_marker)


# Statements built once and executed with parameters: building a statement costs more
# than running it (measured: 215 us against 76 us for a user look-up on SQLite).
@cache
def _by_name(table: Table, for_update: bool) -> Select[Any]:
    query = select(table).where(
        table.c.account_id == bindparam("account_id"),
        table.c.name_lower == bindparam("name_lower"),
    )
    return query.with_for_update() if for_update else query


@cache
def _insert_into(table: Table) -> Insert:
    return insert(table)


@cache
def _by_id(table: Table, id_column: str) -> Select[Any]:
    return select(table).where(
        table.c[id_column] == bindparam("id"), table.c.account_id == bindparam("account_id")
    )


@cache
def _by_id_anywhere(table: Table, id_column: str) -> Select[Any]:
    return select(table).where(table.c[id_column] == bindparam("id"))


_COUNT_OF_KIND = select(entity_counts.c.n).where(
    entity_counts.c.account_id == bindparam("account_id"),
    entity_counts.c.kind == bindparam("kind"),
)
_CHANGE_COUNT = (
    update(entity_counts)
    .where(
        entity_counts.c.account_id == bindparam("of_account"),
        entity_counts.c.kind == bindparam("of_kind"),
    )
    .values(n=entity_counts.c.n + bindparam("change"))
)
_FIRST_COUNT = insert(entity_counts).values(
    account_id=bindparam("of_account"), kind=bindparam("of_kind"), n=bindparam("change")
)


def _name_lower(row: Row[Any]) -> str:
    return str(row.name_lower)

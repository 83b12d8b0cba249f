"""Roles: rows of the `roles` table, their tags, and when a session of each was last used."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from iamd.model import Role, Tag, iam_arn
from iamd.model.page import Page
from iamd.store.schema import role_inline_policies, role_policy_attachments, role_tags, roles
from iamd.store.sql.named_entities import NamedEntityRepository
from iamd.store.sql.tags import TagRepository


class RoleRepository(NamedEntityRepository[Role]):
    table = roles
    id_column = "role_id"
    label = "Role"

    def __init__(self, conn: Connection, account_id: str) -> None:
        super().__init__(conn, account_id)
        self.tags = TagRepository(conn, role_tags, "role_id")

    def _to_entity(self, row: Row[Any]) -> Role:
        return self._role(row, self.tags.of(row.role_id))

    def _role(self, row: Row[Any], tags: tuple[Tag, ...]) -> Role:
        return Role(
            role_id=row.role_id,
            name=row.name,
            path=row.path,
            arn=iam_arn(row.account_id, "role", row.path, row.name),
            create_date=row.create_date,
            assume_role_policy=row.assume_role_policy,
            max_session_duration=int(row.max_session_duration),
            description=row.description,
            permissions_boundary_arn=row.permissions_boundary_arn,
            last_used_date=row.last_used_date,
            last_used_region=row.last_used_region,
            tags=tags,
        )

    def add(self, role: Role) -> None:
        self._insert(
            role.name,
            {
                "role_id": role.role_id,
                "path": role.path,
                "create_date": role.create_date,
                "assume_role_policy": role.assume_role_policy,
                "description": role.description,
                "max_session_duration": role.max_session_duration,
                "permissions_boundary_arn": role.permissions_boundary_arn,
            },
        )
        if role.tags:
            self.tags.upsert(role.role_id, role.tags)

    def update(self, role_id: str, **values: str | int | None) -> None:
        """Set columns of the role (description, max_session_duration, assume_role_policy)."""
        allowed = {"description", "max_session_duration", "assume_role_policy"}
        if not values.keys() <= allowed:
            raise ValueError(f"cannot update {sorted(values.keys() - allowed)} of a role")
        if values:
            self._conn.execute(update(roles).where(roles.c.role_id == role_id).values(values))

    def listing(self, path_prefix: str, marker: str | None, max_items: int) -> Page[Role]:
        # ListRoles shows neither tags nor boundaries (as AWS's does not): no tag query.
        def render(rows: list[Row[Any]]) -> list[Role]:
            return [self._role(row, ()) for row in rows]

        return self._listing(path_prefix, marker, max_items, render)

    def listing_with_tags(self, marker: str | None, max_items: int) -> Page[Role]:
        """Every role with its tags (GetAccountAuthorizationDetails), tags in one query."""

        def render(rows: list[Row[Any]]) -> list[Role]:
            tags = self.tags.list_many([row.role_id for row in rows])
            return [self._role(row, tags.get(row.role_id, ())) for row in rows]

        return self._listing("/", marker, max_items, render)

    def trust_policies_containing(self, fragment: str) -> list[Role]:
        """Roles whose trust policy text contains `fragment` (without their tags)."""
        query = select(roles).where(
            roles.c.account_id == self._account_id,
            roles.c.assume_role_policy.contains(fragment, autoescape=True),
        )
        return [self._role(row, ()) for row in self._conn.execute(query)]

    def dependents(self, role_id: str) -> list[str]:
        """What must go before the role can be deleted, in the order AWS reports it."""
        return self._dependents(
            role_id,
            [
                ("policies", role_inline_policies.c.role_id),
                ("attached policies", role_policy_attachments.c.role_id),
            ],
        )


@dataclass(frozen=True, slots=True)
class RoleLastUse:
    role_id: str
    when: datetime
    region: str


def record_role_last_uses(conn: Connection, uses: Iterable[RoleLastUse]) -> None:
    """Write the latest use of each role; an older use never replaces a newer one."""
    batch = [{"rid": u.role_id, "when": u.when, "region": u.region} for u in uses]
    if batch:
        conn.execute(_RECORD_LAST_USE, batch)


# Built once (see named_entities). A role deleted meanwhile updates nothing. The date
# only moves forward, so a late batch from another node cannot turn it back.
_RECORD_LAST_USE = (
    update(roles)
    .where(
        roles.c.role_id == bindparam("rid"),
        (roles.c.last_used_date.is_(None)) | (roles.c.last_used_date < bindparam("when")),
    )
    .values(last_used_date=bindparam("when"), last_used_region=bindparam("region"))
)

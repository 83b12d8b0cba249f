"""Groups and their memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, exists, func, insert, select

from iamd.model import Group, User, iam_arn
from iamd.model.page import Page
from iamd.store.schema import (
    group_inline_policies,
    group_members,
    group_policy_attachments,
    groups,
)
from iamd.store.sql.named_entities import NamedEntityRepository
from iamd.store.sql.users import UserRepository


class GroupRepository(NamedEntityRepository[Group]):
    table = groups
    id_column = "group_id"
    label = "Group"

    def _to_entity(self, row: Row[Any]) -> Group:
        return Group(
            group_id=row.group_id,
            name=row.name,
            path=row.path,
            arn=iam_arn(row.account_id, "group", row.path, row.name),
            create_date=row.create_date,
        )

    def add(self, group: Group) -> None:
        self._insert(
            group.name,
            {"group_id": group.group_id, "path": group.path, "create_date": group.create_date},
        )

    def listing(self, path_prefix: str, marker: str | None, max_items: int) -> Page[Group]:
        return self._listing(path_prefix, marker, max_items)

    def list_for_user(self, user_id: str, marker: str | None, max_items: int) -> Page[Group]:
        query = (
            select(groups)
            .join(group_members, group_members.c.group_id == groups.c.group_id)
            .where(group_members.c.user_id == user_id)
        )
        page = self._page_by_name(query, marker, max_items)
        return Page([self._to_entity(r) for r in page.items], page.next_marker)

    def group_ids_of_user(self, user_id: str) -> list[str]:
        rows = self._conn.execute(
            select(group_members.c.group_id).where(group_members.c.user_id == user_id)
        )
        return [r.group_id for r in rows]

    def count_for_user(self, user_id: str) -> int:
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(group_members)
                .where(group_members.c.user_id == user_id)
            ).scalar_one()
        )

    def members(self, group_id: str, marker: str | None, max_items: int) -> Page[User]:
        """The group's users in name order (listed without tags, as GetGroup shows them)."""
        return UserRepository(self._conn, self._account_id).members_of_group(
            group_id, marker, max_items
        )

    def is_member(self, group_id: str, user_id: str) -> bool:
        return bool(
            self._conn.execute(
                select(
                    exists().where(
                        group_members.c.group_id == group_id, group_members.c.user_id == user_id
                    )
                )
            ).scalar()
        )

    def add_member(self, group_id: str, user_id: str, when: datetime) -> None:
        self._conn.execute(
            insert(group_members).values(group_id=group_id, user_id=user_id, added=when)
        )

    def remove_member(self, group_id: str, user_id: str) -> None:
        self._conn.execute(
            delete(group_members).where(
                group_members.c.group_id == group_id, group_members.c.user_id == user_id
            )
        )

    def dependents(self, group_id: str) -> list[str]:
        return self._dependents(
            group_id,
            [
                ("users", group_members.c.group_id),
                ("policies", group_inline_policies.c.group_id),
                ("attached policies", group_policy_attachments.c.group_id),
            ],
        )

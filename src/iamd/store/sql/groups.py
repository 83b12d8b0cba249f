"""Groups and their memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model import Group, User, iam_arn
from iamd.store.schema import (
    group_inline_policies,
    group_members,
    group_policy_attachments,
    groups,
    users,
)
from iamd.store.sql.paging import Page, decode_marker, page_of


class GroupRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def _to_group(self, row: Row[Any]) -> Group:
        return Group(
            group_id=row.group_id,
            name=row.name,
            path=row.path,
            arn=iam_arn(self._account_id, "group", row.path, row.name),
            create_date=row.create_date,
        )

    def get_by_name(self, name: str, *, for_update: bool = False) -> Group | None:
        query = select(groups).where(groups.c.name_lower == name.lower())
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return self._to_group(row) if row else None

    def get_by_id(self, group_id: str) -> Group | None:
        row = self._conn.execute(select(groups).where(groups.c.group_id == group_id)).first()
        return self._to_group(row) if row else None

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(groups)).scalar_one())

    def add(self, group: Group) -> None:
        try:
            self._conn.execute(
                insert(groups).values(
                    group_id=group.group_id,
                    name=group.name,
                    name_lower=group.name.lower(),
                    path=group.path,
                    create_date=group.create_date,
                )
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists(f"Group with name {group.name} already exists.") from exc

    def rename(self, group_id: str, new_name: str | None, new_path: str | None) -> None:
        values: dict[str, str] = {}
        if new_name is not None:
            values["name"] = new_name
            values["name_lower"] = new_name.lower()
        if new_path is not None:
            values["path"] = new_path
        if values:
            try:
                self._conn.execute(
                    update(groups).where(groups.c.group_id == group_id).values(values)
                )
            except IntegrityError as exc:
                raise EntityAlreadyExists(f"Group with name {new_name} already exists.") from exc

    def delete(self, group_id: str) -> None:
        self._conn.execute(delete(groups).where(groups.c.group_id == group_id))

    def listing(self, path_prefix: str, marker: str | None, max_items: int) -> Page[Group]:
        after = decode_marker(marker)
        query = select(groups).order_by(groups.c.name_lower).limit(max_items + 1)
        if path_prefix != "/":
            query = query.where(groups.c.path.startswith(path_prefix, autoescape=True))
        if after is not None:
            query = query.where(groups.c.name_lower > after)
        page = page_of(list(self._conn.execute(query)), max_items, lambda r: r.name_lower)
        return Page([self._to_group(r) for r in page.items], page.next_marker)

    def list_for_user(self, user_id: str, marker: str | None, max_items: int) -> Page[Group]:
        after = decode_marker(marker)
        query = (
            select(groups)
            .join(group_members, group_members.c.group_id == groups.c.group_id)
            .where(group_members.c.user_id == user_id)
            .order_by(groups.c.name_lower)
            .limit(max_items + 1)
        )
        if after is not None:
            query = query.where(groups.c.name_lower > after)
        page = page_of(list(self._conn.execute(query)), max_items, lambda r: r.name_lower)
        return Page([self._to_group(r) for r in page.items], page.next_marker)

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
        after = decode_marker(marker)
        query = (
            select(users)
            .join(group_members, group_members.c.user_id == users.c.user_id)
            .where(group_members.c.group_id == group_id)
            .order_by(users.c.name_lower)
            .limit(max_items + 1)
        )
        if after is not None:
            query = query.where(users.c.name_lower > after)
        page = page_of(list(self._conn.execute(query)), max_items, lambda r: r.name_lower)
        return Page(
            [
                User(
                    user_id=r.user_id,
                    name=r.name,
                    path=r.path,
                    arn=iam_arn(self._account_id, "user", r.path, r.name),
                    create_date=r.create_date,
                    password_last_used=r.password_last_used,
                    permissions_boundary_arn=r.permissions_boundary_arn,
                )
                for r in page.items
            ],
            page.next_marker,
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
        checks = [
            ("users", group_members.c.group_id),
            ("policies", group_inline_policies.c.group_id),
            ("attached policies", group_policy_attachments.c.group_id),
        ]
        return [
            label
            for label, column in checks
            if self._conn.execute(select(exists().where(column == group_id))).scalar()
        ]

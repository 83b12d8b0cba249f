"""Users: rows of the `users` table and what hangs off them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model import User, iam_arn
from iamd.store.schema import (
    access_keys,
    group_members,
    user_inline_policies,
    user_policy_attachments,
    user_tags,
    users,
)
from iamd.store.sql.paging import Page, decode_marker, page_of
from iamd.store.sql.tags import TagRepository


class UserRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id
        self.tags = TagRepository(conn, user_tags, "user_id")

    def _to_user(self, row: Row[Any], with_tags: bool = True) -> User:
        return User(
            user_id=row.user_id,
            name=row.name,
            path=row.path,
            arn=iam_arn(self._account_id, "user", row.path, row.name),
            create_date=row.create_date,
            password_last_used=row.password_last_used,
            permissions_boundary_arn=row.permissions_boundary_arn,
            tags=self.tags.of(row.user_id) if with_tags else (),
        )

    def get_by_name(self, name: str, *, for_update: bool = False) -> User | None:
        query = select(users).where(users.c.name_lower == name.lower())
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return self._to_user(row) if row else None

    def get_by_id(self, user_id: str) -> User | None:
        row = self._conn.execute(select(users).where(users.c.user_id == user_id)).first()
        return self._to_user(row) if row else None

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(users)).scalar_one())

    def add(self, user: User) -> None:
        try:
            self._conn.execute(
                insert(users).values(
                    user_id=user.user_id,
                    name=user.name,
                    name_lower=user.name.lower(),
                    path=user.path,
                    create_date=user.create_date,
                    permissions_boundary_arn=user.permissions_boundary_arn,
                )
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists(f"User with name {user.name} already exists.") from exc
        if user.tags:
            self.tags.upsert(user.user_id, user.tags)

    def rename(self, user_id: str, new_name: str | None, new_path: str | None) -> None:
        values: dict[str, str] = {}
        if new_name is not None:
            values["name"] = new_name
            values["name_lower"] = new_name.lower()
        if new_path is not None:
            values["path"] = new_path
        if values:
            try:
                self._conn.execute(update(users).where(users.c.user_id == user_id).values(values))
            except IntegrityError as exc:
                raise EntityAlreadyExists(f"User with name {new_name} already exists.") from exc

    def set_permissions_boundary(self, user_id: str, arn: str | None) -> None:
        self._conn.execute(
            update(users).where(users.c.user_id == user_id).values(permissions_boundary_arn=arn)
        )

    def set_password_last_used(self, user_id: str, when: datetime) -> None:
        self._conn.execute(
            update(users).where(users.c.user_id == user_id).values(password_last_used=when)
        )

    def delete(self, user_id: str) -> None:
        self._conn.execute(delete(users).where(users.c.user_id == user_id))

    def listing(self, path_prefix: str, marker: str | None, max_items: int) -> Page[User]:
        after = decode_marker(marker)
        query = select(users).order_by(users.c.name_lower).limit(max_items + 1)
        if path_prefix != "/":
            query = query.where(users.c.path.startswith(path_prefix, autoescape=True))
        if after is not None:
            query = query.where(users.c.name_lower > after)
        rows = list(self._conn.execute(query))
        page = page_of(rows, max_items, lambda row: row.name_lower)
        tags = self.tags.list_many([row.user_id for row in page.items])
        listed = [
            User(
                user_id=row.user_id,
                name=row.name,
                path=row.path,
                arn=iam_arn(self._account_id, "user", row.path, row.name),
                create_date=row.create_date,
                password_last_used=row.password_last_used,
                permissions_boundary_arn=row.permissions_boundary_arn,
                tags=tags.get(row.user_id, ()),
            )
            for row in page.items
        ]
        return Page(listed, page.next_marker)

    def dependents(self, user_id: str) -> list[str]:
        """What must go before the user can be deleted, in the order AWS reports it."""
        checks = [
            ("access keys", access_keys.c.user_id),
            ("policies", user_inline_policies.c.user_id),
            ("attached policies", user_policy_attachments.c.user_id),
            ("groups", group_members.c.user_id),
        ]
        found: list[str] = []
        for label, column in checks:
            if self._conn.execute(select(exists().where(column == user_id))).scalar():
                found.append(label)
        return found

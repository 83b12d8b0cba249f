"""Users: rows of the `users` table and what hangs off them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from iamd.model import Tag, User, UserHandle, iam_arn
from iamd.model.page import Page
from iamd.store.schema import (
    access_keys,
    group_members,
    login_profiles,
    mfa_devices,
    service_specific_credentials,
    signing_certificates,
    ssh_public_keys,
    user_inline_policies,
    user_policy_attachments,
    user_tags,
    users,
)
from iamd.store.sql.named_entities import NamedEntityRepository
from iamd.store.sql.tags import TagRepository


class UserRepository(NamedEntityRepository[User]):
    table = users
    id_column = "user_id"
    label = "User"

    def __init__(self, conn: Connection, account_id: str) -> None:
        super().__init__(conn, account_id)
        self.tags = TagRepository(conn, user_tags, "user_id")

    def _to_entity(self, row: Row[Any]) -> User:
        return self._user(row, self.tags.of(row.user_id))

    def _user(self, row: Row[Any], tags: tuple[Tag, ...]) -> User:
        return User(
            user_id=row.user_id,
            name=row.name,
            path=row.path,
            arn=iam_arn(row.account_id, "user", row.path, row.name),
            create_date=row.create_date,
            password_last_used=row.password_last_used,
            permissions_boundary_arn=row.permissions_boundary_arn,
            tags=tags,
        )

    def handle_by_name(self, name: str, *, for_update: bool = False) -> UserHandle | None:
        """The user's id and name, locking the row when asked (credential writes)."""
        query = _HANDLE_FOR_UPDATE if for_update else _HANDLE
        row = self._conn.execute(
            query, {"name_lower": name.lower(), "account_id": self._account_id}
        ).first()
        return UserHandle(row.user_id, row.name) if row else None

    def add(self, user: User) -> None:
        self._insert(
            user.name,
            {
                "user_id": user.user_id,
                "path": user.path,
                "create_date": user.create_date,
                "permissions_boundary_arn": user.permissions_boundary_arn,
            },
        )
        if user.tags:
            self.tags.upsert(user.user_id, user.tags)

    def listing(self, path_prefix: str, marker: str | None, max_items: int) -> Page[User]:
        # Tags of the whole page in one query rather than one per user.
        def render(rows: list[Row[Any]]) -> list[User]:
            tags = self.tags.list_many([row.user_id for row in rows])
            return [self._user(row, tags.get(row.user_id, ())) for row in rows]

        return self._listing(path_prefix, marker, max_items, render)

    def members_of_group(self, group_id: str, marker: str | None, max_items: int) -> Page[User]:
        query = (
            select(users)
            .join(group_members, group_members.c.user_id == users.c.user_id)
            .where(group_members.c.group_id == group_id)
        )
        page = self._page_by_name(query, marker, max_items)
        return Page([self._user(row, ()) for row in page.items], page.next_marker)

    def dependents(self, user_id: str) -> list[str]:
        """What must go before the user can be deleted, in the order AWS reports it."""
        return self._dependents(
            user_id,
            [
                ("login profile", login_profiles.c.user_id),
                ("access keys", access_keys.c.user_id),
                ("signing certificates", signing_certificates.c.user_id),
                ("ssh public keys", ssh_public_keys.c.user_id),
                ("service specific credentials", service_specific_credentials.c.user_id),
                ("mfa devices", mfa_devices.c.user_id),
                ("policies", user_inline_policies.c.user_id),
                ("attached policies", user_policy_attachments.c.user_id),
                ("groups", group_members.c.user_id),
            ],
        )


_HANDLE = select(users.c.user_id, users.c.name).where(
    users.c.account_id == bindparam("account_id"),
    users.c.name_lower == bindparam("name_lower"),
)
_HANDLE_FOR_UPDATE = _HANDLE.with_for_update()

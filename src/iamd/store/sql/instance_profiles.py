"""Instance profiles, the role each holds, their tags; service-linked role deletion tasks.

Every query is scoped to the repository's account (`account_id` column), and names are
unique per account ignoring case, as AWS's are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model import Role, Tag, iam_arn
from iamd.model.instance_profiles import (
    DeletionStatus,
    InstanceProfile,
    ServiceLinkedRoleDeletion,
)
from iamd.model.page import Page
from iamd.store.schema import (
    instance_profile_roles,
    instance_profile_tags,
    instance_profiles,
    service_linked_role_deletions,
)
from iamd.store.sql.paging import decode_marker, page_of
from iamd.store.sql.roles import RoleRepository
from iamd.store.sql.tags import TagRepository

_p = instance_profiles
_r = instance_profile_roles


class InstanceProfileRepository:
    def __init__(self, conn: Connection, account_id: str, roles: RoleRepository) -> None:
        self._conn = conn
        self._account_id = account_id
        self._roles = roles
        self.tags = TagRepository(
            conn, instance_profile_tags, "instance_profile_id", account_id=account_id
        )

    # -- reads -----------------------------------------------------------------------

    def get_by_name(self, name: str, *, for_update: bool = False) -> InstanceProfile | None:
        query = select(_p).where(
            _p.c.account_id == self._account_id, _p.c.name_lower == name.lower()
        )
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            return None
        return self._profile(row, self._roles_of([row.instance_profile_id]), with_tags=True)

    def count(self) -> int:
        query = select(func.count()).select_from(_p).where(_p.c.account_id == self._account_id)
        return int(self._conn.execute(query).scalar_one())

    def listing(
        self, path_prefix: str, marker: str | None, max_items: int, *, role_id: str | None = None
    ) -> Page[InstanceProfile]:
        """Profiles in name order (ListInstanceProfiles; with `role_id`, those holding that
        role: ListInstanceProfilesForRole). Listings leave tags out, as AWS's do."""
        query = select(_p).where(_p.c.account_id == self._account_id)
        if role_id is not None:
            query = query.where(
                exists().where(
                    _r.c.instance_profile_id == _p.c.instance_profile_id, _r.c.role_id == role_id
                )
            )
        if path_prefix != "/":
            query = query.where(_p.c.path.startswith(path_prefix, autoescape=True))
        after = decode_marker(marker)
        if after is not None:
            query = query.where(_p.c.name_lower > after)
        rows = list(self._conn.execute(query.order_by(_p.c.name_lower).limit(max_items + 1)))
        page = page_of(rows, max_items, lambda row: str(row.name_lower))
        roles = self._roles_of([row.instance_profile_id for row in page.items])
        return Page(
            [self._profile(row, roles, with_tags=False) for row in page.items], page.next_marker
        )

    def for_role(self, role_id: str) -> list[InstanceProfile]:
        """Every profile holding the role (GetAccountAuthorizationDetails' InstanceProfileList)."""
        rows = self._conn.execute(
            select(_p)
            .join(_r, _r.c.instance_profile_id == _p.c.instance_profile_id)
            .where(_p.c.account_id == self._account_id, _r.c.role_id == role_id)
            .order_by(_p.c.name_lower)
        )
        found = list(rows)
        roles = self._roles_of([row.instance_profile_id for row in found])
        tags = self.tags.list_many([row.instance_profile_id for row in found])
        return [
            self._profile(row, roles, tags=tags.get(row.instance_profile_id, ())) for row in found
        ]

    def holds_role(self, role_id: str) -> bool:
        query = select(exists().where(_r.c.account_id == self._account_id, _r.c.role_id == role_id))
        return bool(self._conn.execute(query).scalar())

    def _roles_of(self, profile_ids: Sequence[str]) -> dict[str, tuple[Role, ...]]:
        if not profile_ids:
            return {}
        rows = self._conn.execute(
            select(_r.c.instance_profile_id, _r.c.role_id)
            .where(_r.c.account_id == self._account_id, _r.c.instance_profile_id.in_(profile_ids))
            .order_by(_r.c.added)
        )
        found: dict[str, list[Role]] = {}
        for profile_id, role_id in rows:
            role = self._roles.get_by_id(role_id)
            if role is not None:
                found.setdefault(profile_id, []).append(role)
        return {profile_id: tuple(roles) for profile_id, roles in found.items()}

    def _profile(
        self,
        row: Row[Any],
        roles: dict[str, tuple[Role, ...]],
        *,
        with_tags: bool = False,
        tags: tuple[Tag, ...] = (),
    ) -> InstanceProfile:
        profile_id = row.instance_profile_id
        return InstanceProfile(
            instance_profile_id=profile_id,
            name=row.name,
            path=row.path,
            arn=iam_arn(self._account_id, "instance-profile", row.path, row.name),
            create_date=row.create_date,
            roles=roles.get(profile_id, ()),
            tags=self.tags.of(profile_id) if with_tags else tags,
        )

    # -- writes ----------------------------------------------------------------------

    def add(self, profile: InstanceProfile) -> None:
        try:
            self._conn.execute(
                insert(_p).values(
                    instance_profile_id=profile.instance_profile_id,
                    account_id=self._account_id,
                    name=profile.name,
                    name_lower=profile.name.lower(),
                    path=profile.path,
                    create_date=profile.create_date,
                )
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists(f"Instance Profile {profile.name} already exists.") from exc
        if profile.tags:
            self.tags.upsert(profile.instance_profile_id, profile.tags)

    def delete(self, profile_id: str) -> None:
        self._conn.execute(
            delete(_p).where(
                _p.c.account_id == self._account_id, _p.c.instance_profile_id == profile_id
            )
        )

    def add_role(self, profile_id: str, role_id: str, when: datetime) -> None:
        self._conn.execute(
            insert(_r).values(
                instance_profile_id=profile_id,
                role_id=role_id,
                account_id=self._account_id,
                added=when,
            )
        )

    def remove_role(self, profile_id: str, role_id: str) -> None:
        self._conn.execute(
            delete(_r).where(
                _r.c.account_id == self._account_id,
                _r.c.instance_profile_id == profile_id,
                _r.c.role_id == role_id,
            )
        )


_d = service_linked_role_deletions


class ServiceLinkedRoleDeletionRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def add(self, task: ServiceLinkedRoleDeletion) -> None:
        self._conn.execute(
            insert(_d).values(
                task_id=task.task_id,
                account_id=self._account_id,
                role_name=task.role_name,
                status=task.status.value,
                reason=task.reason,
                create_date=task.create_date,
            )
        )

    def get(self, task_id: str) -> ServiceLinkedRoleDeletion | None:
        row = self._conn.execute(
            select(_d).where(_d.c.account_id == self._account_id, _d.c.task_id == task_id)
        ).first()
        if row is None:
            return None
        return ServiceLinkedRoleDeletion(
            task_id=row.task_id,
            role_name=row.role_name,
            status=DeletionStatus(row.status),
            reason=row.reason,
            create_date=row.create_date,
        )

    def set_status(self, task_id: str, status: DeletionStatus, reason: str | None) -> None:
        self._conn.execute(
            update(_d)
            .where(_d.c.account_id == self._account_id, _d.c.task_id == task_id)
            .values(status=status.value, reason=reason)
        )

"""IAM groups and their memberships."""

from __future__ import annotations

from iamd.clock import Clock
from iamd.errors import DeleteConflict, LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Group, User, iam_arn
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.services.users import lock_user, require_user
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

_DELETE_CONFLICTS = {
    "users": DeleteConflict.GROUP_MEMBERSHIPS,
    "policies": DeleteConflict.INLINE_POLICIES,
    "attached policies": DeleteConflict.ATTACHED_POLICIES,
}


def require_group(repos: Repositories, name: str, *, for_update: bool = False) -> Group:
    group = repos.groups.get_by_name(name, for_update=for_update)
    if group is None:
        raise NoSuchEntity.group(name)
    return group


class GroupService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas

    def create(self, name: str, path: str) -> Group:
        # A new group has no members: no cached credential can depend on it.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("groups")
            if repos.groups.count() >= self._quotas.groups:
                raise LimitExceeded.quota("GroupsPerAccount", self._quotas.groups)
            group = Group(
                group_id=self._ids.entity_id(IdPrefix.GROUP),
                name=name,
                path=path,
                arn=iam_arn(self._tx.account_id, "group", path, name),
                create_date=self._clock.now(),
            )
            repos.groups.add(group)
            return group

    def get(self, name: str, marker: str | None, max_items: int) -> tuple[Group, Page[User]]:
        with self._tx.read() as repos:
            group = require_group(repos, name)
            return group, repos.groups.members(group.group_id, marker, max_items)

    def listing(self, path_prefix: str, marker: str | None, max_items: int) -> Page[Group]:
        with self._tx.read() as repos:
            return repos.groups.listing(path_prefix, marker, max_items)

    def list_for_user(self, user_name: str, marker: str | None, max_items: int) -> Page[Group]:
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            return repos.groups.list_for_user(user.user_id, marker, max_items)

    def update(self, name: str, new_name: str | None, new_path: str | None) -> None:
        with self._tx.write() as repos:
            group = require_group(repos, name, for_update=True)
            repos.groups.rename(group.group_id, new_name, new_path)

    def delete(self, name: str) -> None:
        with self._tx.write() as repos:
            group = require_group(repos, name, for_update=True)
            conflicts = repos.groups.dependents(group.group_id)
            if conflicts:
                raise DeleteConflict(_DELETE_CONFLICTS[conflicts[0]])
            repos.groups.delete(group.group_id)

    def add_user(self, group_name: str, user_name: str) -> None:
        with self._tx.write() as repos:
            group = require_group(repos, group_name)
            user = lock_user(repos, user_name)
            if repos.groups.is_member(group.group_id, user.user_id):
                return
            if repos.groups.count_for_user(user.user_id) >= self._quotas.groups_per_user:
                raise LimitExceeded.quota("GroupsPerUser", self._quotas.groups_per_user)
            repos.groups.add_member(group.group_id, user.user_id, self._clock.now())

    def remove_user(self, group_name: str, user_name: str) -> None:
        with self._tx.write() as repos:
            group = require_group(repos, group_name)
            user = lock_user(repos, user_name)
            if not repos.groups.is_member(group.group_id, user.user_id):
                raise NoSuchEntity(
                    f"The user with name {user_name} cannot be found in group {group_name}."
                )
            repos.groups.remove_member(group.group_id, user.user_id)

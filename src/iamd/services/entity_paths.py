"""ARNs of users, groups, roles and instance profiles named in requests, for authorization, cached.

Policies match an entity's full ARN, path included (`user/division/jdoe`), so authorizing
an operation on a named user (group, role) needs its path. Names that do not exist resolve with the
default path `/`: the request is authorized as AWS would before it finds nothing.
"""

from __future__ import annotations

from iamd.model import iam_arn
from iamd.model.owners import OwnerKind
from iamd.store.cache import BoundedCache
from iamd.store.owners import entities_of
from iamd.store.schema import groups, instance_profiles, roles, users
from iamd.store.transactions import Transactions

_ENTITY_TABLES = tuple(t.name for t in (users, groups, roles, instance_profiles))


class EntityPaths:
    def __init__(self, tx: Transactions, max_entries: int = 50_000) -> None:
        self._tx = tx
        # (kind, lower-case name) -> ARN with the stored path and spelling of the name.
        self._arns: BoundedCache[tuple[str, str], str] = BoundedCache(
            max_entries, name="entity_arns"
        )
        # An ARN changes only with its entity's row (created, renamed, moved, deleted).
        tx.on_write_committed(self._arns.clear, _ENTITY_TABLES)

    def user_arn(self, name: str) -> str:
        return self._arn("user", name)

    def group_arn(self, name: str) -> str:
        return self._arn("group", name)

    def role_arn(self, name: str) -> str:
        return self._arn("role", name)

    def instance_profile_arn(self, name: str) -> str:
        return self._arn("instance-profile", name)

    def _arn(self, kind: str, name: str) -> str:
        key = (kind, name.lower())
        arn = self._arns.get(key)
        if arn is None:
            generation = self._arns.generation
            with self._tx.read() as repos:
                found = (
                    repos.instance_profiles.get_by_name(name)
                    if kind == "instance-profile"
                    else entities_of(repos, OwnerKind(kind)).get_by_name(name)
                )
            path, spelled = (found.path, found.name) if found is not None else ("/", name)
            arn = iam_arn(self._tx.account_id, kind, path, spelled)
            self._arns.put(key, arn, generation)
        return arn

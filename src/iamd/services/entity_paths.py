"""ARNs of users and groups named in requests, for authorization, cached.

Policies match a user's full ARN, path included (`user/division/jdoe`), so authorizing
an operation on a named user needs its path. Names that do not exist resolve with the
default path `/`: the request is authorized as AWS would before it finds nothing.
"""

from __future__ import annotations

from iamd.model import iam_arn
from iamd.services.cache import BoundedCache
from iamd.services.transactions import Transactions


class EntityPaths:
    def __init__(self, tx: Transactions, max_entries: int = 50_000) -> None:
        self._tx = tx
        self._users: BoundedCache[str, str] = BoundedCache(max_entries)
        self._groups: BoundedCache[str, str] = BoundedCache(max_entries)
        tx.on_write_committed(self._users.clear)
        tx.on_write_committed(self._groups.clear)

    def user_arn(self, name: str) -> str:
        key = name.lower()
        path = self._users.get(key)
        if path is None:
            generation = self._users.generation
            with self._tx.read() as repos:
                user = repos.users.get_by_name(name)
            path = user.path if user else "/"
            if user:
                name = user.name
            self._users.put(key, path, generation)
        return iam_arn(self._tx.account_id, "user", path, name)

    def group_arn(self, name: str) -> str:
        key = name.lower()
        path = self._groups.get(key)
        if path is None:
            generation = self._groups.generation
            with self._tx.read() as repos:
                group = repos.groups.get_by_name(name)
            path = group.path if group else "/"
            self._groups.put(key, path, generation)
        return iam_arn(self._tx.account_id, "group", path, name)

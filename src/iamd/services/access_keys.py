"""Access keys: the long-term credentials of IAM users.

The secret is returned once, by CreateAccessKey, and stored only sealed by the secret
box. The two-keys-per-user quota is checked inside the write transaction, under the
user's row lock (PostgreSQL) or the database write lock (SQLite), so concurrent
creations cannot exceed it.
"""

from __future__ import annotations

from dataclasses import dataclass

from iamd.auth.secret_box import SecretBox
from iamd.clock import Clock
from iamd.errors import LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import AccessKey, AccessKeyStatus
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.principals.credentials import secret_context
from iamd.services.users import lock_user, require_user
from iamd.store.read_cache import ReadThrough
from iamd.store.schema import access_keys, users
from iamd.store.sql.paging import page_of_sequence
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions


@dataclass(frozen=True, slots=True)
class NewAccessKey:
    key: AccessKey
    secret_access_key: str


class AccessKeyService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        ids: IdGenerator,
        quotas: Quotas,
        secret_box: SecretBox,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        self._box = secret_box
        # A user's keys: the keys' rows, joined with the user's for its name.
        self._by_user: ReadThrough[str, list[AccessKey]] = ReadThrough(
            tx, 20_000, name="access_keys_by_user", tables=(access_keys.name, users.name)
        )

    def create(
        self,
        user_name: str,
        *,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> NewAccessKey:
        key_id = access_key_id or self._ids.key_id(IdPrefix.ACCESS_KEY)
        secret = secret_access_key or self._ids.secret_access_key()
        sealed = self._box.seal(secret, secret_context(key_id))
        # A new key changes no credential already cached (unknown keys are never cached).
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = lock_user(repos, user_name)
            if repos.access_keys.count_for_user(user.user_id) >= self._quotas.access_keys_per_user:
                raise LimitExceeded.quota("AccessKeysPerUser", self._quotas.access_keys_per_user)
            key = AccessKey(
                access_key_id=key_id,
                user_id=user.user_id,
                user_name=user.name,
                status=AccessKeyStatus.ACTIVE,
                create_date=self._clock.now(),
            )
            repos.access_keys.add(key, sealed)
            return NewAccessKey(key, secret)

    def listing(self, user_name: str, marker: str | None, max_items: int) -> Page[AccessKey]:
        def load() -> list[AccessKey]:
            with self._tx.read() as repos:
                user = require_user(repos, user_name)
                return repos.access_keys.for_user(user.user_id)

        return page_of_sequence(self._by_user.get(user_name.lower(), load), marker, max_items)

    def update(self, user_name: str, access_key_id: str, status: AccessKeyStatus) -> None:
        with self._tx.write(credentials=frozenset({access_key_id})) as repos:
            self._require_users_key(repos, user_name, access_key_id)
            repos.access_keys.set_status(access_key_id, status)

    def delete(self, user_name: str, access_key_id: str) -> None:
        with self._tx.write(credentials=frozenset({access_key_id})) as repos:
            self._require_users_key(repos, user_name, access_key_id)
            repos.access_keys.delete(access_key_id)

    def last_used(self, access_key_id: str) -> AccessKey:
        with self._tx.read() as repos:
            key = repos.access_keys.get(access_key_id)
        if key is None:
            raise NoSuchEntity.access_key(access_key_id)
        return key

    def owner_name(self, access_key_id: str) -> str | None:
        with self._tx.read() as repos:
            key = repos.access_keys.get(access_key_id)
        return key.user_name if key else None

    @staticmethod
    def _require_users_key(repos: Repositories, user_name: str, access_key_id: str) -> AccessKey:
        user = lock_user(repos, user_name)
        key = repos.access_keys.get(access_key_id)
        if key is None or key.user_id != user.user_id:
            raise NoSuchEntity.access_key(access_key_id)
        return key

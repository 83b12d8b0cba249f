"""SSH public keys of IAM users (UploadSSHPublicKey and its family).

Keys are stored in their OpenSSH form with the MD5 fingerprint of their blob; a user
holds each key once and at most five of them (Active and Inactive both count). Both
rules are checked inside the write transaction, under the user's row lock (PostgreSQL)
or the database write lock (SQLite), so concurrent uploads cannot break them.

SSH keys are not SigV4 credentials: no write here changes a cached credential.
"""

from __future__ import annotations

from iamd.clock import Clock
from iamd.errors import DuplicateSSHPublicKey, LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import SSHPublicKey, SSHPublicKeyStatus
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.services.ssh_key_encoding import parse_public_key, pem_of
from iamd.services.users import lock_user, require_user
from iamd.store.sql.paging import page_of_sequence
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions


class SSHPublicKeyService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        ids: IdGenerator,
        quotas: Quotas,
        *,
        rsa_only: bool = False,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        # `--ssh-key-types rsa`: AWS's own rule, RSA keys only.
        self._rsa_only = rsa_only

    def upload(self, user_name: str, body: str) -> SSHPublicKey:
        # Parsed before the transaction: a bad key costs no write lock.
        parsed = parse_public_key(body, rsa_only=self._rsa_only)
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = lock_user(repos, user_name)
            if repos.ssh_public_keys.has_fingerprint(user.user_id, parsed.fingerprint):
                raise DuplicateSSHPublicKey()
            limit = self._quotas.ssh_public_keys_per_user
            if repos.ssh_public_keys.count_for_user(user.user_id) >= limit:
                raise LimitExceeded.quota("SSHPublicKeysPerUser", limit)
            key = SSHPublicKey(
                ssh_public_key_id=self._ids.key_id(IdPrefix.SSH_PUBLIC_KEY),
                user_id=user.user_id,
                user_name=user.name,
                fingerprint=parsed.fingerprint,
                body=parsed.ssh_body,
                status=SSHPublicKeyStatus.ACTIVE,
                upload_date=self._clock.now(),
            )
            repos.ssh_public_keys.add(key)
            return key

    def get(self, user_name: str, ssh_public_key_id: str, *, pem: bool) -> SSHPublicKey:
        """One key; with `pem`, its body is rendered as PEM SubjectPublicKeyInfo."""
        with self._tx.read() as repos:
            key = _require_users_key(repos, user_name, ssh_public_key_id)
        if pem:
            return SSHPublicKey(
                ssh_public_key_id=key.ssh_public_key_id,
                user_id=key.user_id,
                user_name=key.user_name,
                fingerprint=key.fingerprint,
                body=pem_of(key.body),
                status=key.status,
                upload_date=key.upload_date,
            )
        return key

    def listing(self, user_name: str, marker: str | None, max_items: int) -> Page[SSHPublicKey]:
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            keys = repos.ssh_public_keys.for_user(user.user_id)
        return page_of_sequence(keys, marker, max_items)

    def update(self, user_name: str, ssh_public_key_id: str, status: SSHPublicKeyStatus) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            _require_users_key(repos, user_name, ssh_public_key_id, for_update=True)
            repos.ssh_public_keys.set_status(ssh_public_key_id, status)

    def delete(self, user_name: str, ssh_public_key_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            _require_users_key(repos, user_name, ssh_public_key_id, for_update=True)
            repos.ssh_public_keys.delete(ssh_public_key_id)


def _require_users_key(
    repos: Repositories, user_name: str, ssh_public_key_id: str, *, for_update: bool = False
) -> SSHPublicKey:
    user = require_user(repos, user_name, for_update=for_update)
    key = repos.ssh_public_keys.get(ssh_public_key_id)
    # Another user's key is reported exactly like a key that does not exist.
    if key is None or key.user_id != user.user_id:
        raise NoSuchEntity.ssh_public_key(ssh_public_key_id)
    return key

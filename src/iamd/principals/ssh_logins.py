"""Who an SSH login is: an SSHPublicKeyId (the SSH user name) resolved to its user.

git over SSH authenticates with the SSH user name, which is an SSHPublicKeyId, and the
key the client proves it holds. The key must be Active, belong to a user that exists,
and be exactly the stored key. The result carries the user's principal and compiled
policies, shaped like a resolved access key, so the same authorizer decides.

Resolutions are cached, and every committed write drops the cache (here at once, on
other nodes at the change watcher's next poll), so a key made Inactive or deleted, or a
user deleted, is refused at the very next connection.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from iamd.model import SSHPublicKeyStatus
from iamd.principals.caller import Caller
from iamd.principals.credentials import account_is_open, account_of, principal_keys, user_caller
from iamd.principals.organization_policies import organization_keys
from iamd.principals.principal_policies import PolicyCompiler, PrincipalPolicies
from iamd.store.read_cache import ReadThrough
from iamd.store.transactions import Transactions


@dataclass(frozen=True, slots=True)
class SSHLogin:
    ssh_public_key_id: str
    # The wire-format blob of the stored key, compared with the key a client offers.
    key_blob: bytes
    status: SSHPublicKeyStatus
    caller: Caller
    policies: PrincipalPolicies
    principal_keys: dict[str, str | tuple[str, ...]]

    @property
    def active(self) -> bool:
        return self.status is SSHPublicKeyStatus.ACTIVE

    def accepts(self, offered_blob: bytes) -> bool:
        """Whether ``offered_blob`` is this Active key (of a user that exists)."""
        return self.active and hmac.compare_digest(self.key_blob, offered_blob)


@dataclass(frozen=True, slots=True)
class _Missing:
    """Cached stand-in for an id with no key (the read cache stores no None)."""


_MISSING = _Missing()


class SSHLoginResolver:
    def __init__(
        self, tx: Transactions, compiler: PolicyCompiler, max_entries: int = 5_000
    ) -> None:
        self._tx = tx
        self._compiler = compiler
        self._cache: ReadThrough[str, SSHLogin | _Missing] = ReadThrough(
            tx, max_entries, name="ssh_logins"
        )

    def resolve(self, ssh_public_key_id: str) -> SSHLogin | None:
        """The login of this key id, Active or not; None when no such key or user exists."""
        found = self._cache.get(ssh_public_key_id, lambda: self._load(ssh_public_key_id))
        return None if isinstance(found, _Missing) else found

    def _load(self, ssh_public_key_id: str) -> SSHLogin | _Missing:
        with self._tx.read() as repos:
            key = repos.ssh_public_keys.get(ssh_public_key_id)
            if key is None:
                return _MISSING
            # SSH key ids are unique across accounts; the key's user says the account.
            user = repos.users.find_by_id_in_any_account(key.user_id)
            if user is None or not account_is_open(repos, account_of(user.arn)):
                return _MISSING
            policies = self._compiler.for_user(repos.in_account(account_of(user.arn)), user)
        blob = _blob_of(key.body)
        if blob is None:
            return _MISSING
        # Not an access key: the SSH key id stands where requests name their key.
        caller = user_caller(account_of(user.arn), user, ssh_public_key_id)
        # As for access keys: the account's SCPs and organization keys, when it has any.
        scps = self._compiler.scps_for(caller.account_id)
        return SSHLogin(
            ssh_public_key_id=ssh_public_key_id,
            key_blob=blob,
            status=key.status,
            caller=caller,
            policies=policies.restricted_by(scps),
            principal_keys={
                **principal_keys(caller),
                **organization_keys(self._compiler.org_facts(caller.account_id)),
            },
        )


def _blob_of(openssh_body: str) -> bytes | None:
    """The wire blob of a stored ``type base64`` key (None if the row is damaged)."""
    parts = openssh_body.split()
    if len(parts) < 2:
        return None
    try:
        return base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None

"""Resolving an access key id to the credential and principal behind it, cached.

This is the hot path of every request: a cache hit costs one dictionary look-up. The
cache is bounded and dropped whole after every committed write (and when another node
reports a change), so a deactivated key or a deleted user stops working at once here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from iamd.auth.secret_box import SecretBox
from iamd.model import AccessKeyStatus, User
from iamd.model.arn import iam_arn
from iamd.services.access_keys import secret_context
from iamd.services.cache import BoundedCache
from iamd.services.caller import Caller, PrincipalType
from iamd.services.principal_policies import PolicyCompiler, PrincipalPolicies
from iamd.services.transactions import Transactions


@dataclass(frozen=True, slots=True)
class ResolvedCredential:
    access_key_id: str
    secret_access_key: str
    status: AccessKeyStatus
    caller: Caller
    policies: PrincipalPolicies
    # Condition keys that describe the principal, the same for each of its requests.
    principal_keys: dict[str, str]


class CredentialResolver:
    def __init__(
        self,
        tx: Transactions,
        secret_box: SecretBox,
        compiler: PolicyCompiler,
        max_entries: int = 20_000,
    ) -> None:
        self._tx = tx
        self._box = secret_box
        self._compiler = compiler
        self._cache: BoundedCache[str, ResolvedCredential] = BoundedCache(max_entries)
        tx.register_credential_cache(self)

    def clear(self) -> None:
        self._cache.clear()

    def forget(self, access_key_ids: Iterable[str]) -> None:
        for access_key_id in access_key_ids:
            self._cache.discard(access_key_id)

    def resolve(self, access_key_id: str) -> ResolvedCredential | None:
        cached = self._cache.get(access_key_id)
        if cached is not None:
            return cached
        generation = self._cache.generation
        resolved = self._load(access_key_id)
        if resolved is not None:
            self._cache.put(access_key_id, resolved, generation)
        return resolved

    def _load(self, access_key_id: str) -> ResolvedCredential | None:
        with self._tx.read() as repos:
            found = repos.access_keys.get_with_secret(access_key_id)
            if found is None:
                return None
            user = repos.users.get_by_id(found.key.user_id)
            if user is None:
                return None
            policies = self._compiler.for_user(repos, user)
        secret = self._box.open(found.secret_sealed, secret_context(access_key_id))
        caller = user_caller(self._tx.account_id, user, access_key_id)
        return ResolvedCredential(
            access_key_id=access_key_id,
            secret_access_key=secret,
            status=found.key.status,
            caller=caller,
            policies=policies,
            principal_keys=principal_keys(caller),
        )


def user_caller(account_id: str, user: User, key_id: str) -> Caller:
    """The IAM user ``user`` as the caller of a request made with the key ``key_id``."""
    return Caller(
        account_id=account_id,
        arn=iam_arn(account_id, "user", user.path, user.name),
        user_id=user.user_id,
        principal_type=PrincipalType.USER,
        access_key_id=key_id,
        user=user,
    )


def principal_keys(caller: Caller) -> dict[str, str]:
    """The condition keys that describe ``caller``, whatever it authenticated with."""
    keys = {
        "aws:userid": caller.user_id,
        "aws:PrincipalArn": caller.arn,
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalType": caller.principal_type.value,
    }
    if caller.user is not None:
        keys["aws:username"] = caller.user.name
        for tag in caller.user.tags:
            keys[f"aws:PrincipalTag/{tag.key}"] = tag.value
    return keys

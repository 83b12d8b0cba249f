"""Who a git-over-HTTPS request is: a service-specific credential's user name and
password (HTTP Basic), resolved to its IAM user like an access key.

The user name is `USERNAME-at-ACCOUNTID`; the account it names is searched, and only
an Active credential of CodeCommit whose password hash matches opens it. The user's
principal and compiled policies (with the account's SCPs) come back shaped like a
resolved access key, so the same authorizer decides GitPull and GitPush.

Nothing is cached: each request checks the password (an argon2 hash, tens of
milliseconds, on a worker thread), so a credential made Inactive, deleted or reset, or
its user deleted, is refused at the very next request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iamd.auth.passwords import PasswordHashing
from iamd.model.service_credentials import ServiceCredentialStatus
from iamd.principals.caller import Caller
from iamd.principals.credentials import account_is_open, principal_keys, user_caller
from iamd.principals.organization_policies import organization_keys
from iamd.principals.principal_policies import PolicyCompiler, PrincipalPolicies
from iamd.store.transactions import Transactions

CODECOMMIT = "codecommit.amazonaws.com"
_SERVICE_USER_NAME = re.compile(r"(?P<user>[\w+=,.@-]{1,64})-at-(?P<account>[0-9]{12})")


@dataclass(frozen=True, slots=True)
class GitCredentialLogin:
    service_specific_credential_id: str
    caller: Caller
    policies: PrincipalPolicies
    principal_keys: dict[str, str | tuple[str, ...]]


class GitCredentialResolver:
    def __init__(
        self, tx: Transactions, compiler: PolicyCompiler, hashing: PasswordHashing
    ) -> None:
        self._tx = tx
        self._compiler = compiler
        self._hashing = hashing

    def authenticate(self, service_user_name: str, password: str) -> GitCredentialLogin | None:
        """The login these HTTP Basic credentials open, or None.

        A name that opens nothing still costs one hash check: a wrong user name is
        answered no faster than a wrong password.
        """
        match = _SERVICE_USER_NAME.fullmatch(service_user_name)
        if match is None:
            self._hashing.spend_like_verify(password)
            return None
        account_id = match["account"]
        with self._tx.read() as repos:
            if not account_is_open(repos, account_id):
                candidates = []
            else:
                scoped = repos.in_account(account_id)
                candidates = [
                    c
                    for c in scoped.service_specific_credentials.for_service_user_name(
                        service_user_name
                    )
                    if c.service_name == CODECOMMIT and c.status is ServiceCredentialStatus.ACTIVE
                ]
        if not candidates:
            self._hashing.spend_like_verify(password)
            return None
        chosen = next(
            (c for c in candidates if self._hashing.verify(c.password_hash, password)), None
        )
        if chosen is None:
            return None
        with self._tx.read() as repos:
            scoped = repos.in_account(account_id)
            user = scoped.users.get_by_name(chosen.user_name)
            # Deleted (or replaced by a namesake) since the password was checked.
            if user is None or user.user_id != chosen.user_id:
                return None
            policies = self._compiler.for_user(scoped, user)
        caller = user_caller(account_id, user, chosen.credential_id)
        scps = self._compiler.scps_for(account_id)
        return GitCredentialLogin(
            service_specific_credential_id=chosen.credential_id,
            caller=caller,
            policies=policies.restricted_by(scps),
            principal_keys={
                **principal_keys(caller),
                **organization_keys(self._compiler.org_facts(account_id)),
            },
        )

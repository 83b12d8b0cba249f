"""Service-specific credentials of IAM users (CreateServiceSpecificCredential family).

A credential is a generated user name (`USERNAME-at-ACCOUNTID`) and password for one
service: CodeCommit's HTTPS git credentials, or Amazon Keyspaces'. The password is
returned by Create and Reset only and stored as an argon2id hash, never in clear. A
user holds at most two per service (AWS's quota), counted inside the write
transaction under the user's row lock, so concurrent creates cannot exceed it.

Hashing costs tens of milliseconds: these methods run on the request threads (the
operation pipeline's pool), never on the event loop.
"""

from __future__ import annotations

import base64
import secrets

from iamd.auth.passwords import PasswordHashing
from iamd.clock import Clock
from iamd.errors import LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator, IdPrefix
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.model.service_credentials import ServiceCredentialStatus, ServiceSpecificCredential
from iamd.services.users import lock_user, require_user
from iamd.store.sql.paging import page_of_sequence
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

CODECOMMIT = "codecommit.amazonaws.com"
# The services AWS issues user-name-and-password credentials for.
SUPPORTED_SERVICES = frozenset({CODECOMMIT, "cassandra.amazonaws.com"})


class ServiceSpecificCredentialService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        ids: IdGenerator,
        quotas: Quotas,
        hashing: PasswordHashing,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        self._hashing = hashing

    def create(self, user_name: str, service_name: str) -> tuple[ServiceSpecificCredential, str]:
        """The new credential and its password, which is never available again."""
        with self._tx.read() as repos:
            # A missing user is reported before an unsupported service, as AWS does.
            require_user(repos, user_name)
        _require_supported(service_name)
        password = _new_password()
        # Hashed before the transaction: the write lock is not held for the hash's cost.
        password_hash = self._hashing.hash(password)
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = lock_user(repos, user_name)
            limit = self._quotas.service_specific_credentials_per_user_per_service
            repo = repos.service_specific_credentials
            if repo.count_for_user_service(user.user_id, service_name) >= limit:
                raise LimitExceeded.quota("ServiceSpecificCredentialsPerUserPerService", limit)
            credential = ServiceSpecificCredential(
                credential_id=self._ids.entity_id(IdPrefix.SERVICE_SPECIFIC_CREDENTIAL),
                user_id=user.user_id,
                user_name=user.name,
                service_name=service_name,
                service_user_name=f"{user.name}-at-{self._tx.account_id}",
                password_hash=password_hash,
                status=ServiceCredentialStatus.ACTIVE,
                create_date=self._clock.now(),
            )
            repo.add(credential)
        return credential, password

    def listing(
        self,
        user_name: str | None,
        service_name: str | None,
        marker: str | None,
        max_items: int,
    ) -> Page[ServiceSpecificCredential]:
        """One user's credentials, or (`user_name` None) every user's in the account."""
        with self._tx.read() as repos:
            if user_name is None:
                found = repos.service_specific_credentials.in_account()
            else:
                user = require_user(repos, user_name)
                found = repos.service_specific_credentials.for_user(user.user_id)
        if service_name is not None:
            _require_supported(service_name)
            found = [c for c in found if c.service_name == service_name]
        return page_of_sequence(found, marker, max_items)

    def update(self, user_name: str, credential_id: str, status: ServiceCredentialStatus) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            _require_users_credential(repos, user_name, credential_id, for_update=True)
            repos.service_specific_credentials.set_status(credential_id, status)

    def reset(self, user_name: str, credential_id: str) -> tuple[ServiceSpecificCredential, str]:
        password = _new_password()
        password_hash = self._hashing.hash(password)
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            credential = _require_users_credential(repos, user_name, credential_id, for_update=True)
            repos.service_specific_credentials.set_password_hash(credential_id, password_hash)
        return credential, password

    def delete(self, user_name: str, credential_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            _require_users_credential(repos, user_name, credential_id, for_update=True)
            repos.service_specific_credentials.delete(credential_id)


def _require_supported(service_name: str) -> None:
    if service_name not in SUPPORTED_SERVICES:
        raise NoSuchEntity.credential_service(service_name)


def _new_password() -> str:
    # 32 random bytes in base64 (44 characters), the form AWS's passwords take.
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _require_users_credential(
    repos: Repositories, user_name: str, credential_id: str, *, for_update: bool = False
) -> ServiceSpecificCredential:
    user = require_user(repos, user_name, for_update=for_update)
    credential = repos.service_specific_credentials.get(credential_id)
    # Another user's credential is reported exactly like one that does not exist.
    if credential is None or credential.user_id != user.user_id:
        raise NoSuchEntity.service_specific_credential(credential_id)
    return credential

"""Transactions handed to services, with the repositories bound to them.

Every write transaction bumps the cross-node change signal (`store/sql/changes.py`), in
the same transaction, and drops this process's caches once it has committed: the next
request sees the change at once here, and other nodes see it at their next poll.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Protocol

from sqlalchemy import Connection

from iamd.store.database import EVERY_TABLE, Database, written_tables
from iamd.store.schema import group_inline_policies, role_inline_policies, user_inline_policies
from iamd.store.sql import changes
from iamd.store.sql.access_keys import AccessKeyRepository
from iamd.store.sql.account import AccountRepository
from iamd.store.sql.console_sessions import ConsoleSessionRepository
from iamd.store.sql.credential_reports import CredentialReportRepository
from iamd.store.sql.delegation_requests import DelegationRequestRepository
from iamd.store.sql.groups import GroupRepository
from iamd.store.sql.identity_center import IdentityCenterRepository
from iamd.store.sql.identity_center_mfa import MfaRepository
from iamd.store.sql.identity_center_sign_in import SignInRepository
from iamd.store.sql.identity_sources import IdentitySourceRepository
from iamd.store.sql.inline_policies import InlinePolicyRepository
from iamd.store.sql.instance_profiles import (
    InstanceProfileRepository,
    ServiceLinkedRoleDeletionRepository,
)
from iamd.store.sql.mfa_devices import MFADeviceRepository
from iamd.store.sql.oidc_providers import OIDCProviderRepository
from iamd.store.sql.organizations import OrganizationRepository
from iamd.store.sql.passwords import (
    LoginProfileRepository,
    PasswordHistoryRepository,
    PasswordPolicyRepository,
)
from iamd.store.sql.policies import PolicyRepository
from iamd.store.sql.repositories import RepositoryRepository
from iamd.store.sql.roles import RoleRepository
from iamd.store.sql.saml_providers import SamlProviderRepository
from iamd.store.sql.server_certificates import ServerCertificateRepository
from iamd.store.sql.service_specific_credentials import ServiceSpecificCredentialRepository
from iamd.store.sql.signing_certificates import SigningCertificateRepository
from iamd.store.sql.ssh_public_keys import SSHPublicKeyRepository
from iamd.store.sql.trail import insert_events, pending_write_event
from iamd.store.sql.users import UserRepository


class _AllCredentials:
    """Marker: a write that may change any cached credential."""


ALL_CREDENTIALS = _AllCredentials()
NO_CREDENTIALS: frozenset[str] = frozenset()
CredentialImpact = _AllCredentials | frozenset[str]


class Repositories:
    """The repositories of one transaction, created on first use."""

    def __init__(self, conn: Connection, account_id: str) -> None:
        self.conn = conn
        self._account_id = account_id

    @property
    def account_id(self) -> str:
        return self._account_id

    def in_account(self, account_id: str) -> Repositories:
        """The repositories of another account on the same connection (same transaction)."""
        if account_id == self._account_id:
            return self
        return Repositories(self.conn, account_id)

    @cached_property
    def account(self) -> AccountRepository:
        return AccountRepository(self.conn, self._account_id)

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.conn, self._account_id)

    @cached_property
    def groups(self) -> GroupRepository:
        return GroupRepository(self.conn, self._account_id)

    @cached_property
    def roles(self) -> RoleRepository:
        return RoleRepository(self.conn, self._account_id)

    @cached_property
    def instance_profiles(self) -> InstanceProfileRepository:
        return InstanceProfileRepository(self.conn, self._account_id, self.roles)

    @cached_property
    def service_linked_role_deletions(self) -> ServiceLinkedRoleDeletionRepository:
        return ServiceLinkedRoleDeletionRepository(self.conn, self._account_id)

    @cached_property
    def policies(self) -> PolicyRepository:
        return PolicyRepository(self.conn, self._account_id)

    @cached_property
    def user_inline_policies(self) -> InlinePolicyRepository:
        return InlinePolicyRepository(self.conn, user_inline_policies, "user_id")

    @cached_property
    def group_inline_policies(self) -> InlinePolicyRepository:
        return InlinePolicyRepository(self.conn, group_inline_policies, "group_id")

    @cached_property
    def role_inline_policies(self) -> InlinePolicyRepository:
        return InlinePolicyRepository(self.conn, role_inline_policies, "role_id")

    @cached_property
    def access_keys(self) -> AccessKeyRepository:
        return AccessKeyRepository(self.conn, self._account_id)

    @cached_property
    def ssh_public_keys(self) -> SSHPublicKeyRepository:
        return SSHPublicKeyRepository(self.conn, self._account_id)

    @cached_property
    def service_specific_credentials(self) -> ServiceSpecificCredentialRepository:
        return ServiceSpecificCredentialRepository(self.conn, self._account_id)

    @cached_property
    def saml_providers(self) -> SamlProviderRepository:
        return SamlProviderRepository(self.conn, self._account_id)

    @cached_property
    def signing_certificates(self) -> SigningCertificateRepository:
        return SigningCertificateRepository(self.conn, self._account_id)

    @cached_property
    def server_certificates(self) -> ServerCertificateRepository:
        return ServerCertificateRepository(self.conn, self._account_id)

    @cached_property
    def oidc_providers(self) -> OIDCProviderRepository:
        return OIDCProviderRepository(self.conn, self._account_id)

    @cached_property
    def mfa_devices(self) -> MFADeviceRepository:
        return MFADeviceRepository(self.conn, self._account_id)

    @cached_property
    def repositories(self) -> RepositoryRepository:
        return RepositoryRepository(self.conn, self._account_id)

    @cached_property
    def console_sessions(self) -> ConsoleSessionRepository:
        return ConsoleSessionRepository(self.conn)

    @cached_property
    def delegation_requests(self) -> DelegationRequestRepository:
        # Shared by the partner's account and the customer's: not bound to either.
        return DelegationRequestRepository(self.conn)

    @cached_property
    def credential_reports(self) -> CredentialReportRepository:
        return CredentialReportRepository(self.conn, self._account_id)

    @cached_property
    def login_profiles(self) -> LoginProfileRepository:
        return LoginProfileRepository(self.conn, self._account_id)

    @cached_property
    def password_history(self) -> PasswordHistoryRepository:
        return PasswordHistoryRepository(self.conn)

    @cached_property
    def organizations(self) -> OrganizationRepository:
        return OrganizationRepository(self.conn)

    @cached_property
    def identity_center(self) -> IdentityCenterRepository:
        return IdentityCenterRepository(self.conn)

    @cached_property
    def identity_center_sign_in(self) -> SignInRepository:
        return SignInRepository(self.conn)

    @cached_property
    def identity_center_mfa(self) -> MfaRepository:
        return MfaRepository(self.conn)

    @cached_property
    def identity_sources(self) -> IdentitySourceRepository:
        return IdentitySourceRepository(self.conn)

    @cached_property
    def password_policy(self) -> PasswordPolicyRepository:
        return PasswordPolicyRepository(self.conn, self._account_id)


class CredentialCache(Protocol):
    def clear(self) -> None: ...

    def forget(self, access_key_ids: Iterable[str]) -> None: ...


class Transactions:
    """The unit of work of one account; `in_account` gives another account's.

    The views of all accounts share the database, the registered caches and the change
    signal: a write in any account drops every cache of this process (writes are rare
    beside reads, and one registry keeps the cross-node invalidation one counter).
    """

    def __init__(
        self,
        database: Database,
        account_id: str,
        *,
        _shared: Transactions | None = None,
    ) -> None:
        self.database = database
        self.account_id = account_id
        if _shared is None:
            self._on_commit: list[tuple[Callable[[], None], frozenset[str] | None]] = []
            self._credentials: list[CredentialCache] = []
            self._views: dict[str, Transactions] = {account_id: self}
        else:
            self._on_commit = _shared._on_commit
            self._credentials = _shared._credentials
            self._views = _shared._views

    def in_account(self, account_id: str) -> Transactions:
        """The transactions of `account_id`: their repositories are bound to it.

        Built once per account and kept (accounts are few); the caller checks that the
        account exists when that matters.
        """
        view = self._views.get(account_id)
        if view is None:
            view = Transactions(self.database, account_id, _shared=self)
            self._views[account_id] = view
        return view

    def on_write_committed(
        self, callback: Callable[[], None], tables: Iterable[str] | None = None
    ) -> None:
        """Register a read cache to drop after committed writes, here or elsewhere.

        With `tables` (the tables the cached values are read from), a write on this node
        drops it only when it wrote one of them; a write elsewhere (the change watcher),
        a failed write, or a statement whose table could not be told drops it always.
        """
        self._on_commit.append((callback, None if tables is None else frozenset(tables)))

    def register_credential_cache(self, cache: CredentialCache) -> None:
        """Register the credential cache, which writes drop only as far as they affect it."""
        self._credentials.append(cache)

    def own_commits_and(self, counter: Callable[[], int]) -> tuple[int, int]:
        """How many signalled writes (change counter bumps) this process has committed,
        and `counter()` (the change counter's reading) taken with no commit between: the
        change watcher takes the first from the second's moves, and what is left is the
        other nodes' (and processes') writes. `counter` reads on a connection taken
        before the call: commits wait meanwhile, and they may hold every pooled one."""
        return self.database.commits.read(counter)

    def drop_caches(self) -> None:
        for callback, _tables in self._on_commit:
            callback()
        for cache in self._credentials:
            cache.clear()

    @contextmanager
    def read(self) -> Iterator[Repositories]:
        with self.database.read() as conn:
            yield Repositories(conn, self.account_id)

    @contextmanager
    def write_uncached(self) -> Iterator[Repositories]:
        """A write of rows no cache holds (failed sign-in counts, the credential report).

        It drops no cache here and bumps no change counter, so other nodes keep theirs:
        a flood of such writes must not turn into a flood of cache misses everywhere.
        """
        with self.database.write() as conn:
            yield Repositories(conn, self.account_id)

    @contextmanager
    def write(self, *, credentials: CredentialImpact = ALL_CREDENTIALS) -> Iterator[Repositories]:
        """A write transaction; `credentials` says which cached credentials it can change.

        By default every cached credential is dropped. A write that only adds entities no
        existing credential depends on (a new user, a new key) passes `NO_CREDENTIALS`;
        one that changes particular keys passes their ids. The read caches that read a
        table it wrote are dropped (on_write_committed).
        Requests on this node see the change at once; other nodes at their next poll.

        The audit event of the request this write belongs to (if the recorder set one and
        no earlier write of the request carried it) is inserted in this transaction: an
        acknowledged write always has its event (docs/trail.md).
        """
        pending = pending_write_event.get()
        event = pending.take() if pending is not None else None
        written: frozenset[str] | None = None  # unknown until the body has run
        try:
            with self.database.write(signalled=True) as conn:
                repos = Repositories(conn, self.account_id)
                yield repos
                written = written_tables(conn)
                if event is not None:
                    insert_events(conn, [event])
                # Last, so the slot is held only from here to the commit.
                changes.bump(conn)
            if pending is not None and event is not None:
                pending.committed()
        except BaseException:
            if pending is not None and event is not None:
                pending.rolled_back()
            raise
        finally:
            # Dropped on failure too: a cache filled while the transaction ran may hold
            # rows the rollback undid (harmless to drop; never harmful).
            for callback, tables in self._on_commit:
                if (
                    written is None
                    or tables is None
                    or EVERY_TABLE in written
                    or not tables.isdisjoint(written)
                ):
                    callback()
            for cache in self._credentials:
                if isinstance(credentials, frozenset):
                    cache.forget(credentials)
                else:
                    cache.clear()

"""The AWS access portal (botocore's `sso`) and the sign-in of identity store users.

A signed-in user (an access token of services/sso_oidc.py) sees the accounts and the
permission sets assigned to them or to one of their groups (ListAccounts,
ListAccountRoles) and gets temporary credentials of the role a permission set
provisioned in an account (GetRoleCredentials): a session of
`AWSReservedSSO_<set>_<hex>` named after the user, for the set's session duration, so
that GetCallerIdentity shows `assumed-role/AWSReservedSSO_…/USER`. An assignment removed
while a token lives stops GetRoleCredentials at once (ForbiddenException "No access").

Users sign in with their identity store user name and a password kept only as an
argon2 hash; failures back off as IAM's sign-in does (the failure ledger, counted per
identity store and name). An administrator sets a one-time password (`iamd
identity-center set-password`) that must be replaced at the first sign-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from iamd.auth.passwords import PasswordHashing
from iamd.clock import Clock
from iamd.errors import ForbiddenException, PortalResourceNotFoundException, ValidationError
from iamd.model.identity_center import AccountAssignment, DirectoryUser, Instance, PermissionSet
from iamd.services.identity_center_trail import PortalUser
from iamd.services.sso_oidc import TokenOwner
from iamd.services.sts import IssuedCredentials, StsService
from iamd.services.throttle import FailureLedger
from iamd.store.transactions import Repositories, Transactions

MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True, slots=True)
class PortalAccount:
    account_id: str
    name: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class SignedIn:
    instance: Instance
    user: DirectoryUser
    must_change_password: bool


class SsoPortalService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        hashing: PasswordHashing,
        failures: FailureLedger,
        sts_of: Callable[[str], StsService],
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._hashing = hashing
        self._failures = failures
        self._sts_of = sts_of

    # -- passwords ---------------------------------------------------------------------

    def set_password(
        self, identity_store_id: str, user_name: str, password: str, *, must_change: bool
    ) -> DirectoryUser:
        _check_password(password)
        digest = self._hashing.hash(password)
        with self._tx.write_uncached() as repos:
            user = repos.identity_center.user_named(identity_store_id, user_name)
            if user is None:
                raise PortalResourceNotFoundException(
                    f"No user {user_name} in {identity_store_id}."
                )
            repos.identity_center_sign_in.set_password(
                user.user_id, digest, must_change, self._clock.now()
            )
        return user

    def sign_in(
        self, instance: Instance, user_name: str, password: str, new_password: str | None = None
    ) -> SignedIn | datetime | None:
        """The signed-in user, the time a throttled name may try again, or None."""
        store = instance.identity_store_id
        now = self._clock.now()
        retry = self._failures.admit(store, user_name, now)
        if retry is not None:
            return retry
        with self._tx.read() as repos:
            user = repos.identity_center.user_named(store, user_name)
            stored = repos.identity_center_sign_in.password(user.user_id) if user else None
        if user is None or stored is None or user.status != "ENABLED":
            self._hashing.spend_like_verify(password)
            return None
        password_hash, must_change = stored
        if not self._hashing.verify(password_hash, password):
            return None
        self._failures.forgive(store, user_name)
        if must_change and new_password is not None:
            _check_password(new_password)
            if new_password == password:
                raise ValidationError("The new password must differ from the one-time password.")
            with self._tx.write_uncached() as repos:
                repos.identity_center_sign_in.set_password(
                    user.user_id, self._hashing.hash(new_password), False, now
                )
            must_change = False
        return SignedIn(instance, user, must_change)

    # -- the portal --------------------------------------------------------------------

    def accounts(self, owner: TokenOwner) -> list[PortalAccount]:
        with self._tx.read() as repos:
            assignments = self._assignments(repos, owner)
            accounts = sorted({a.account_id for a in assignments})
            found = []
            for account_id in accounts:
                record = repos.account.get_account(account_id)
                found.append(
                    PortalAccount(
                        account_id,
                        getattr(record, "name", None),
                        getattr(record, "email", None),
                    )
                )
        return found

    def roles(self, owner: TokenOwner, account_id: str) -> list[str]:
        with self._tx.read() as repos:
            sets = self._permission_sets(repos, owner, account_id)
        return sorted(ps.name for ps in sets)

    def role_credentials(
        self, owner: TokenOwner, account_id: str, role_name: str
    ) -> IssuedCredentials:
        with self._tx.read() as repos:
            chosen = [
                ps for ps in self._permission_sets(repos, owner, account_id) if ps.name == role_name
            ]
            if not chosen:
                raise ForbiddenException()
            ps = chosen[0]
            provisioned = repos.identity_center.provisioned_role(account_id, ps.permission_set_arn)
            role = (
                repos.in_account(account_id).roles.get_by_name(provisioned) if provisioned else None
            )
            user = repos.identity_center.user(
                self._store_of(repos, owner.instance_arn), owner.user_id
            )
        # Fails closed for a user who can no longer sign in, whatever token they hold.
        if role is None or user is None or user.status != "ENABLED":
            raise ForbiddenException()
        return self._sts_of(account_id).identity_center_session(
            role, user.user_name, ps.session_seconds
        )

    def portal_user(self, instance_arn: str, user_id: str, family: str) -> PortalUser | None:
        """The user as the audit trail names them (None: the instance is gone)."""
        with self._tx.read() as repos:
            instance = repos.identity_center.instance(instance_arn)
            if instance is None:
                return None
            user = repos.identity_center.user(instance.identity_store_id, user_id)
        return PortalUser(
            instance.owner_account_id,
            instance.identity_store_id,
            user_id,
            user.user_name if user is not None else None,
            family,
        )

    def _store_of(self, repos: Repositories, instance_arn: str) -> str:
        instance = repos.identity_center.instance(instance_arn)
        return instance.identity_store_id if instance else ""

    def _assignments(self, repos: Repositories, owner: TokenOwner) -> list[AccountAssignment]:
        groups = repos.identity_center.group_ids_of(owner.user_id)
        principals = [("USER", owner.user_id), *(("GROUP", group) for group in groups)]
        return list(repos.identity_center.assignments(owner.instance_arn, principals=principals))

    def _permission_sets(
        self, repos: Repositories, owner: TokenOwner, account_id: str
    ) -> list[PermissionSet]:
        groups = repos.identity_center.group_ids_of(owner.user_id)
        principals = [("USER", owner.user_id), *(("GROUP", group) for group in groups)]
        assigned = repos.identity_center.assignments(
            owner.instance_arn, account_id=account_id, principals=principals
        )
        sets: dict[str, PermissionSet] = {}
        for assignment in assigned:
            ps = repos.identity_center.permission_set(assignment.permission_set_arn)
            if ps is not None:
                sets[ps.permission_set_arn] = ps
        return list(sets.values())


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 128:
        raise ValidationError(
            f"The password must be between {MIN_PASSWORD_LENGTH} and 128 characters."
        )

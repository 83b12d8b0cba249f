"""Console passwords: login profiles, ChangePassword, and the account password policy.

Passwords are checked against the policy (or AWS's default rules when the account has
none), hashed with argon2id and stored only as hashes. The hashing, and the argon2
checks of reuse prevention, run before the write transaction opens, so the database
write lock is never held for the tens of milliseconds a hash costs; the transaction
then re-checks what the earlier read found.

Passwords are not SigV4 credentials: no write here changes a cached credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from iamd.auth.passwords import PasswordHashing
from iamd.clock import Clock
from iamd.errors import (
    AccessDenied,
    EntityAlreadyExists,
    EntityTemporarilyUnmodifiable,
    InvalidUserType,
    NoSuchEntity,
    PasswordPolicyViolation,
    ValidationError,
)
from iamd.model import User
from iamd.model.password_policy import PasswordPolicy
from iamd.principals.caller import Caller
from iamd.services.password_rules import broken_rules
from iamd.services.throttle import FailureLedger
from iamd.services.users import require_user
from iamd.store.read_cache import ReadThrough
from iamd.store.schema import password_policy
from iamd.store.sql.passwords import StoredLoginProfile
from iamd.store.transactions import NO_CREDENTIALS, Transactions

# AWS's PasswordReusePrevention allows at most 24; iamd keeps that many earlier hashes.
HISTORY_KEPT = 24
# Looked up when no user has the name, so that both cases run the same two queries.
_NO_SUCH_USER_ID = "-"


@dataclass(frozen=True, slots=True)
class LoginProfile:
    user_name: str
    create_date: datetime
    password_reset_required: bool


@dataclass(frozen=True, slots=True)
class UserPassword:
    """A user and its stored login profile, as read before a password check."""

    user: User
    profile: StoredLoginProfile


class PasswordService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        hashing: PasswordHashing,
        failures: FailureLedger,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self.hashing = hashing
        # Shared with sign-in: guessing through ChangePassword uses up the same attempts.
        self.failures = failures
        self._policy: ReadThrough[str, tuple[PasswordPolicy | None]] = ReadThrough(
            tx, 1, name="password_policy", tables=(password_policy.name,)
        )

    # -- the account password policy -----------------------------------------------------

    def current_policy(self) -> PasswordPolicy | None:
        def load() -> tuple[PasswordPolicy | None]:
            with self._tx.read() as repos:
                return (repos.password_policy.get(),)

        return self._policy.get("policy", load)[0]

    def get_policy(self) -> PasswordPolicy:
        policy = self.current_policy()
        if policy is None:
            raise NoSuchEntity.password_policy(self._tx.account_id)
        return policy

    def update_policy(self, policy: PasswordPolicy) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("password_policy")
            repos.password_policy.put(policy)

    def delete_policy(self) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            if not repos.password_policy.delete():
                raise NoSuchEntity.password_policy(self._tx.account_id)

    def users_may_change_password(self) -> bool:
        policy = self.current_policy()
        return policy is not None and policy.allow_users_to_change_password

    # -- login profiles --------------------------------------------------------------------

    def get(self, user_name: str) -> LoginProfile:
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            profile = repos.login_profiles.get(user.user_id)
        if profile is None:
            raise NoSuchEntity.login_profile(user.name)
        return LoginProfile(user.name, profile.create_date, profile.password_reset_required)

    def create(self, user_name: str, password: str | None, reset_required: bool) -> LoginProfile:
        if password is None:
            raise ValidationError.constraint("password", "Member must not be null", null=True)
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            if repos.login_profiles.get(user.user_id) is not None:
                raise EntityAlreadyExists.login_profile(user.name)
        password_hash = self._acceptable_hash(user.user_id, password)
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = require_user(repos, user_name, for_update=True)
            if repos.login_profiles.get(user.user_id) is not None:
                raise EntityAlreadyExists.login_profile(user.name)
            repos.login_profiles.add(
                StoredLoginProfile(
                    user_id=user.user_id,
                    password_hash=password_hash,
                    password_reset_required=reset_required,
                    create_date=now,
                    password_changed=now,
                    failed_attempts=0,
                    last_failure=None,
                )
            )
            repos.password_history.add(user.user_id, now, password_hash, keep=HISTORY_KEPT)
        return LoginProfile(user.name, now, reset_required)

    def update(self, user_name: str, password: str | None, reset_required: bool | None) -> None:
        """UpdateLoginProfile: a new password, a new reset flag, or both (either may be omitted)."""
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            profile = repos.login_profiles.get(user.user_id)
        if profile is None:
            raise NoSuchEntity.login_profile(user.name)
        password_hash = None if password is None else self._acceptable_hash(user.user_id, password)
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = require_user(repos, user_name, for_update=True)
            profile = repos.login_profiles.get(user.user_id)
            if profile is None:
                raise NoSuchEntity.login_profile(user.name)
            flag = profile.password_reset_required if reset_required is None else reset_required
            if password_hash is None:
                repos.login_profiles.set_reset_required(user.user_id, flag)
                return
            repos.login_profiles.set_password(user.user_id, password_hash, now, flag)
            repos.password_history.add(user.user_id, now, password_hash, keep=HISTORY_KEPT)

    def delete(self, user_name: str) -> None:
        # The history stays: a deleted and re-created password still may not repeat one.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = require_user(repos, user_name, for_update=True)
            if repos.login_profiles.get(user.user_id) is None:
                raise NoSuchEntity.login_profile(user.name)
            repos.login_profiles.delete(user.user_id)

    # -- a user's own password -------------------------------------------------------------

    def change_own(self, caller: Caller, old_password: str, new_password: str) -> None:
        """ChangePassword: only an IAM user, knowing its current password."""
        if caller.user is None:
            raise InvalidUserType("Only IAM users can change their own password.")
        found = self.user_password(caller.user.name)
        if found is None:
            raise NoSuchEntity.login_profile(caller.user.name)
        if self.failures.admit(caller.account_id, found.user.name, self._clock.now()) is not None:
            # Guessing the old password through the API is slowed down like sign-in.
            raise EntityTemporarilyUnmodifiable(
                "Too many failed password attempts; try again later."
            )
        if not self.hashing.verify(found.profile.password_hash, old_password):
            raise AccessDenied("The old password is incorrect.")
        self.failures.forgive(caller.account_id, found.user.name)
        self.set_own_password(found, new_password)

    def set_own_password(self, found: UserPassword, new_password: str) -> None:
        """Replace a password its owner just proved to know; clears PasswordResetRequired."""
        password_hash = self._acceptable_hash(found.user.user_id, new_password)
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = require_user(repos, found.user.name, for_update=True)
            profile = repos.login_profiles.get(user.user_id)
            # Changed or deleted since the old password was checked: that check is stale.
            if profile is None or profile.password_hash != found.profile.password_hash:
                raise EntityTemporarilyUnmodifiable(
                    f"The password of user {user.name} changed during this request."
                )
            repos.login_profiles.set_password(user.user_id, password_hash, now, False)
            repos.password_history.add(user.user_id, now, password_hash, keep=HISTORY_KEPT)

    # -- shared with sign-in ---------------------------------------------------------------

    def has_login_profile(self, user_id: str) -> bool:
        """Whether the user may still sign in to the console: a console session ends
        when its user's password is deleted (http/console/front.py)."""
        with self._tx.read() as repos:
            return repos.login_profiles.get(user_id) is not None

    def user_password(self, user_name: str) -> UserPassword | None:
        # The same two queries whether or not the user exists: sign-in's timing must not
        # tell (the login profile of a user id nobody has is looked up for a missing one).
        with self._tx.read() as repos:
            user = repos.users.get_by_name(user_name)
            if user is None:
                # A found user also costs its tags' query (`get_by_name`): do the same.
                repos.users.tags.of(_NO_SUCH_USER_ID)
            profile = repos.login_profiles.get(_NO_SUCH_USER_ID if user is None else user.user_id)
        if user is None or profile is None:
            return None
        return UserPassword(user, profile)

    def record_success(self, found: UserPassword, password: str, *, rehash: bool = True) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.login_profiles.record_success(found.user.user_id, self._clock.now())
        if rehash and self.hashing.needs_rehash(found.profile.password_hash):
            # Hashed with older parameters: upgrade it now that the password is at hand.
            new_hash = self.hashing.hash(password)
            with self._tx.write(credentials=NO_CREDENTIALS) as repos:
                repos.login_profiles.rehash(
                    found.user.user_id, found.profile.password_hash, new_hash
                )

    def account_names(self) -> list[str]:
        with self._tx.read() as repos:
            account = repos.account.get()
        names = [self._tx.account_id]
        if account is not None and account.alias:
            names.append(account.alias)
        return names

    def _acceptable_hash(self, user_id: str, password: str) -> str:
        """The password's hash, once it meets the policy and is not a recent one."""
        policy = self.current_policy()
        if broken_rules(policy, password, self.account_names()):
            raise PasswordPolicyViolation()
        if policy is not None and policy.password_reuse_prevention:
            with self._tx.read() as repos:
                recent = repos.password_history.newest(user_id, policy.password_reuse_prevention)
            if any(self.hashing.verify(old, password) for old in recent):
                raise PasswordPolicyViolation()
        return self.hashing.hash(password)

"""Password sign-in of IAM users, for the console and the SSO portal.

`SignInService.verify` answers one attempt with an outcome, never with the reason a
wrong attempt failed: an unknown account, an unknown user, a user without a password
and a wrong password all read `invalid_credentials`, and all cost one argon2 check
(a dummy hash stands in when there is no real one), so neither the answer nor its
timing tells whether a user exists. Repeated failures are slowed down (see
`services/throttle.py`); a success records the user's PasswordLastUsed.

A correct password can still not be enough: a password an administrator set with
PasswordResetRequired, or one older than the policy's MaxPasswordAge, must be replaced
first. The caller may send the new password with the attempt (as AWS's console does);
it must meet the policy, and with HardExpiry an expired password cannot be replaced by
its owner at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from iamd.clock import Clock
from iamd.errors import EntityTemporarilyUnmodifiable, NoSuchEntity, PasswordPolicyViolation
from iamd.services.passwords import PasswordService, UserPassword
from iamd.services.throttle import UnknownNameFailures


# Outcome names, not secrets (ruff S105 reads "PASSWORD" as one).
class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    INVALID_CREDENTIALS = "invalid_credentials"
    THROTTLED = "throttled"
    PASSWORD_RESET_REQUIRED = "password_reset_required"  # noqa: S105
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105
    # With HardExpiry only an administrator can set a new password.
    PASSWORD_EXPIRED_HARD = "password_expired_admin_reset_required"  # noqa: S105
    NEW_PASSWORD_REJECTED = "new_password_rejected"  # noqa: S105


@dataclass(frozen=True, slots=True)
class SignInResult:
    outcome: Outcome
    # Set when signed in (and when a correct password must be replaced first).
    user_name: str | None = None
    user_arn: str | None = None
    user_id: str | None = None
    retry_after_seconds: int | None = None


class SignInService:
    def __init__(self, passwords: PasswordService, clock: Clock, account_id: str) -> None:
        self._passwords = passwords
        self._clock = clock
        self._account_id = account_id
        self._unknown = UnknownNameFailures()

    def verify(
        self,
        account: str,
        user_name: str,
        password: str,
        new_password: str | None = None,
    ) -> SignInResult:
        now = self._clock.now()
        found = self._passwords.user_password(user_name) if self._is_ours(account) else None
        if found is None:
            return self._unknown_attempt(user_name, password, now)
        profile = found.profile
        retry = self._passwords.backoff.retry_at(profile.failed_attempts, profile.last_failure)
        if retry is not None and now < retry:
            return _throttled(retry, now)
        if not self._passwords.hashing.verify(profile.password_hash, password):
            self._passwords.record_failure(found.user.user_id)
            return SignInResult(Outcome.INVALID_CREDENTIALS)
        return self._correct_password(found, password, new_password, now)

    def _correct_password(
        self, found: UserPassword, password: str, new_password: str | None, now: datetime
    ) -> SignInResult:
        policy = self._passwords.current_policy()
        expires = None if policy is None else policy.expires_at(found.profile.password_changed)
        expired = expires is not None and now >= expires
        if expired and policy is not None and policy.hard_expiry:
            return self._identified(found, Outcome.PASSWORD_EXPIRED_HARD)
        if expired or found.profile.password_reset_required:
            if new_password is None:
                outcome = Outcome.PASSWORD_EXPIRED if expired else Outcome.PASSWORD_RESET_REQUIRED
                return self._identified(found, outcome)
            try:
                self._passwords.set_own_password(found, new_password)
            except PasswordPolicyViolation:
                return self._identified(found, Outcome.NEW_PASSWORD_REJECTED)
            except EntityTemporarilyUnmodifiable:
                # An administrator changed the login profile meanwhile: try again.
                return SignInResult(Outcome.THROTTLED, retry_after_seconds=1)
            except NoSuchEntity:
                # The user or its password was deleted meanwhile.
                return SignInResult(Outcome.INVALID_CREDENTIALS)
            # Just hashed with today's parameters: nothing to upgrade.
            self._passwords.record_success(found, new_password, rehash=False)
            return self._identified(found, Outcome.SIGNED_IN)
        self._passwords.record_success(found, password)
        return self._identified(found, Outcome.SIGNED_IN)

    def _unknown_attempt(self, user_name: str, password: str, now: datetime) -> SignInResult:
        failures, last = self._unknown.get(user_name)
        retry = self._passwords.backoff.retry_at(failures, last)
        if retry is not None and now < retry:
            return _throttled(retry, now)
        self._passwords.hashing.spend_like_verify(password)
        self._unknown.record(user_name, self._clock.now())
        return SignInResult(Outcome.INVALID_CREDENTIALS)

    def _is_ours(self, account: str) -> bool:
        return account.lower() in {name.lower() for name in self._passwords.account_names()}

    @staticmethod
    def _identified(found: UserPassword, outcome: Outcome) -> SignInResult:
        return SignInResult(outcome, found.user.name, found.user.arn, found.user.user_id)


def _throttled(retry: datetime, now: datetime) -> SignInResult:
    seconds = max(1, int((retry - now).total_seconds() + 0.999))
    return SignInResult(Outcome.THROTTLED, retry_after_seconds=seconds)

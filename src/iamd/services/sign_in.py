"""Password sign-in of IAM users, for the console and the SSO portal.

`SignInService.verify` answers one attempt with an outcome, never with the reason a
wrong attempt failed: an unknown account, an unknown user, a user without a password
and a wrong password all read `invalid_credentials`. A wrong attempt does the same work
whatever the reason: the same three queries (account, user, login profile), one argon2
check (a dummy hash stands in when there is no real one), one count in the failure
ledger and no database write, so neither the answer nor its timing tells whether a user
exists. Repeated failures are slowed down by that ledger (`services/throttle.py`), which
counts every name alike; a correct password forgives them and records PasswordLastUsed.

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

    def verify(
        self,
        account: str,
        user_name: str,
        password: str,
        new_password: str | None = None,
    ) -> SignInResult:
        now = self._clock.now()
        ours = self._is_ours(account)
        # Counted in the account the attempt names (this one's, by id or alias alike; an
        # unknown one on its own), so no attempt at another account slows this one down.
        counted_in = self._account_id if ours else account
        # Counted as a failure before the check (and forgiven if the password is right),
        # so that attempts racing on several threads cannot share one back-off window.
        retry = self._passwords.failures.admit(counted_in, user_name, now)
        if retry is not None:
            return _throttled(retry, now)
        # Looked up in any account, so a wrong account costs what a wrong user costs.
        found = self._passwords.user_password(user_name)
        hashing = self._passwords.hashing
        if found is None or not ours:
            hashing.spend_like_verify(password)
            return SignInResult(Outcome.INVALID_CREDENTIALS)
        if not hashing.verify(found.profile.password_hash, password):
            return SignInResult(Outcome.INVALID_CREDENTIALS)
        self._passwords.failures.forgive(counted_in, user_name)
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

    def _is_ours(self, account: str) -> bool:
        return account.lower() in {name.lower() for name in self._passwords.account_names()}

    @staticmethod
    def _identified(found: UserPassword, outcome: Outcome) -> SignInResult:
        return SignInResult(outcome, found.user.name, found.user.arn, found.user.user_id)


def _throttled(retry: datetime, now: datetime) -> SignInResult:
    seconds = max(1, int((retry - now).total_seconds() + 0.999))
    return SignInResult(Outcome.THROTTLED, retry_after_seconds=seconds)

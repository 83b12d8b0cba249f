"""Console passwords: login profiles, earlier password hashes, the account password policy.

Only argon2 hashes are stored here, never a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from iamd.model.password_policy import PasswordPolicy
from iamd.store.schema import login_profiles, password_history, password_policy, users


@dataclass(frozen=True, slots=True)
class StoredLoginProfile:
    user_id: str
    password_hash: str
    password_reset_required: bool
    create_date: datetime
    password_changed: datetime
    failed_attempts: int
    last_failure: datetime | None


def _to_profile(row: Row[Any]) -> StoredLoginProfile:
    return StoredLoginProfile(
        user_id=row.user_id,
        password_hash=row.password_hash,
        password_reset_required=bool(row.password_reset_required),
        create_date=row.create_date,
        password_changed=row.password_changed,
        failed_attempts=int(row.failed_attempts or 0),
        last_failure=row.last_failure,
    )


class LoginProfileRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def get(self, user_id: str) -> StoredLoginProfile | None:
        row = self._conn.execute(_BY_USER, {"uid": user_id}).first()
        return _to_profile(row) if row else None

    def add(self, profile: StoredLoginProfile) -> None:
        self._conn.execute(
            insert(login_profiles).values(
                user_id=profile.user_id,
                account_id=self._account_id,
                password_hash=profile.password_hash,
                password_reset_required=profile.password_reset_required,
                create_date=profile.create_date,
                password_changed=profile.password_changed,
                failed_attempts=0,
                last_failure=None,
            )
        )

    def set_password(
        self, user_id: str, password_hash: str, when: datetime, reset_required: bool
    ) -> None:
        self._conn.execute(
            update(login_profiles)
            .where(login_profiles.c.user_id == user_id)
            .values(
                password_hash=password_hash,
                password_changed=when,
                password_reset_required=reset_required,
                failed_attempts=0,
                last_failure=None,
            )
        )

    def set_reset_required(self, user_id: str, reset_required: bool) -> None:
        self._conn.execute(
            update(login_profiles)
            .where(login_profiles.c.user_id == user_id)
            .values(password_reset_required=reset_required)
        )

    def rehash(self, user_id: str, old_hash: str, new_hash: str) -> None:
        """Replace a hash made with older parameters, unless it changed meanwhile."""
        self._conn.execute(
            update(login_profiles)
            .where(login_profiles.c.user_id == user_id, login_profiles.c.password_hash == old_hash)
            .values(password_hash=new_hash)
        )

    def record_failure(self, user_id: str, when: datetime) -> None:
        self._conn.execute(
            update(login_profiles)
            .where(login_profiles.c.user_id == user_id)
            .values(failed_attempts=login_profiles.c.failed_attempts + 1, last_failure=when)
        )

    def record_success(self, user_id: str, when: datetime) -> None:
        """A successful sign-in: the failures are forgiven, the password was used."""
        self._conn.execute(
            update(login_profiles)
            .where(login_profiles.c.user_id == user_id)
            .values(failed_attempts=0, last_failure=None)
        )
        self._conn.execute(
            update(users).where(users.c.user_id == user_id).values(password_last_used=when)
        )

    def delete(self, user_id: str) -> None:
        self._conn.execute(delete(login_profiles).where(login_profiles.c.user_id == user_id))


class PasswordHistoryRepository:
    """Hashes of the passwords a user has had, newest first (the current one included)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def newest(self, user_id: str, count: int) -> list[str]:
        rows = self._conn.execute(
            select(password_history.c.password_hash)
            .where(password_history.c.user_id == user_id)
            .order_by(password_history.c.set_date.desc())
            .limit(count)
        )
        return [r.password_hash for r in rows]

    def add(self, user_id: str, when: datetime, password_hash: str, *, keep: int) -> None:
        """Remember a password; only the newest `keep` are kept (AWS's maximum is 24)."""
        self._conn.execute(
            insert(password_history).values(
                user_id=user_id, set_date=when, password_hash=password_hash
            )
        )
        first_stale = self._conn.execute(
            select(password_history.c.set_date)
            .where(password_history.c.user_id == user_id)
            .order_by(password_history.c.set_date.desc())
            .offset(keep)
            .limit(1)
        ).first()
        if first_stale is not None:
            self._conn.execute(
                delete(password_history).where(
                    password_history.c.user_id == user_id,
                    password_history.c.set_date <= first_stale.set_date,
                )
            )


class PasswordPolicyRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def get(self) -> PasswordPolicy | None:
        row = self._conn.execute(
            select(password_policy).where(password_policy.c.account_id == self._account_id)
        ).first()
        if row is None:
            return None
        return PasswordPolicy(
            minimum_password_length=int(row.minimum_password_length),
            require_symbols=bool(row.require_symbols),
            require_numbers=bool(row.require_numbers),
            require_uppercase_characters=bool(row.require_uppercase_characters),
            require_lowercase_characters=bool(row.require_lowercase_characters),
            allow_users_to_change_password=bool(row.allow_users_to_change_password),
            max_password_age=row.max_password_age,
            password_reuse_prevention=row.password_reuse_prevention,
            hard_expiry=None if row.hard_expiry is None else bool(row.hard_expiry),
        )

    def put(self, policy: PasswordPolicy) -> None:
        """Replace the policy (UpdateAccountPasswordPolicy sets every field at once)."""
        self.delete()
        self._conn.execute(
            insert(password_policy).values(
                account_id=self._account_id,
                minimum_password_length=policy.minimum_password_length,
                require_symbols=policy.require_symbols,
                require_numbers=policy.require_numbers,
                require_uppercase_characters=policy.require_uppercase_characters,
                require_lowercase_characters=policy.require_lowercase_characters,
                allow_users_to_change_password=policy.allow_users_to_change_password,
                max_password_age=policy.max_password_age,
                password_reuse_prevention=policy.password_reuse_prevention,
                hard_expiry=policy.hard_expiry,
            )
        )

    def delete(self) -> bool:
        result = self._conn.execute(
            delete(password_policy).where(password_policy.c.account_id == self._account_id)
        )
        return bool(result.rowcount)


_BY_USER = select(login_profiles).where(login_profiles.c.user_id == bindparam("uid"))

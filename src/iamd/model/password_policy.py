"""The account password policy (UpdateAccountPasswordPolicy) as a value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """The fields of UpdateAccountPasswordPolicy, with AWS's defaults for omitted ones."""

    minimum_password_length: int = 6
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase_characters: bool = False
    require_lowercase_characters: bool = False
    allow_users_to_change_password: bool = False
    max_password_age: int | None = None
    password_reuse_prevention: int | None = None
    hard_expiry: bool | None = None

    @property
    def expire_passwords(self) -> bool:
        return bool(self.max_password_age)

    def expires_at(self, password_changed: datetime) -> datetime | None:
        if not self.max_password_age:
            return None
        return password_changed + timedelta(days=self.max_password_age)

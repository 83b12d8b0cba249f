"""Who is calling: the authenticated principal as services see it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from iamd.model import User


class PrincipalType(StrEnum):
    USER = "User"
    ACCOUNT = "Account"


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: str
    arn: str
    user_id: str
    principal_type: PrincipalType
    access_key_id: str
    user: User | None

    @property
    def user_name(self) -> str | None:
        return self.user.name if self.user else None

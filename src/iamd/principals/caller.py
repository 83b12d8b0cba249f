"""Who is calling: the authenticated principal as services see it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from iamd.auth.session_tokens import SessionClaims
from iamd.model import User


class PrincipalType(StrEnum):
    USER = "User"
    ACCOUNT = "Account"
    ASSUMED_ROLE = "AssumedRole"


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: str
    # The user's ARN, or for a role session arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
    arn: str
    # aws:userid: the user's id (AIDA...), or ROLE_ID:SESSION for a role session.
    user_id: str
    principal_type: PrincipalType
    access_key_id: str
    # The IAM user behind long-term keys and GetSessionToken sessions; None for roles.
    user: User | None
    # The STS session the request was signed with; None for long-term keys.
    session: SessionClaims | None = None
    # Role sessions: the role's own ARN (aws:PrincipalArn) and name.
    role_arn: str | None = None
    role_name: str | None = None

    @property
    def user_name(self) -> str | None:
        return self.user.name if self.user else None

    @property
    def is_session(self) -> bool:
        return self.session is not None

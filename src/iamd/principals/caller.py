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
    FEDERATED_USER = "FederatedUser"


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: str
    # The user's ARN, or for a role session arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION,
    # for a federated user arn:aws:sts::ACCOUNT:federated-user/NAME.
    arn: str
    # aws:userid: the user's id (AIDA...), ROLE_ID:SESSION for a role session,
    # ACCOUNT:NAME for a federated user.
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
    # Federated users (GetFederationToken): the IAM user that federated them, the
    # session's issuer. `user` stays None: a federated user is not that IAM user.
    issuer_user: User | None = None

    @property
    def user_name(self) -> str | None:
        return self.user.name if self.user else None

    @property
    def is_session(self) -> bool:
        return self.session is not None

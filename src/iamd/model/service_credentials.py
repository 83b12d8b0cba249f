"""Service-specific credentials of IAM users (CodeCommit's HTTPS git credentials)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ServiceCredentialStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True, slots=True)
class ServiceSpecificCredential:
    """A user's credential for one service; the password is held only as a hash."""

    credential_id: str
    user_id: str
    user_name: str
    service_name: str
    # `USERNAME-at-ACCOUNTID`, fixed at creation as AWS fixes it.
    service_user_name: str
    password_hash: str
    status: ServiceCredentialStatus
    create_date: datetime

"""The IAM entities as immutable records, in the shapes the services hand around.

Field names follow AWS's vocabulary in snake case. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    create_date: datetime
    alias: str | None
    # What Organizations says of an account; the bootstrap account has no name or email
    # until an organization names them.
    name: str | None = None
    email: str | None = None
    status: str = "ACTIVE"  # ACTIVE, SUSPENDED or PENDING_CLOSURE


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    name: str
    path: str
    arn: str
    create_date: datetime
    password_last_used: datetime | None = None
    permissions_boundary_arn: str | None = None
    tags: tuple[Tag, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class UserHandle:
    """A user's id and name: all a write that hangs a credential off the user needs.

    Read without the user's tags or ARN, so a key or certificate write costs one
    narrow row instead of the user and its tags."""

    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Group:
    group_id: str
    name: str
    path: str
    arn: str
    create_date: datetime


@dataclass(frozen=True, slots=True)
class Role:
    """An IAM role. `assume_role_policy` is its trust policy as submitted (JSON text);
    `last_used_date` / `last_used_region` say when and where a session of it last
    made a request (None: never, as far as iamd knows)."""

    role_id: str
    name: str
    path: str
    arn: str
    create_date: datetime
    assume_role_policy: str
    max_session_duration: int = 3600
    description: str | None = None
    permissions_boundary_arn: str | None = None
    last_used_date: datetime | None = None
    last_used_region: str | None = None
    tags: tuple[Tag, ...] = field(default=())


class PolicyScope(StrEnum):
    AWS = "AWS"
    LOCAL = "Local"


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    policy_id: str
    name: str
    path: str
    arn: str
    scope: PolicyScope
    default_version_id: str
    attachment_count: int
    permissions_boundary_usage_count: int
    is_attachable: bool
    description: str | None
    create_date: datetime
    update_date: datetime
    tags: tuple[Tag, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version_id: str
    document: str
    is_default: bool
    create_date: datetime


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    name: str
    arn: str


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    name: str
    document: str


class AccessKeyStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    user_id: str
    user_name: str
    status: AccessKeyStatus
    create_date: datetime
    last_used_date: datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


class SSHPublicKeyStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True, slots=True)
class SSHPublicKey:
    """An SSH public key of a user; `body` is the OpenSSH form without a comment."""

    ssh_public_key_id: str
    user_id: str
    user_name: str
    fingerprint: str
    body: str
    status: SSHPublicKeyStatus
    upload_date: datetime

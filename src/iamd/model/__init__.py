"""Frozen value objects for the entities iamd manages; no behaviour beyond naming."""

from iamd.model.arn import AWS_MANAGED_ACCOUNT, Arn, iam_arn
from iamd.model.entities import (
    AccessKey,
    AccessKeyStatus,
    Account,
    AttachedPolicy,
    Group,
    InlinePolicy,
    ManagedPolicy,
    PolicyScope,
    PolicyVersion,
    Role,
    SSHPublicKey,
    SSHPublicKeyStatus,
    Tag,
    User,
    UserHandle,
)

__all__ = [
    "AWS_MANAGED_ACCOUNT",
    "AccessKey",
    "AccessKeyStatus",
    "Account",
    "Arn",
    "AttachedPolicy",
    "Group",
    "InlinePolicy",
    "ManagedPolicy",
    "PolicyScope",
    "PolicyVersion",
    "Role",
    "SSHPublicKey",
    "SSHPublicKeyStatus",
    "Tag",
    "User",
    "UserHandle",
    "iam_arn",
]

"""The database schema (SQLAlchemy Core). Alembic migrations must produce exactly this.

Conventions: names are unique ignoring case through a `name_lower` column under a
unique constraint (AWS refuses `ADMINS` beside `admins`); timestamps are integer
microseconds since the epoch (portable, ordered, no time-zone ambiguity); secrets are
stored only sealed by the secret box.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime stored as integer microseconds since the epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError("timestamps must be timezone-aware datetimes")
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(int(value) / 1_000_000, UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Tag keys are up to 128 characters, but str.lower() can lengthen them: "\u0130" (I with a
# dot) lowers to two code points. Room for any lowered 128-character key.
TAG_KEY_LOWER_LENGTH = 512
# A virtual MFA device's serial number (its ARN) is at most 256 characters, as every
# operation that takes it says (serialNumberType); the name is what is left of it.
MFA_SERIAL_NUMBER_LENGTH = 256

# The accounts this iamd serves (migration 0009). The first is the one `--account-id`
# bootstraps, the organization's management account; the others are made by
# `services/accounts.py`. The alias is unique across accounts, as in AWS (it names the
# console's sign-in URL); so is the email, ignoring case (Organizations' CreateAccount
# refuses a taken one). Status: ACTIVE, SUSPENDED or PENDING_CLOSURE.
account = Table(
    "account",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("create_date", UtcDateTime, nullable=False),
    Column("alias", String(63), nullable=True, unique=True),
    Column("name", String(50), nullable=True),
    Column("email", String(64), nullable=True),
    Column("email_lower", String(64), nullable=True, unique=True),
    Column("status", String(16), nullable=False, server_default="ACTIVE"),
    # SetSecurityTokenServicePreferences: 1 (v1Token, AWS's default) or 2 (v2Token).
    Column("global_endpoint_token_version", Integer, nullable=False, server_default="1"),
)

# Every entity row names its account (migration 0009): names are unique per account,
# and every listing, count and look-up by name filters on it. Ids (AIDA..., AKIA...,
# repository ids) are random and unique across accounts, so rows that hang off an
# entity (tags, memberships, attachments, versions) need no column of their own.
# AWS managed policies belong to no account: their `account_id` is "aws", the account
# field of their ARNs, and every account sees them.
AWS_POLICY_ACCOUNT = "aws"


def _account_column() -> Column[str]:
    return Column("account_id", String(12), ForeignKey("account.account_id"), nullable=False)


# How many rows of `kind` (users, groups, roles) an account has, kept by the
# repositories as they insert and delete them (store/sql/named_entities.py): a quota
# check reads one row whatever the account's size (migration 0033).
entity_counts = Table(
    "entity_counts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("n", Integer, nullable=False),
)


# The cross-node change signal (docs/architecture.md, "Several nodes"). Every cached
# write adds one to the counter of a slot no other transaction holds (FOR UPDATE SKIP
# LOCKED), in its own transaction; each node polls the sum. Writers never wait for one
# another here, and a committed write is visible in the sum exactly when its data is,
# whatever order transactions commit in. Migration 0008 creates slots 0 to 127.
change_slots = Table(
    "change_slots",
    metadata,
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("counter", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(32), primary_key=True),
    _account_column(),
    Column("name", String(128), nullable=False),
    Column("name_lower", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    Column("password_last_used", UtcDateTime, nullable=True),
    Column("permissions_boundary_arn", String(2048), nullable=True),
    UniqueConstraint("account_id", "name_lower"),
)
Index("ix_users_path_name", users.c.account_id, users.c.path, users.c.name_lower)
# PermissionsBoundaryUsageCount and DeletePolicy look users up by boundary.
Index("ix_users_permissions_boundary_arn", users.c.permissions_boundary_arn)


def _entity_tags(
    name: str, owner_column: str, owner: str, *, account_scoped: bool = False
) -> Table:
    """The tags of one kind of IAM entity, as `store/sql/tags.TagRepository` keeps them:
    one row per key, unique ignoring case (`key_lower`), in the order they were added
    (`position`), dropped with their owner. Tables made after accounts carry the account
    of each row too."""
    account = [Column("account_id", String(12), nullable=False)] if account_scoped else []
    return Table(
        name,
        metadata,
        Column(owner_column, ForeignKey(owner, ondelete="CASCADE"), primary_key=True),
        Column("key_lower", String(TAG_KEY_LOWER_LENGTH), primary_key=True),
        *account,
        Column("key", String(128), nullable=False),
        Column("value", String(256), nullable=False),
        Column("position", Integer, nullable=False),
    )


user_tags = _entity_tags("user_tags", "user_id", "users.user_id")

groups = Table(
    "groups",
    metadata,
    Column("group_id", String(32), primary_key=True),
    _account_column(),
    Column("name", String(128), nullable=False),
    Column("name_lower", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", ForeignKey("groups.group_id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("added", UtcDateTime, nullable=False),
)
Index("ix_group_members_user", group_members.c.user_id)

policies = Table(
    "policies",
    metadata,
    Column("policy_id", String(32), primary_key=True),
    # AWS_POLICY_ACCOUNT for AWS managed policies, which no account row stands for.
    Column("account_id", String(12), nullable=False),
    Column("scope", String(8), nullable=False),  # "AWS" or "Local"
    Column("name", String(128), nullable=False),
    Column("name_lower", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("arn", String(2048), nullable=False, unique=True),
    Column("description", String(1000), nullable=True),
    Column("default_version_id", String(32), nullable=False),
    Column("next_version_number", Integer, nullable=False),
    Column("is_attachable", Boolean, nullable=False, default=True),
    Column("create_date", UtcDateTime, nullable=False),
    Column("update_date", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("policy_id", ForeignKey("policies.policy_id", ondelete="CASCADE"), primary_key=True),
    Column("version_id", String(32), primary_key=True),
    Column("number", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
)

policy_tags = _entity_tags("policy_tags", "policy_id", "policies.policy_id")

user_policy_attachments = Table(
    "user_policy_attachments",
    metadata,
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("policy_id", ForeignKey("policies.policy_id"), primary_key=True),
    Column("attached", UtcDateTime, nullable=False),
)
Index("ix_user_policy_attachments_policy", user_policy_attachments.c.policy_id)

group_policy_attachments = Table(
    "group_policy_attachments",
    metadata,
    Column("group_id", ForeignKey("groups.group_id", ondelete="CASCADE"), primary_key=True),
    Column("policy_id", ForeignKey("policies.policy_id"), primary_key=True),
    Column("attached", UtcDateTime, nullable=False),
)
Index("ix_group_policy_attachments_policy", group_policy_attachments.c.policy_id)

user_inline_policies = Table(
    "user_inline_policies",
    metadata,
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
)

group_inline_policies = Table(
    "group_inline_policies",
    metadata,
    Column("group_id", ForeignKey("groups.group_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    _account_column(),
    Column("secret_sealed", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    Column("last_used_date", UtcDateTime, nullable=True),
    # Service and region come from the request's credential scope, which bounds neither
    # (any well-formed region is accepted): unbounded text, never a failed flush.
    Column("last_used_service", Text, nullable=True),
    Column("last_used_region", Text, nullable=True),
)
Index("ix_access_keys_user", access_keys.c.user_id)

# Each user's SSH public keys (UploadSSHPublicKey). `body` is the OpenSSH form without
# comment; the fingerprint (MD5 of the key blob) is unique per user: AWS answers
# DuplicateSSHPublicKey for the same key twice, in whatever encoding.
ssh_public_keys = Table(
    "ssh_public_keys",
    metadata,
    Column("ssh_public_key_id", String(32), primary_key=True),
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    _account_column(),
    Column("fingerprint", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("upload_date", UtcDateTime, nullable=False),
    UniqueConstraint("user_id", "fingerprint"),
)

# Service-specific credentials of users (CreateServiceSpecificCredential, migration
# 0019). The password is stored only as an argon2id hash; `service_user_name` is
# `USERNAME-at-ACCOUNTID` as created (git over HTTPS logs in with it).
service_specific_credentials = Table(
    "service_specific_credentials",
    metadata,
    Column("credential_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("service_name", String(128), nullable=False),
    Column("service_user_name", String(200), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
)
Index("ix_service_specific_credentials_user_id", service_specific_credentials.c.user_id)
Index(
    "ix_service_specific_credentials_service_user_name",
    service_specific_credentials.c.service_user_name,
)

# CodeCommit repositories. Names are unique as written (they appear in ARNs and clone
# URLs); the bare git repository lives at `<data-dir>/repositories/<repository_id>.git`.
# `default_branch` stays NULL until the first push.
repositories = Table(
    "repositories",
    metadata,
    Column("repository_id", String(36), primary_key=True),
    _account_column(),
    Column("name", String(100), nullable=False),
    Column("description", Text, nullable=True),
    # The first branch pushed: git bounds ref names less than CodeCommit's model does.
    Column("default_branch", Text, nullable=True),
    Column("creation_date", UtcDateTime, nullable=False),
    Column("last_modified_date", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name"),
)
Index(
    "ix_repositories_last_modified_date",
    repositories.c.account_id,
    repositories.c.last_modified_date,
)

repository_tags = Table(
    "repository_tags",
    metadata,
    Column(
        "repository_id",
        ForeignKey("repositories.repository_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

# Virtual MFA devices (CreateVirtualMFADevice). The serial number is the device's ARN;
# names are unique ignoring case within a path, as in AWS. The TOTP seed is sealed.
# `user_id` is set while the device is enabled for a user; `last_used_step` is the newest
# TOTP time step accepted, so a code is never accepted twice (AWS refuses a replayed code).
mfa_devices = Table(
    "mfa_devices",
    metadata,
    Column("serial_number", String(512), primary_key=True),
    _account_column(),
    Column("name", String(MFA_SERIAL_NUMBER_LENGTH), nullable=False),
    Column("name_lower", String(MFA_SERIAL_NUMBER_LENGTH), nullable=False),
    Column("path", String(512), nullable=False),
    Column("seed_sealed", LargeBinary, nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    Column("user_id", ForeignKey("users.user_id"), nullable=True),
    Column("enable_date", UtcDateTime, nullable=True),
    Column("last_used_step", BigInteger, nullable=True),
    # How many time steps the device's clock is ahead of the server's (negative: behind),
    # learnt at EnableMFADevice and ResyncMFADevice and followed as codes come in.
    Column("drift_steps", Integer, nullable=False, server_default="0"),
    UniqueConstraint("account_id", "path", "name_lower"),
)
Index("ix_mfa_devices_user", mfa_devices.c.user_id)

mfa_device_tags = _entity_tags("mfa_device_tags", "serial_number", "mfa_devices.serial_number")

# Console passwords (CreateLoginProfile). Only an argon2 hash is stored. Failed sign-ins
# are counted so repeated failures are slowed down.
login_profiles = Table(
    "login_profiles",
    metadata,
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    _account_column(),
    Column("password_hash", Text, nullable=False),
    Column("password_reset_required", Boolean, nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    Column("password_changed", UtcDateTime, nullable=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("last_failure", UtcDateTime, nullable=True),
)

# Earlier password hashes of a user, newest first, for PasswordReusePrevention.
password_history = Table(
    "password_history",
    metadata,
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("set_date", UtcDateTime, primary_key=True),
    Column("password_hash", Text, nullable=False),
)

# The account password policy (UpdateAccountPasswordPolicy); no row means none is set.
password_policy = Table(
    "password_policy",
    metadata,
    Column("account_id", ForeignKey("account.account_id"), primary_key=True),
    Column("minimum_password_length", Integer, nullable=False),
    Column("require_symbols", Boolean, nullable=False),
    Column("require_numbers", Boolean, nullable=False),
    Column("require_uppercase_characters", Boolean, nullable=False),
    Column("require_lowercase_characters", Boolean, nullable=False),
    Column("allow_users_to_change_password", Boolean, nullable=False),
    Column("max_password_age", Integer, nullable=True),
    Column("password_reuse_prevention", Integer, nullable=True),
    Column("hard_expiry", Boolean, nullable=True),
)

roles = Table(
    "roles",
    metadata,
    Column("role_id", String(32), primary_key=True),
    _account_column(),
    Column("name", String(64), nullable=False),
    Column("name_lower", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    Column("assume_role_policy", Text, nullable=False),
    Column("description", String(1000), nullable=True),
    Column("max_session_duration", Integer, nullable=False),
    Column("permissions_boundary_arn", String(2048), nullable=True),
    Column("last_used_date", UtcDateTime, nullable=True),
    Column("last_used_region", Text, nullable=True),  # from the credential scope, as above
    UniqueConstraint("account_id", "name_lower"),
)
Index("ix_roles_path_name", roles.c.account_id, roles.c.path, roles.c.name_lower)
Index("ix_roles_permissions_boundary_arn", roles.c.permissions_boundary_arn)

role_tags = _entity_tags("role_tags", "role_id", "roles.role_id")

role_policy_attachments = Table(
    "role_policy_attachments",
    metadata,
    Column("role_id", ForeignKey("roles.role_id", ondelete="CASCADE"), primary_key=True),
    Column("policy_id", ForeignKey("policies.policy_id"), primary_key=True),
    Column("attached", UtcDateTime, nullable=False),
)
Index("ix_role_policy_attachments_policy", role_policy_attachments.c.policy_id)

role_inline_policies = Table(
    "role_inline_policies",
    metadata,
    Column("role_id", ForeignKey("roles.role_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
)

# Instance profiles (migration 0011): account-scoped from the start, names unique per
# account ignoring case. A profile holds at most one role (InstanceRolesPerInstanceProfile);
# DeleteRole refuses a role that is in one, so no cascade from roles is needed.
INSTANCE_PROFILE_NAME_LENGTH = 128

instance_profiles = Table(
    "instance_profiles",
    metadata,
    Column("instance_profile_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("name", String(INSTANCE_PROFILE_NAME_LENGTH), nullable=False),
    Column("name_lower", String(INSTANCE_PROFILE_NAME_LENGTH), nullable=False),
    Column("path", String(512), nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
)
Index(
    "ix_instance_profiles_account_id_path", instance_profiles.c.account_id, instance_profiles.c.path
)

instance_profile_roles = Table(
    "instance_profile_roles",
    metadata,
    Column(
        "instance_profile_id",
        ForeignKey("instance_profiles.instance_profile_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("role_id", ForeignKey("roles.role_id"), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("added", UtcDateTime, nullable=False),
)
# ListInstanceProfilesForRole and DeleteRole's conflict check look profiles up by role.
Index("ix_instance_profile_roles_role_id", instance_profile_roles.c.role_id)

instance_profile_tags = _entity_tags(
    "instance_profile_tags",
    "instance_profile_id",
    "instance_profiles.instance_profile_id",
    account_scoped=True,
)

# DeleteServiceLinkedRole's tasks, polled with GetServiceLinkedRoleDeletionStatus. The
# task id is `task/aws-service-role/SERVICE/ROLE/UUID` (at most 1,000 characters in the
# model); `reason` is the FAILED reason's text.
service_linked_role_deletions = Table(
    "service_linked_role_deletions",
    metadata,
    Column("task_id", String(1000), primary_key=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("role_name", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("create_date", UtcDateTime, nullable=False),
)

# The account's one credential report (GenerateCredentialReport). `state` is INPROGRESS
# while a node builds it and COMPLETE once `content` (the CSV, zlib-compressed) is stored;
# any node serves it.
credential_reports = Table(
    "credential_reports",
    metadata,
    Column("account_id", ForeignKey("account.account_id"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("started", UtcDateTime, nullable=False),
    Column("generated_time", UtcDateTime, nullable=True),
    Column("content", LargeBinary, nullable=True),
)

# --- AWS Organizations (migration 0010) --------------------------------------------------
# One row per organization; its single root lives on the row (a root has no state of its
# own beyond its id and whether SCPs are enabled in it). The accounts' own rows (name,
# email, status) are the accounts service's; these tables hold only membership.
ORG_ID_LENGTH = 34  # o- + up to 32
OU_ID_LENGTH = 68  # ou- + 32 + - + 32
POLICY_ID_LENGTH = 130  # p- + up to 128

organizations = Table(
    "organizations",
    metadata,
    Column("organization_id", String(ORG_ID_LENGTH), primary_key=True),
    Column("management_account_id", String(12), nullable=False, unique=True),
    Column("feature_set", String(32), nullable=False),
    Column("root_id", String(ORG_ID_LENGTH), nullable=False, unique=True),
    Column("scp_enabled", Boolean, nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
)

# An account belongs to at most one organization; parent_id is the root or an OU.
organization_members = Table(
    "organization_members",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column(
        "organization_id",
        String(ORG_ID_LENGTH),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("parent_id", String(OU_ID_LENGTH), nullable=False, index=True),
    Column("joined_method", String(16), nullable=False),
    Column("joined_date", UtcDateTime, nullable=False),
)

organizational_units = Table(
    "organizational_units",
    metadata,
    Column("ou_id", String(OU_ID_LENGTH), primary_key=True),
    Column(
        "organization_id",
        String(ORG_ID_LENGTH),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("parent_id", String(OU_ID_LENGTH), nullable=False),
    Column("name", String(128), nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    # AWS refuses a second OU of the same name under one parent.
    UniqueConstraint("parent_id", "name"),
)

# Customer managed policies; FullAWSAccess (p-FullAWSAccess) is AWS's and has no row.
organization_policies = Table(
    "organization_policies",
    metadata,
    Column("policy_id", String(POLICY_ID_LENGTH), primary_key=True),
    Column(
        "organization_id",
        String(ORG_ID_LENGTH),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("policy_type", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", String(512), nullable=False),
    Column("content", Text, nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    UniqueConstraint("organization_id", "name"),
)

# policy_id is not a foreign key: p-FullAWSAccess is attached without a row.
organization_policy_attachments = Table(
    "organization_policy_attachments",
    metadata,
    Column("policy_id", String(POLICY_ID_LENGTH), primary_key=True),
    Column("target_id", String(OU_ID_LENGTH), primary_key=True, index=True),
    Column(
        "organization_id",
        String(ORG_ID_LENGTH),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("attached_date", UtcDateTime, nullable=False),
)

create_account_requests = Table(
    "create_account_requests",
    metadata,
    Column("request_id", String(40), primary_key=True),
    Column(
        "organization_id",
        String(ORG_ID_LENGTH),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("account_name", String(50), nullable=False),
    Column("email", String(64), nullable=False),
    Column("role_name", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("failure_reason", String(64), nullable=True),
    Column("account_id", String(12), nullable=True),
    Column("requested_date", UtcDateTime, nullable=False),
    Column("completed_date", UtcDateTime, nullable=True),
    # The Tags of the request, as JSON: put on the account once it exists.
    Column("tags", Text, nullable=False),
)

# Tags of accounts, OUs, roots and policies, by resource id.
organization_tags = Table(
    "organization_tags",
    metadata,
    Column("resource_id", String(POLICY_ID_LENGTH), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column(
        "organization_id",
        String(ORG_ID_LENGTH),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("value", String(256), nullable=False),
)

# The organization's features (migration 0024): kind "service" rows name the services
# trusted access is enabled for (EnableAWSServiceAccess), kind "iam" rows IAM's
# centralized root access features (RootCredentialsManagement, RootSessions).
organization_features = Table(
    "organization_features",
    metadata,
    Column(
        "organization_id",
        String(ORG_ID_LENGTH),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("enabled_date", UtcDateTime, nullable=False),
)

# --- Certificates (migration 0012) ------------------------------------------------------
# Both tables are account-scoped from the start: every query names the account.

# X.509 signing certificates of users (UploadSigningCertificate). The same certificate
# (its SHA-256 fingerprint of the DER) may belong to one user of the account only: AWS
# answers DuplicateCertificate for it whichever user holds it.
signing_certificates = Table(
    "signing_certificates",
    metadata,
    Column("certificate_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("upload_date", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "fingerprint"),
)
Index("ix_signing_certificates_user_id", signing_certificates.c.user_id)

# Server certificates (UploadServerCertificate): names are unique per account ignoring
# case; the private key is stored only sealed by the secret box (its id is the
# associated data) and never leaves the server.
server_certificates = Table(
    "server_certificates",
    metadata,
    Column("server_certificate_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_lower", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("body", Text, nullable=False),
    Column("chain", Text, nullable=True),
    Column("private_key_sealed", LargeBinary, nullable=False),
    Column("expiration", UtcDateTime, nullable=False),
    Column("upload_date", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
)
Index(
    "ix_server_certificates_account_id_path",
    server_certificates.c.account_id,
    server_certificates.c.path,
)

server_certificate_tags = _entity_tags(
    "server_certificate_tags",
    "server_certificate_id",
    "server_certificates.server_certificate_id",
    account_scoped=True,
)

# OpenID Connect providers (migration 0023): one per issuer URL (stored without its
# `https://`) per account; client ids and thumbprints are JSON lists, in the order given.
oidc_providers = Table(
    "oidc_providers",
    metadata,
    Column("provider_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("url", String(255), nullable=False),
    Column("client_ids", Text, nullable=False),
    Column("thumbprints", Text, nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "url"),
)

oidc_provider_tags = _entity_tags(
    "oidc_provider_tags", "provider_id", "oidc_providers.provider_id", account_scoped=True
)

# SAML 2.0 identity providers (CreateSAMLProvider, migration 0025): names are unique
# per account ignoring case; `provider_id` is the SAMLProviderUUID.
saml_providers = Table(
    "saml_providers",
    metadata,
    Column("provider_id", String(36), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_lower", String(128), nullable=False),
    Column("metadata_document", Text, nullable=False),
    Column("create_date", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    # "Required" or "Allowed" (migration 0027).
    Column("assertion_encryption_mode", String(8), nullable=False, server_default="Allowed"),
    UniqueConstraint("account_id", "name_lower"),
)

# A SAML provider's private keys for encrypted assertions (migration 0027), at most two
# (rotation): stored only sealed by the secret box (the key id is the associated data),
# never returned.
saml_provider_private_keys = Table(
    "saml_provider_private_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column(
        "provider_id",
        String(36),
        ForeignKey("saml_providers.provider_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("account_id", String(12), nullable=False),
    Column("private_key_sealed", LargeBinary, nullable=False),
    Column("upload_date", UtcDateTime, nullable=False),
)
Index("ix_saml_provider_private_keys_provider_id", saml_provider_private_keys.c.provider_id)

saml_provider_tags = _entity_tags(
    "saml_provider_tags", "provider_id", "saml_providers.provider_id", account_scoped=True
)

# The IDs of the SAML assertions AssumeRoleWithSAML accepted, kept until their
# NotOnOrAfter so that one response cannot be used twice; pruned as new ones arrive.
saml_assertion_replays = Table(
    "saml_assertion_replays",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("assertion_id", String(256), primary_key=True),
    Column("not_on_or_after", UtcDateTime, nullable=False),
)
Index("ix_saml_assertion_replays_not_on_or_after", saml_assertion_replays.c.not_on_or_after)

# The IAM access advisor's record (migration 0014): per account, principal (a user's or
# a role's ARN) and service namespace, when and in which region the principal last
# authenticated to it; `action` is '' for the service and the action's name for the
# services AWS tracks at action level. Written in batches by services/last_used.py.
service_last_accessed = Table(
    "service_last_accessed",
    metadata,
    Column("account_id", String(12), primary_key=True),
    # A principal's ARN (a path makes a user's longer than 512 characters), and the
    # service and region of the credential scope, which bounds neither: unbounded text,
    # so a flush never fails on PostgreSQL (SQLite does not enforce lengths).
    Column("principal_arn", Text, primary_key=True),
    Column("service_namespace", Text, primary_key=True),
    Column("action", String(128), primary_key=True),
    Column("last_authenticated", UtcDateTime, nullable=False),
    Column("region", Text, nullable=False),
)

# --- Access advisor jobs (migration 0015) -------------------------------------------
# GenerateServiceLastAccessedDetails' jobs, so that any node of a PostgreSQL deployment
# answers GetServiceLastAccessedDetails for a job another node started. `report` is the
# finished report as JSON (services/access_advisor.py writes and reads it).
access_advisor_jobs = Table(
    "access_advisor_jobs",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("job_id", String(36), primary_key=True),
    Column("arn", Text, nullable=False),
    Column("granularity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("completed", UtcDateTime, nullable=True),
    Column("error", String(128), nullable=True),
    Column("report", Text, nullable=True),
)
Index(
    "ix_access_advisor_jobs_account_id_created",
    access_advisor_jobs.c.account_id,
    access_advisor_jobs.c.created,
)

# --- Audit trail (migrations 0013, 0026) -----------------------------------------------
# The audit trail's events (docs/trail.md, "Storage"), in batches: one row holds up to
# 256 events of one account that span at most a minute, as one zstd-compressed block
# (a JSON header of the lookup fields, then each redacted record's JSON text on its own
# line); one key row per distinct lookup value of a batch (EventName, Username ...)
# makes every LookupEvents attribute an index range scan over batches, not events.
# Writing a batch of 256 costs two rows and a dozen keys where one row per event cost
# nine B-tree insertions each; bytes per event: measured in docs/trail.md.
trail_batches = Table(
    "trail_batches",
    metadata,
    Column("batch_id", String(36), primary_key=True),  # its first event's id
    Column("account_id", String(12), nullable=False),
    Column("oldest_time", BigInteger, nullable=False),  # µs since the epoch
    Column("newest_time", BigInteger, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("events", LargeBinary, nullable=False),
)
Index(
    "ix_trail_batches_account_id_newest_time",
    trail_batches.c.account_id,
    trail_batches.c.newest_time,
)
# Log file delivery reads all accounts' batches after its cursor.
Index("ix_trail_batches_newest_time", trail_batches.c.newest_time)
trail_batch_keys = Table(
    "trail_batch_keys",
    metadata,
    Column(
        "batch_id",
        ForeignKey("trail_batches.batch_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("attribute", String(16), primary_key=True),  # a LookupEvents AttributeKey
    Column("value", String(2048), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("newest_time", BigInteger, nullable=False),
)
Index(
    "ix_trail_batch_keys_account_id_attribute_value_newest_time",
    trail_batch_keys.c.account_id,
    trail_batch_keys.c.attribute,
    trail_batch_keys.c.value,
    trail_batch_keys.c.newest_time,
)

# --- IAM Identity Center (migration 0016) ------------------------------------------------
# One instance per organization (its management account owns it), its identity store's
# users, groups and memberships, permission sets, account assignments, the roles the
# assignments provisioned, and the status records of those asynchronous calls. A user's
# attributes beyond its name are the API's own JSON (services/identity_store.py).
ic_instances = Table(
    "ic_instances",
    metadata,
    Column("instance_arn", String(64), primary_key=True),
    Column("identity_store_id", String(36), nullable=False, unique=True),
    Column("owner_account_id", String(12), nullable=False, unique=True),
    Column("name", Text, nullable=True),
    Column("status", String(32), nullable=False),
    Column("created", UtcDateTime, nullable=False),
)
ic_users = Table(
    "ic_users",
    metadata,
    Column("user_id", String(47), primary_key=True),
    Column("identity_store_id", String(36), nullable=False),
    Column("user_name", Text, nullable=False),
    Column("user_name_lower", Text, nullable=False),
    Column("attributes", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("updated_by", Text, nullable=False),
    # "<Issuer>\n<Id>" of its first external id (migration 0029), for SCIM's look-ups.
    Column("external_key", Text, nullable=True),
    UniqueConstraint("identity_store_id", "user_name_lower"),
)
Index(
    "ix_ic_users_identity_store_id_external_key",
    ic_users.c.identity_store_id,
    ic_users.c.external_key,
    unique=True,
)
ic_groups = Table(
    "ic_groups",
    metadata,
    Column("group_id", String(47), primary_key=True),
    Column("identity_store_id", String(36), nullable=False),
    Column("display_name", Text, nullable=False),
    Column("display_name_lower", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("external_ids", Text, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("external_key", Text, nullable=True),
    UniqueConstraint("identity_store_id", "display_name_lower"),
)
Index(
    "ix_ic_groups_identity_store_id_external_key",
    ic_groups.c.identity_store_id,
    ic_groups.c.external_key,
    unique=True,
)
ic_memberships = Table(
    "ic_memberships",
    metadata,
    Column("membership_id", String(47), primary_key=True),
    Column("identity_store_id", String(36), nullable=False),
    Column("group_id", String(47), nullable=False),
    Column("user_id", String(47), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    UniqueConstraint("group_id", "user_id"),
)
Index("ix_ic_memberships_user_id", ic_memberships.c.user_id)
ic_permission_sets = Table(
    "ic_permission_sets",
    metadata,
    Column("permission_set_arn", String(128), primary_key=True),
    Column("instance_arn", String(64), nullable=False),
    Column("name", String(32), nullable=False),
    Column("description", Text, nullable=True),
    Column("session_duration", String(16), nullable=False),
    Column("relay_state", Text, nullable=True),
    Column("created", UtcDateTime, nullable=False),
    Column("inline_policy", Text, nullable=True),
    Column("boundary", Text, nullable=True),
    Column("managed_policies", Text, nullable=False),
    Column("customer_policies", Text, nullable=False),
    Column("tags", Text, nullable=False),
    UniqueConstraint("instance_arn", "name"),
)
ic_assignments = Table(
    "ic_assignments",
    metadata,
    Column("instance_arn", String(64), primary_key=True),
    Column("account_id", String(12), primary_key=True),
    Column("permission_set_arn", String(128), primary_key=True),
    Column("principal_type", String(8), primary_key=True),
    Column("principal_id", String(47), primary_key=True),
    Column("created", UtcDateTime, nullable=False),
)
Index("ix_ic_assignments_principal_id", ic_assignments.c.principal_id)
ic_provisioned = Table(
    "ic_provisioned",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("permission_set_arn", String(128), primary_key=True),
    Column("instance_arn", String(64), nullable=False),
    Column("role_name", String(64), nullable=False),
    Column("provisioned", UtcDateTime, nullable=False),
)
ic_operations = Table(
    "ic_operations",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("instance_arn", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failure_reason", Text, nullable=True),
    Column("account_id", String(12), nullable=True),
    Column("permission_set_arn", String(128), nullable=False),
    Column("principal_type", String(8), nullable=True),
    Column("principal_id", String(47), nullable=True),
    Column("created", UtcDateTime, nullable=False),
)
Index(
    "ix_ic_operations_instance_arn_kind_created",
    ic_operations.c.instance_arn,
    ic_operations.c.kind,
    ic_operations.c.created,
)

# Identity Center sign-in: the users' passwords (argon2 hashes only), the OIDC clients
# the CLI registers, the device and authorization codes it waits on, and the access and
# refresh tokens the portal API takes. Secrets (client secrets, codes, tokens) are kept
# as SHA-256 digests, never as they were issued.
ic_user_passwords = Table(
    "ic_user_passwords",
    metadata,
    Column("user_id", String(47), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("must_change", Boolean, nullable=False),
    Column("changed", UtcDateTime, nullable=False),
)
ic_oidc_clients = Table(
    "ic_oidc_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("secret_digest", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("redirect_uris", Text, nullable=False),
    Column("grant_types", Text, nullable=False),
    Column("issuer_url", Text, nullable=True),
    Column("issued", UtcDateTime, nullable=False),
    Column("expires", UtcDateTime, nullable=False),
)
ic_oidc_grants = Table(
    "ic_oidc_grants",
    metadata,
    Column("code_digest", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),  # device | code
    Column("client_id", String(64), nullable=False),
    Column("instance_arn", String(64), nullable=False),
    Column("user_code", String(16), nullable=True, unique=True),
    Column("scopes", Text, nullable=False),
    Column("redirect_uri", Text, nullable=True),
    Column("code_challenge", String(128), nullable=True),
    Column("state", String(16), nullable=False),  # pending | approved | denied | used
    Column("user_id", String(47), nullable=True),
    Column("interval", Integer, nullable=False),
    Column("last_poll", UtcDateTime, nullable=True),
    Column("expires", UtcDateTime, nullable=False),
)
ic_oidc_tokens = Table(
    "ic_oidc_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),  # access | refresh
    Column("client_id", String(64), nullable=False),
    Column("instance_arn", String(64), nullable=False),
    Column("user_id", String(47), nullable=False),
    Column("scopes", Text, nullable=False),
    # A refresh token and the access tokens it led to share a family: Logout, or a
    # rotated refresh token used again, revokes the whole family.
    Column("family", String(36), nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("expires", UtcDateTime, nullable=False),
)
Index("ix_ic_oidc_tokens_family", ic_oidc_tokens.c.family)
Index("ix_ic_oidc_tokens_user_id", ic_oidc_tokens.c.user_id)

# Identity Center MFA (migration 0028): the instance's setting (no row: never asked),
# users' authenticator apps (TOTP seeds sealed by the secret box, bound to the device
# id; the newest time step accepted, so a code is good once), the sign-ins waiting for
# their code after a correct password (found by the SHA-256 digest of a one-time ticket;
# a seed offered for registration is sealed there until the user confirms it), and the
# access portal's browser sessions (the cookie's digest only).
ic_mfa_settings = Table(
    "ic_mfa_settings",
    metadata,
    Column("instance_arn", String(64), primary_key=True),
    Column("mode", String(8), nullable=False),  # always | never
    Column("no_device", String(8), nullable=False),  # register | block
    Column("updated", UtcDateTime, nullable=False),
)
ic_mfa_devices = Table(
    "ic_mfa_devices",
    metadata,
    Column("device_id", String(36), primary_key=True),
    Column("user_id", String(47), nullable=False),
    Column("name", Text, nullable=False),
    Column("seed_sealed", LargeBinary, nullable=False),
    Column("registered", UtcDateTime, nullable=False),
    Column("last_used_step", BigInteger, nullable=True),
)
Index("ix_ic_mfa_devices_user_id", ic_mfa_devices.c.user_id)
ic_mfa_pending = Table(
    "ic_mfa_pending",
    metadata,
    Column("ticket_digest", String(64), primary_key=True),
    Column("instance_arn", String(64), nullable=False),
    Column("user_id", String(47), nullable=False),
    Column("purpose", String(16), nullable=False),  # device | authorize | portal
    Column("context", Text, nullable=False),
    Column("seed_sealed", LargeBinary, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("expires", UtcDateTime, nullable=False),
)
ic_portal_sessions = Table(
    "ic_portal_sessions",
    metadata,
    Column("session_digest", String(64), primary_key=True),
    Column("instance_arn", String(64), nullable=False),
    Column("user_id", String(47), nullable=False),
    Column("family", String(36), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("mfa", Boolean, nullable=False),
)
Index("ix_ic_portal_sessions_user_id", ic_portal_sessions.c.user_id)
# External identity sources (migration 0029): the SCIM bearer tokens (SHA-256 digests
# only, at most two per instance) and an instance's external SAML identity provider.
ic_scim_tokens = Table(
    "ic_scim_tokens",
    metadata,
    Column("token_id", String(36), primary_key=True),
    Column("instance_arn", String(64), nullable=False),
    Column("token_digest", String(64), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("expires", UtcDateTime, nullable=False),
    Column("last_used", UtcDateTime, nullable=True),
)
Index("ix_ic_scim_tokens_instance_arn", ic_scim_tokens.c.instance_arn)
ic_identity_sources = Table(
    "ic_identity_sources",
    metadata,
    Column("instance_arn", String(64), primary_key=True),
    Column("idp_entity_id", Text, nullable=False),
    Column("idp_sso_url", Text, nullable=False),
    Column("metadata_document", Text, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
)
# A sign-in sent to the external identity provider, found again by its RelayState
# ticket's digest: the device code or /authorize request it is for, then the user.
ic_saml_sign_ins = Table(
    "ic_saml_sign_ins",
    metadata,
    Column("ticket_digest", String(64), primary_key=True),
    Column("instance_arn", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # device | authorize
    Column("payload", Text, nullable=False),
    Column("user_id", String(47), nullable=True),
    Column("expires", UtcDateTime, nullable=False),
)

# Log file delivery (docs/trail.md, "Log files"): one cursor row per trail directory
# consumer, the files delivered (with their SHA-256, for the next digest), each
# (account, Region) digest chain's last link, and the trail's RSA signing key (sealed).
trail_delivery = Table(
    "trail_delivery",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("delivered_time", BigInteger, nullable=False),
    Column("delivered_event_id", String(36), nullable=False),
)
trail_log_files = Table(
    "trail_log_files",
    metadata,
    Column("path", String(512), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("oldest_event_time", BigInteger, nullable=False),
    Column("newest_event_time", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=False),
    Column("digested", Boolean, nullable=False),
)
Index(
    "ix_trail_log_files_account_id_region_digested",
    trail_log_files.c.account_id,
    trail_log_files.c.region,
    trail_log_files.c.digested,
)
trail_digest_chains = Table(
    "trail_digest_chains",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("end_time", BigInteger, nullable=False),
    Column("path", String(512), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("signature", Text, nullable=False),
)
trail_signing_keys = Table(
    "trail_signing_keys",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("public_key_pem", Text, nullable=False),
    Column("private_key_sealed", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# --- Outbound web identity federation (migration 0022) --------------------------------
# iamd as an OIDC issuer (services/outbound_federation.py). One row per account that ever
# enabled it: the issuer's random id (its URL's last segment) stays the account's once
# drawn, so a disable and a new enable keep the issuer external services trust.
outbound_federation = Table(
    "outbound_federation",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("issuer_id", String(36), nullable=False, unique=True),
    Column("enabled", Boolean, nullable=False),
    Column("changed", UtcDateTime, nullable=False),
)
# The issuer's signing keys: the private key sealed by the secret box (PKCS#8 PEM, the
# key id as associated data), the public half as a JWK. A key signs from `signs_from`
# until `retires`, and is published until a day after that.
outbound_signing_keys = Table(
    "outbound_signing_keys",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(8), nullable=False),
    Column("private_key_sealed", LargeBinary, nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("signs_from", UtcDateTime, nullable=False),
    Column("retires", UtcDateTime, nullable=False),
)
Index(
    "ix_outbound_signing_keys_account_id_algorithm_retires",
    outbound_signing_keys.c.account_id,
    outbound_signing_keys.c.algorithm,
    outbound_signing_keys.c.retires,
)

# --- The web console's sessions (migration 0030) -----------------------------------------
# A session is known by the SHA-256 of the random id its cookie holds, never the id.
# Times are epoch seconds. A sign-in waiting for its MFA code is a pending row, known the
# same way by its ticket, counting the codes tried.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("access_key_id", String(32), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("issued", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("mfa_authenticated", BigInteger, nullable=True),
    # Switch role: the role session the console acts as (its STS session token, which
    # holds its secret sealed by the secret box), with the banner's label and colour.
    Column("role_access_key_id", String(32), nullable=True),
    Column("role_session_token", Text, nullable=True),
    Column("role_arn", String(2048), nullable=True),
    Column("role_label", String(64), nullable=True),
    Column("role_color", String(16), nullable=True),
    # Where and with what the session signed in, for its user's sessions list
    # (migration 0032).
    Column("source_ip", String(64), nullable=True),
    Column("user_agent", String(512), nullable=True),
)
Index("ix_console_sessions_expires", console_sessions.c.expires)
Index("ix_console_sessions_user", console_sessions.c.account_id, console_sessions.c.user_id)
console_pending_sign_ins = Table(
    "console_pending_sign_ins",
    metadata,
    Column("ticket_hash", LargeBinary(32), primary_key=True),
    Column("account", String(64), nullable=False),
    Column("account_id", String(12), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("user_arn", String(2048), nullable=False),
    Column("started", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
)
Index("ix_console_pending_sign_ins_started", console_pending_sign_ins.c.started)

# --- Delegation requests (migration 0031, docs/delegation.md) ----------------------------
# Shared by two accounts: the partner's that created it (`requestor_account`) and the
# customer's that owns it once associated (`owner_account`, also set at creation when the
# partner names it). Ids sort in creation order (ListDelegationRequests' keyset). The
# exchange token is kept only as its SHA-256, never itself.
delegation_requests = Table(
    "delegation_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("requestor_account", String(12), nullable=False),
    Column("requestor_name", String(30), nullable=False),
    Column("workflow_id", String(400), nullable=False),
    Column("description", Text, nullable=False),
    Column("request_message", Text, nullable=True),
    # DelegationPermission: the template's ARN and the parameters, as JSON.
    Column("permissions", Text, nullable=False),
    Column("permission_policy", Text, nullable=True),
    Column("redirect_url", String(255), nullable=True),
    Column("notification_channel", String(400), nullable=False),
    Column("session_duration", Integer, nullable=False),
    Column("only_send_by_owner", Boolean, nullable=False),
    Column("owner_account", String(12), nullable=True),
    Column("owner_id", String(2048), nullable=True),
    Column("approver_id", String(2048), nullable=True),
    Column("state", String(16), nullable=False),
    Column("notes", Text, nullable=True),
    Column("rejection_reason", Text, nullable=True),
    Column("create_date", UtcDateTime, nullable=False),
    Column("updated_time", UtcDateTime, nullable=False),
    Column("expiration_time", UtcDateTime, nullable=False),
    Column("token_hash", LargeBinary(32), nullable=True),
    UniqueConstraint("requestor_account", "workflow_id"),
)
Index("ix_delegation_requests_owner_account", delegation_requests.c.owner_account)
# GetDelegatedAccessToken finds the request by its token.
Index("ix_delegation_requests_token_hash", delegation_requests.c.token_hash, unique=True)

"""MFA devices, console passwords and the password policy, roles (issue 5).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roles",
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_lower", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.Column("assume_role_policy", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("max_session_duration", sa.Integer(), nullable=False),
        sa.Column("permissions_boundary_arn", sa.String(length=2048), nullable=True),
        sa.Column("last_used_date", sa.BigInteger(), nullable=True),
        sa.Column("last_used_region", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("role_id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name_lower", name=op.f("uq_roles_name_lower")),
    )
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.create_index("ix_roles_path_name", ["path", "name_lower"], unique=False)
        batch_op.create_index(
            "ix_roles_permissions_boundary_arn", ["permissions_boundary_arn"], unique=False
        )

    op.create_table(
        "login_profiles",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("password_reset_required", sa.Boolean(), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.Column("password_changed", sa.BigInteger(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name=op.f("fk_login_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_login_profiles")),
    )
    op.create_table(
        "mfa_devices",
        sa.Column("serial_number", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("name_lower", sa.String(length=128), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("seed_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("enable_date", sa.BigInteger(), nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_mfa_devices_user_id_users")
        ),
        sa.PrimaryKeyConstraint("serial_number", name=op.f("pk_mfa_devices")),
        sa.UniqueConstraint("name_lower", name=op.f("uq_mfa_devices_name_lower")),
    )
    with op.batch_alter_table("mfa_devices", schema=None) as batch_op:
        batch_op.create_index("ix_mfa_devices_user", ["user_id"], unique=False)

    op.create_table(
        "password_history",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("set_date", sa.BigInteger(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name=op.f("fk_password_history_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "set_date", name=op.f("pk_password_history")),
    )
    op.create_table(
        "password_policy",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("minimum_password_length", sa.Integer(), nullable=False),
        sa.Column("require_symbols", sa.Boolean(), nullable=False),
        sa.Column("require_numbers", sa.Boolean(), nullable=False),
        sa.Column("require_uppercase_characters", sa.Boolean(), nullable=False),
        sa.Column("require_lowercase_characters", sa.Boolean(), nullable=False),
        sa.Column("allow_users_to_change_password", sa.Boolean(), nullable=False),
        sa.Column("max_password_age", sa.Integer(), nullable=True),
        sa.Column("password_reuse_prevention", sa.Integer(), nullable=True),
        sa.Column("hard_expiry", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.account_id"],
            name=op.f("fk_password_policy_account_id_account"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_password_policy")),
    )
    op.create_table(
        "role_inline_policies",
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.role_id"],
            name=op.f("fk_role_inline_policies_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role_id", "name", name=op.f("pk_role_inline_policies")),
    )
    op.create_table(
        "role_policy_attachments",
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("policy_id", sa.String(length=32), nullable=False),
        sa.Column("attached", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.policy_id"],
            name=op.f("fk_role_policy_attachments_policy_id_policies"),
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.role_id"],
            name=op.f("fk_role_policy_attachments_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role_id", "policy_id", name=op.f("pk_role_policy_attachments")),
    )
    with op.batch_alter_table("role_policy_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_role_policy_attachments_policy", ["policy_id"], unique=False)

    op.create_table(
        "role_tags",
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("key_lower", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.role_id"],
            name=op.f("fk_role_tags_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role_id", "key_lower", name=op.f("pk_role_tags")),
    )
    op.create_table(
        "mfa_device_tags",
        sa.Column("serial_number", sa.String(length=512), nullable=False),
        sa.Column("key_lower", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["serial_number"],
            ["mfa_devices.serial_number"],
            name=op.f("fk_mfa_device_tags_serial_number_mfa_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("serial_number", "key_lower", name=op.f("pk_mfa_device_tags")),
    )


def downgrade() -> None:
    op.drop_table("mfa_device_tags")
    op.drop_table("role_tags")
    with op.batch_alter_table("role_policy_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_role_policy_attachments_policy")

    op.drop_table("role_policy_attachments")
    op.drop_table("role_inline_policies")
    op.drop_table("password_policy")
    op.drop_table("password_history")
    with op.batch_alter_table("mfa_devices", schema=None) as batch_op:
        batch_op.drop_index("ix_mfa_devices_user")

    op.drop_table("mfa_devices")
    op.drop_table("login_profiles")
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_index("ix_roles_permissions_boundary_arn")
        batch_op.drop_index("ix_roles_path_name")

    op.drop_table("roles")

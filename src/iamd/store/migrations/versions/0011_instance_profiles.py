"""Instance profiles, their roles and tags, and service-linked role deletion tasks
(issue 16, item 1). Every table is account-scoped from the start.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _profile_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["instance_profile_id"],
        ["instance_profiles.instance_profile_id"],
        name=op.f(f"fk_{table}_instance_profile_id_instance_profiles"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "instance_profiles",
        sa.Column("instance_profile_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_lower", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("instance_profile_id", name=op.f("pk_instance_profiles")),
        sa.UniqueConstraint(
            "account_id", "name_lower", name=op.f("uq_instance_profiles_account_id_name_lower")
        ),
    )
    op.create_index(
        "ix_instance_profiles_account_id_path", "instance_profiles", ["account_id", "path"]
    )
    op.create_table(
        "instance_profile_roles",
        sa.Column("instance_profile_id", sa.String(32), nullable=False),
        sa.Column("role_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("added", sa.BigInteger(), nullable=False),
        _profile_fk("instance_profile_roles"),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.role_id"], name=op.f("fk_instance_profile_roles_role_id_roles")
        ),
        sa.PrimaryKeyConstraint(
            "instance_profile_id", "role_id", name=op.f("pk_instance_profile_roles")
        ),
    )
    op.create_index("ix_instance_profile_roles_role_id", "instance_profile_roles", ["role_id"])
    op.create_table(
        "instance_profile_tags",
        sa.Column("instance_profile_id", sa.String(32), nullable=False),
        sa.Column("key_lower", sa.String(512), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _profile_fk("instance_profile_tags"),
        sa.PrimaryKeyConstraint(
            "instance_profile_id", "key_lower", name=op.f("pk_instance_profile_tags")
        ),
    )
    op.create_table(
        "service_linked_role_deletions",
        sa.Column("task_id", sa.String(1000), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("role_name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_service_linked_role_deletions")),
    )
    op.create_index(
        op.f("ix_service_linked_role_deletions_account_id"),
        "service_linked_role_deletions",
        ["account_id"],
    )


def downgrade() -> None:
    op.drop_table("service_linked_role_deletions")
    op.drop_table("instance_profile_tags")
    op.drop_table("instance_profile_roles")
    op.drop_table("instance_profiles")

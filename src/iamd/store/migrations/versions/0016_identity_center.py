"""IAM Identity Center: the instance of an organization, its identity store (users,
groups, memberships), permission sets, account assignments, the roles they provisioned
and the status records of those calls.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ic_assignments",
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("permission_set_arn", sa.String(length=128), nullable=False),
        sa.Column("principal_type", sa.String(length=8), nullable=False),
        sa.Column("principal_id", sa.String(length=47), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "instance_arn",
            "account_id",
            "permission_set_arn",
            "principal_type",
            "principal_id",
            name=op.f("pk_ic_assignments"),
        ),
    )
    op.create_index(
        "ix_ic_assignments_principal_id", "ic_assignments", ["principal_id"], unique=False
    )
    op.create_table(
        "ic_groups",
        sa.Column("group_id", sa.String(length=47), nullable=False),
        sa.Column("identity_store_id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("display_name_lower", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("external_ids", sa.Text(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_ic_groups")),
        sa.UniqueConstraint(
            "identity_store_id",
            "display_name_lower",
            name=op.f("uq_ic_groups_identity_store_id_display_name_lower"),
        ),
    )
    op.create_table(
        "ic_instances",
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("identity_store_id", sa.String(length=36), nullable=False),
        sa.Column("owner_account_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("instance_arn", name=op.f("pk_ic_instances")),
        sa.UniqueConstraint("identity_store_id", name=op.f("uq_ic_instances_identity_store_id")),
        sa.UniqueConstraint("owner_account_id", name=op.f("uq_ic_instances_owner_account_id")),
    )
    op.create_table(
        "ic_memberships",
        sa.Column("membership_id", sa.String(length=47), nullable=False),
        sa.Column("identity_store_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=47), nullable=False),
        sa.Column("user_id", sa.String(length=47), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("membership_id", name=op.f("pk_ic_memberships")),
        sa.UniqueConstraint("group_id", "user_id", name=op.f("uq_ic_memberships_group_id_user_id")),
    )
    op.create_index("ix_ic_memberships_user_id", "ic_memberships", ["user_id"], unique=False)
    op.create_table(
        "ic_operations",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("account_id", sa.String(length=12), nullable=True),
        sa.Column("permission_set_arn", sa.String(length=128), nullable=False),
        sa.Column("principal_type", sa.String(length=8), nullable=True),
        sa.Column("principal_id", sa.String(length=47), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_ic_operations")),
    )
    op.create_index(
        "ix_ic_operations_instance_arn_kind_created",
        "ic_operations",
        ["instance_arn", "kind", "created"],
        unique=False,
    )
    op.create_table(
        "ic_permission_sets",
        sa.Column("permission_set_arn", sa.String(length=128), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("session_duration", sa.String(length=16), nullable=False),
        sa.Column("relay_state", sa.Text(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("inline_policy", sa.Text(), nullable=True),
        sa.Column("boundary", sa.Text(), nullable=True),
        sa.Column("managed_policies", sa.Text(), nullable=False),
        sa.Column("customer_policies", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("permission_set_arn", name=op.f("pk_ic_permission_sets")),
        sa.UniqueConstraint(
            "instance_arn", "name", name=op.f("uq_ic_permission_sets_instance_arn_name")
        ),
    )
    op.create_table(
        "ic_provisioned",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("permission_set_arn", sa.String(length=128), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("role_name", sa.String(length=64), nullable=False),
        sa.Column("provisioned", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "permission_set_arn", name=op.f("pk_ic_provisioned")),
    )
    op.create_table(
        "ic_users",
        sa.Column("user_id", sa.String(length=47), nullable=False),
        sa.Column("identity_store_id", sa.String(length=36), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("user_name_lower", sa.Text(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_ic_users")),
        sa.UniqueConstraint(
            "identity_store_id",
            "user_name_lower",
            name=op.f("uq_ic_users_identity_store_id_user_name_lower"),
        ),
    )


def downgrade() -> None:

    op.drop_table("ic_users")
    op.drop_table("ic_provisioned")
    op.drop_table("ic_permission_sets")
    op.drop_index("ix_ic_operations_instance_arn_kind_created", table_name="ic_operations")
    op.drop_table("ic_operations")
    op.drop_index("ix_ic_memberships_user_id", table_name="ic_memberships")
    op.drop_table("ic_memberships")
    op.drop_table("ic_instances")
    op.drop_table("ic_groups")
    op.drop_index("ix_ic_assignments_principal_id", table_name="ic_assignments")
    op.drop_table("ic_assignments")

"""AWS Organizations: organizations and their root, members, OUs, SCPs and their
attachments, CreateAccount requests, tags (issue 13, item 3). An account's own record
(name, email, status) is the `account` table's (migration 0009).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.organization_id"],
        name=op.f(f"fk_{table}_organization_id_organizations"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("organization_id", sa.String(34), nullable=False),
        sa.Column("management_account_id", sa.String(12), nullable=False),
        sa.Column("feature_set", sa.String(32), nullable=False),
        sa.Column("root_id", sa.String(34), nullable=False),
        sa.Column("scp_enabled", sa.Boolean(), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organizations")),
        sa.UniqueConstraint(
            "management_account_id", name=op.f("uq_organizations_management_account_id")
        ),
        sa.UniqueConstraint("root_id", name=op.f("uq_organizations_root_id")),
    )
    op.create_table(
        "organization_members",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("organization_id", sa.String(34), nullable=False),
        sa.Column("parent_id", sa.String(68), nullable=False),
        sa.Column("joined_method", sa.String(16), nullable=False),
        sa.Column("joined_date", sa.BigInteger(), nullable=False),
        _org_fk("organization_members"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_organization_members")),
    )
    op.create_index(
        op.f("ix_organization_members_organization_id"),
        "organization_members",
        ["organization_id"],
    )
    op.create_index(
        op.f("ix_organization_members_parent_id"), "organization_members", ["parent_id"]
    )
    op.create_table(
        "organizational_units",
        sa.Column("ou_id", sa.String(68), nullable=False),
        sa.Column("organization_id", sa.String(34), nullable=False),
        sa.Column("parent_id", sa.String(68), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        _org_fk("organizational_units"),
        sa.PrimaryKeyConstraint("ou_id", name=op.f("pk_organizational_units")),
        sa.UniqueConstraint(
            "parent_id", "name", name=op.f("uq_organizational_units_parent_id_name")
        ),
    )
    op.create_index(
        op.f("ix_organizational_units_organization_id"),
        "organizational_units",
        ["organization_id"],
    )
    op.create_table(
        "organization_policies",
        sa.Column("policy_id", sa.String(130), nullable=False),
        sa.Column("organization_id", sa.String(34), nullable=False),
        sa.Column("policy_type", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.String(512), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        _org_fk("organization_policies"),
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_organization_policies")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_organization_policies_organization_id_name")
        ),
    )
    op.create_table(
        "organization_policy_attachments",
        sa.Column("policy_id", sa.String(130), nullable=False),
        sa.Column("target_id", sa.String(68), nullable=False),
        sa.Column("organization_id", sa.String(34), nullable=False),
        sa.Column("attached_date", sa.BigInteger(), nullable=False),
        _org_fk("organization_policy_attachments"),
        sa.PrimaryKeyConstraint(
            "policy_id", "target_id", name=op.f("pk_organization_policy_attachments")
        ),
    )
    op.create_index(
        op.f("ix_organization_policy_attachments_target_id"),
        "organization_policy_attachments",
        ["target_id"],
    )
    op.create_index(
        op.f("ix_organization_policy_attachments_organization_id"),
        "organization_policy_attachments",
        ["organization_id"],
    )
    op.create_table(
        "create_account_requests",
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("organization_id", sa.String(34), nullable=False),
        sa.Column("account_name", sa.String(50), nullable=False),
        sa.Column("email", sa.String(64), nullable=False),
        sa.Column("role_name", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(64), nullable=True),
        sa.Column("account_id", sa.String(12), nullable=True),
        sa.Column("requested_date", sa.BigInteger(), nullable=False),
        sa.Column("completed_date", sa.BigInteger(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        _org_fk("create_account_requests"),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_create_account_requests")),
    )
    op.create_index(
        op.f("ix_create_account_requests_organization_id"),
        "create_account_requests",
        ["organization_id"],
    )
    op.create_table(
        "organization_tags",
        sa.Column("resource_id", sa.String(130), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("organization_id", sa.String(34), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        _org_fk("organization_tags"),
        sa.PrimaryKeyConstraint("resource_id", "key", name=op.f("pk_organization_tags")),
    )
    op.create_index(
        op.f("ix_organization_tags_organization_id"), "organization_tags", ["organization_id"]
    )


def downgrade() -> None:
    op.drop_table("organization_tags")
    op.drop_table("create_account_requests")
    op.drop_table("organization_policy_attachments")
    op.drop_table("organization_policies")
    op.drop_table("organizational_units")
    op.drop_table("organization_members")
    op.drop_table("organizations")

"""Service-specific credentials of users (issue 16, item 2): CodeCommit's HTTPS git
credentials and their kin, the password only as an argon2id hash. Account-scoped.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_specific_credentials",
        sa.Column("credential_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("service_name", sa.String(128), nullable=False),
        sa.Column("service_user_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name=op.f("fk_service_specific_credentials_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_service_specific_credentials")),
    )
    op.create_index(
        "ix_service_specific_credentials_user_id", "service_specific_credentials", ["user_id"]
    )
    op.create_index(
        "ix_service_specific_credentials_service_user_name",
        "service_specific_credentials",
        ["service_user_name"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_service_specific_credentials_service_user_name", "service_specific_credentials"
    )
    op.drop_index("ix_service_specific_credentials_user_id", "service_specific_credentials")
    op.drop_table("service_specific_credentials")

"""The IAM access advisor's record of service use (issue 14, item 6): per account,
principal ARN, service namespace and (for action-level services) action, the last
authenticated time and region. Account-scoped: `account_id` leads the primary key.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_last_accessed",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("principal_arn", sa.Text(), nullable=False),
        sa.Column("service_namespace", sa.Text(), nullable=False),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("last_authenticated", sa.BigInteger(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id",
            "principal_arn",
            "service_namespace",
            "action",
            name=op.f("pk_service_last_accessed"),
        ),
    )


def downgrade() -> None:
    op.drop_table("service_last_accessed")

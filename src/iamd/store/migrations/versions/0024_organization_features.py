"""Per-organization features (issue 16 item 4): the services trusted access is enabled
for (EnableAWSServiceAccess, kind "service") and IAM's centralized root access features
(kind "iam": RootCredentialsManagement, RootSessions).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organization_features",
        sa.Column(
            "organization_id",
            sa.String(34),
            sa.ForeignKey("organizations.organization_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("enabled_date", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("organization_features")

"""The account's global endpoint token version (SetSecurityTokenServicePreferences, issue
16 item 4): 1 (v1Token, AWS's default for existing accounts) or 2 (v2Token).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(
            sa.Column(
                "global_endpoint_token_version", sa.Integer, nullable=False, server_default="1"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_column("global_endpoint_token_version")

"""The web console's sessions list (issue 18): each session's source IP and user agent
at sign-in, and an index to find a user's sessions (its own "Sessions" page, and an
administrator ending them).

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("console_sessions") as batch:
        batch.add_column(sa.Column("source_ip", sa.String(64), nullable=True))
        batch.add_column(sa.Column("user_agent", sa.String(512), nullable=True))
    op.create_index("ix_console_sessions_user", "console_sessions", ["account_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_console_sessions_user", table_name="console_sessions")
    with op.batch_alter_table("console_sessions") as batch:
        batch.drop_column("user_agent")
        batch.drop_column("source_ip")

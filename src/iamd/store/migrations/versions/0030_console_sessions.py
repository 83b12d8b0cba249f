"""The web console's sessions (issue 18): one row per signed-in browser, known by the
SHA-256 of its cookie's random id (with the role session it switched to, if any), and
one per sign-in waiting for its MFA code, so that every node shares them and a restart
signs nobody out.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("access_key_id", sa.String(32), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("mfa_authenticated", sa.BigInteger(), nullable=True),
        sa.Column("role_access_key_id", sa.String(32), nullable=True),
        sa.Column("role_session_token", sa.Text(), nullable=True),
        sa.Column("role_arn", sa.String(2048), nullable=True),
        sa.Column("role_label", sa.String(64), nullable=True),
        sa.Column("role_color", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_console_sessions")),
    )
    op.create_index("ix_console_sessions_expires", "console_sessions", ["expires"])
    op.create_table(
        "console_pending_sign_ins",
        sa.Column("ticket_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("user_arn", sa.String(2048), nullable=False),
        sa.Column("started", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_console_pending_sign_ins")),
    )
    op.create_index("ix_console_pending_sign_ins_started", "console_pending_sign_ins", ["started"])


def downgrade() -> None:
    op.drop_index("ix_console_pending_sign_ins_started", table_name="console_pending_sign_ins")
    op.drop_table("console_pending_sign_ins")
    op.drop_index("ix_console_sessions_expires", table_name="console_sessions")
    op.drop_table("console_sessions")

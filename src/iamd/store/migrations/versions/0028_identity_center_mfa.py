"""IAM Identity Center MFA and the access portal page (issue 17, item 4): the
instance's MFA setting, users' authenticator apps (seeds sealed by the secret box),
sign-ins waiting for their one-time code, and the portal's browser sessions.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ic_mfa_settings",
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("no_device", sa.String(length=8), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("instance_arn", name=op.f("pk_ic_mfa_settings")),
    )
    op.create_table(
        "ic_mfa_devices",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=47), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("seed_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("registered", sa.BigInteger(), nullable=False),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_ic_mfa_devices")),
    )
    op.create_index("ix_ic_mfa_devices_user_id", "ic_mfa_devices", ["user_id"], unique=False)
    op.create_table(
        "ic_mfa_pending",
        sa.Column("ticket_digest", sa.String(length=64), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=47), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("seed_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_digest", name=op.f("pk_ic_mfa_pending")),
    )
    op.create_table(
        "ic_portal_sessions",
        sa.Column("session_digest", sa.String(length=64), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=47), nullable=False),
        sa.Column("family", sa.String(length=36), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("mfa", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("session_digest", name=op.f("pk_ic_portal_sessions")),
    )
    op.create_index(
        "ix_ic_portal_sessions_user_id", "ic_portal_sessions", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_ic_portal_sessions_user_id", table_name="ic_portal_sessions")
    op.drop_table("ic_portal_sessions")
    op.drop_table("ic_mfa_pending")
    op.drop_index("ix_ic_mfa_devices_user_id", table_name="ic_mfa_devices")
    op.drop_table("ic_mfa_devices")
    op.drop_table("ic_mfa_settings")

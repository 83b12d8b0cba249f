"""Delegation requests (temporary delegation to a partner, docs/delegation.md): one row
per request, shared by the partner's account that created it and the customer's that
owns it; the exchange token only as its SHA-256.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegation_requests",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("requestor_account", sa.String(12), nullable=False),
        sa.Column("requestor_name", sa.String(30), nullable=False),
        sa.Column("workflow_id", sa.String(400), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("request_message", sa.Text(), nullable=True),
        sa.Column("permissions", sa.Text(), nullable=False),
        sa.Column("permission_policy", sa.Text(), nullable=True),
        sa.Column("redirect_url", sa.String(255), nullable=True),
        sa.Column("notification_channel", sa.String(400), nullable=False),
        sa.Column("session_duration", sa.Integer(), nullable=False),
        sa.Column("only_send_by_owner", sa.Boolean(), nullable=False),
        sa.Column("owner_account", sa.String(12), nullable=True),
        sa.Column("owner_id", sa.String(2048), nullable=True),
        sa.Column("approver_id", sa.String(2048), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("expiration_time", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_delegation_requests")),
        sa.UniqueConstraint(
            "requestor_account",
            "workflow_id",
            name=op.f("uq_delegation_requests_requestor_account_workflow_id"),
        ),
    )
    op.create_index(
        "ix_delegation_requests_owner_account", "delegation_requests", ["owner_account"]
    )
    op.create_index(
        "ix_delegation_requests_token_hash", "delegation_requests", ["token_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_delegation_requests_token_hash", table_name="delegation_requests")
    op.drop_index("ix_delegation_requests_owner_account", table_name="delegation_requests")
    op.drop_table("delegation_requests")

"""Audit trail log files (issue 14, item 5): the delivery cursor, the delivered files
awaiting a digest, an index to read events in (time, id) order, each (account, Region)
digest chain's last link, and the trail's sealed RSA signing key.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    delivery = op.create_table(
        "trail_delivery",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("delivered_time", sa.BigInteger(), nullable=False),
        sa.Column("delivered_event_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_trail_delivery")),
    )
    # The row exists before any node starts: nodes starting together lock it rather
    # than race to insert it.
    op.bulk_insert(delivery, [{"name": "files", "delivered_time": -1, "delivered_event_id": ""}])
    op.create_index(
        "ix_trail_events_event_time_event_id", "trail_events", ["event_time", "event_id"]
    )
    op.create_table(
        "trail_log_files",
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("oldest_event_time", sa.BigInteger(), nullable=False),
        sa.Column("newest_event_time", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=False),
        sa.Column("digested", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_trail_log_files")),
    )
    op.create_index(
        "ix_trail_log_files_account_id_region_digested",
        "trail_log_files",
        ["account_id", "region", "digested"],
    )
    op.create_table(
        "trail_digest_chains",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "region", name=op.f("pk_trail_digest_chains")),
    )
    op.create_table(
        "trail_signing_keys",
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_trail_signing_keys")),
    )


def downgrade() -> None:
    op.drop_table("trail_signing_keys")
    op.drop_table("trail_digest_chains")
    op.drop_index("ix_trail_log_files_account_id_region_digested", "trail_log_files")
    op.drop_table("trail_log_files")
    op.drop_table("trail_delivery")
    op.drop_index("ix_trail_events_event_time_event_id", "trail_events")

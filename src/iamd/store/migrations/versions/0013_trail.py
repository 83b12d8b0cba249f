"""The audit trail (issue 14): one CloudTrail-shaped event per request, account-scoped,
with an index per LookupEvents attribute (account, key, time) and a side table for the
resources an event names.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_LOOKUP_COLUMNS = ("event_name", "event_source", "username", "access_key_id", "read_only")


def upgrade() -> None:
    op.create_table(
        "trail_events",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("event_name", sa.String(128), nullable=False),
        sa.Column("event_source", sa.String(64), nullable=False),
        sa.Column("username", sa.String(128), nullable=True),
        sa.Column("access_key_id", sa.String(128), nullable=True),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_trail_events")),
    )
    op.create_index(
        "ix_trail_events_account_id_event_time", "trail_events", ["account_id", "event_time"]
    )
    for column in _LOOKUP_COLUMNS:
        op.create_index(
            f"ix_trail_events_account_id_{column}_event_time",
            "trail_events",
            ["account_id", column, "event_time"],
        )
    op.create_table(
        "trail_event_resources",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_name", sa.String(2048), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["trail_events.event_id"],
            name=op.f("fk_trail_event_resources_event_id_trail_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "position", name=op.f("pk_trail_event_resources")),
    )
    for column in ("resource_type", "resource_name"):
        op.create_index(
            f"ix_trail_event_resources_account_id_{column}_event_time",
            "trail_event_resources",
            ["account_id", column, "event_time"],
        )


def downgrade() -> None:
    op.drop_table("trail_event_resources")
    op.drop_table("trail_events")

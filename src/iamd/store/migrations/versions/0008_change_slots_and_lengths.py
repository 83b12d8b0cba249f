"""The cross-node change signal moves to `change_slots`; columns as long as the input.

The account row's change counter was locked by every write until it committed, so one
stalled writer stopped every write on every node (issue 10): `change_slots` lets each
writer bump a slot nobody else holds. Column lengths now hold whatever validation
accepts: MFA device names up to what a 256-character serial number leaves, lowered tag
keys (lowering can lengthen them), and the credential scope's service and region and a
pushed default branch as unbounded text.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SLOTS = 128
_TAG_TABLES = ("user_tags", "policy_tags", "mfa_device_tags", "role_tags")


def upgrade() -> None:
    slots = op.create_table(
        "change_slots",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_change_slots")),
    )
    op.bulk_insert(slots, [{"slot": n, "counter": 0} for n in range(_SLOTS)])
    with op.batch_alter_table("account") as batch:
        batch.drop_column("change_counter")
    with op.batch_alter_table("mfa_devices") as batch:
        batch.alter_column("name", type_=sa.String(256), existing_nullable=False)
        batch.alter_column("name_lower", type_=sa.String(256), existing_nullable=False)
    for table in _TAG_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("key_lower", type_=sa.String(512), existing_nullable=False)
    with op.batch_alter_table("access_keys") as batch:
        batch.alter_column("last_used_service", type_=sa.Text(), existing_nullable=True)
        batch.alter_column("last_used_region", type_=sa.Text(), existing_nullable=True)
    with op.batch_alter_table("roles") as batch:
        batch.alter_column("last_used_region", type_=sa.Text(), existing_nullable=True)
    with op.batch_alter_table("repositories") as batch:
        batch.alter_column("default_branch", type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("repositories") as batch:
        batch.alter_column("default_branch", type_=sa.String(256), existing_nullable=True)
    with op.batch_alter_table("roles") as batch:
        batch.alter_column("last_used_region", type_=sa.String(64), existing_nullable=True)
    with op.batch_alter_table("access_keys") as batch:
        batch.alter_column("last_used_region", type_=sa.String(64), existing_nullable=True)
        batch.alter_column("last_used_service", type_=sa.String(64), existing_nullable=True)
    for table in _TAG_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("key_lower", type_=sa.String(128), existing_nullable=False)
    with op.batch_alter_table("mfa_devices") as batch:
        batch.alter_column("name_lower", type_=sa.String(128), existing_nullable=False)
        batch.alter_column("name", type_=sa.String(128), existing_nullable=False)
    with op.batch_alter_table("account") as batch:
        batch.add_column(
            sa.Column("change_counter", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.drop_table("change_slots")

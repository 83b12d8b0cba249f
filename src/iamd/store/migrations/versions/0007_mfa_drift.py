"""A virtual MFA device's clock drift, learnt at enable and resync (ResyncMFADevice).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mfa_devices") as batch:
        batch.add_column(sa.Column("drift_steps", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("mfa_devices") as batch:
        batch.drop_column("drift_steps")

"""How many users, groups and roles each account has, kept beside the rows (issue 19):
the quota check of CreateUser/CreateGroup/CreateRole and GetAccountSummary read one row
instead of counting the account's rows, which grew with the account (a CreateUser cost
0.48 ms of CPU in an empty account and 1.3 ms at 24,000 users). Filled from the rows.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

_COUNTED = ("users", "groups", "roles")


def upgrade() -> None:
    op.create_table(
        "entity_counts",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "kind"),
    )
    for table in _COUNTED:
        op.execute(
            f"INSERT INTO entity_counts (account_id, kind, n) "  # noqa: S608 - constants
            f"SELECT account_id, '{table}', COUNT(*) FROM {table} GROUP BY account_id"
        )


def downgrade() -> None:
    op.drop_table("entity_counts")

"""The access advisor's jobs, in the database rather than in one node's memory: a job
started on one node of a PostgreSQL deployment is read on any other.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_advisor_jobs",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("granularity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("completed", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(128), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "job_id", name=op.f("pk_access_advisor_jobs")),
    )
    op.create_index(
        "ix_access_advisor_jobs_account_id_created",
        "access_advisor_jobs",
        ["account_id", "created"],
    )


def downgrade() -> None:
    op.drop_index("ix_access_advisor_jobs_account_id_created", "access_advisor_jobs")
    op.drop_table("access_advisor_jobs")

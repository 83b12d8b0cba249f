"""CodeCommit repositories and their tags (CreateRepository and its family).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repositories",
        sa.Column("repository_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_branch", sa.String(length=256), nullable=True),
        sa.Column("creation_date", sa.BigInteger(), nullable=False),
        sa.Column("last_modified_date", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_repositories")),
        sa.UniqueConstraint("name", name=op.f("uq_repositories_name")),
    )
    op.create_index(
        op.f("ix_repositories_last_modified_date"),
        "repositories",
        ["last_modified_date"],
        unique=False,
    )
    op.create_table(
        "repository_tags",
        sa.Column("repository_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.repository_id"],
            name=op.f("fk_repository_tags_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", "key", name=op.f("pk_repository_tags")),
    )


def downgrade() -> None:
    op.drop_table("repository_tags")
    op.drop_index(op.f("ix_repositories_last_modified_date"), table_name="repositories")
    op.drop_table("repositories")

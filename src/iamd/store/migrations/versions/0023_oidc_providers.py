"""OpenID Connect providers (issue 15, item 1) and their tags, account-scoped.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_providers",
        sa.Column("provider_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("url", sa.String(255), nullable=False),
        sa.Column("client_ids", sa.Text(), nullable=False),
        sa.Column("thumbprints", sa.Text(), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_oidc_providers")),
        sa.UniqueConstraint("account_id", "url", name=op.f("uq_oidc_providers_account_id_url")),
    )
    op.create_table(
        "oidc_provider_tags",
        sa.Column("provider_id", sa.String(32), nullable=False),
        sa.Column("key_lower", sa.String(512), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["oidc_providers.provider_id"],
            name=op.f("fk_oidc_provider_tags_provider_id_oidc_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", "key_lower", name=op.f("pk_oidc_provider_tags")),
    )


def downgrade() -> None:
    op.drop_table("oidc_provider_tags")
    op.drop_table("oidc_providers")

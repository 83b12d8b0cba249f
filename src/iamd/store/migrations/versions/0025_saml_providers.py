"""SAML providers (issue 15, item 3), their tags, and the replay cache of the SAML
assertions AssumeRoleWithSAML has accepted (kept until the assertion's NotOnOrAfter).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saml_providers",
        sa.Column("provider_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_lower", sa.String(128), nullable=False),
        sa.Column("metadata_document", sa.Text(), nullable=False),
        sa.Column("create_date", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_saml_providers")),
        sa.UniqueConstraint(
            "account_id", "name_lower", name=op.f("uq_saml_providers_account_id_name_lower")
        ),
    )
    op.create_table(
        "saml_provider_tags",
        sa.Column("provider_id", sa.String(36), nullable=False),
        sa.Column("key_lower", sa.String(512), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["saml_providers.provider_id"],
            name=op.f("fk_saml_provider_tags_provider_id_saml_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", "key_lower", name=op.f("pk_saml_provider_tags")),
    )
    op.create_table(
        "saml_assertion_replays",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("assertion_id", sa.String(256), nullable=False),
        sa.Column("not_on_or_after", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "assertion_id", name=op.f("pk_saml_assertion_replays")
        ),
    )
    op.create_index(
        op.f("ix_saml_assertion_replays_not_on_or_after"),
        "saml_assertion_replays",
        ["not_on_or_after"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_saml_assertion_replays_not_on_or_after"), "saml_assertion_replays")
    op.drop_table("saml_assertion_replays")
    op.drop_table("saml_provider_tags")
    op.drop_table("saml_providers")

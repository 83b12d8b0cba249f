"""SAML encrypted assertions (issue 15, item 3): a provider's AssertionEncryptionMode
and its private keys (at most two), each stored only sealed by the secret box.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("saml_providers") as batch:
        batch.add_column(
            sa.Column(
                "assertion_encryption_mode",
                sa.String(8),
                nullable=False,
                server_default="Allowed",
            )
        )
    op.create_table(
        "saml_provider_private_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("provider_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("upload_date", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["saml_providers.provider_id"],
            name=op.f("fk_saml_provider_private_keys_provider_id_saml_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_saml_provider_private_keys")),
    )
    op.create_index(
        op.f("ix_saml_provider_private_keys_provider_id"),
        "saml_provider_private_keys",
        ["provider_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_saml_provider_private_keys_provider_id"), "saml_provider_private_keys")
    op.drop_table("saml_provider_private_keys")
    with op.batch_alter_table("saml_providers") as batch:
        batch.drop_column("assertion_encryption_mode")

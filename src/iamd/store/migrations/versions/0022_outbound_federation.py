"""Outbound web identity federation: each account's issuer and its signing keys (sealed).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_federation",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("issuer_id", sa.String(length=36), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_outbound_federation")),
        sa.UniqueConstraint("issuer_id", name=op.f("uq_outbound_federation_issuer_id")),
    )
    op.create_table(
        "outbound_signing_keys",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=8), nullable=False),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("signs_from", sa.BigInteger(), nullable=False),
        sa.Column("retires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "kid", name=op.f("pk_outbound_signing_keys")),
    )
    op.create_index(
        "ix_outbound_signing_keys_account_id_algorithm_retires",
        "outbound_signing_keys",
        ["account_id", "algorithm", "retires"],
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_signing_keys_account_id_algorithm_retires", "outbound_signing_keys")
    op.drop_table("outbound_signing_keys")
    op.drop_table("outbound_federation")

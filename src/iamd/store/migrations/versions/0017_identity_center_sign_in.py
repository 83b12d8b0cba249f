"""IAM Identity Center sign-in: users' passwords (argon2 hashes), OIDC client
registrations, device and authorization codes, access and refresh tokens (secrets kept
as SHA-256 digests only).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ic_oidc_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("grant_types", sa.Text(), nullable=False),
        sa.Column("issuer_url", sa.Text(), nullable=True),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_ic_oidc_clients")),
    )
    op.create_table(
        "ic_oidc_grants",
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("user_code", sa.String(length=16), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=47), nullable=True),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("last_poll", sa.BigInteger(), nullable=True),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code_digest", name=op.f("pk_ic_oidc_grants")),
        sa.UniqueConstraint("user_code", name=op.f("uq_ic_oidc_grants_user_code")),
    )
    op.create_table(
        "ic_oidc_tokens",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=47), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("family", sa.String(length=36), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_ic_oidc_tokens")),
    )
    op.create_index("ix_ic_oidc_tokens_family", "ic_oidc_tokens", ["family"], unique=False)
    op.create_index("ix_ic_oidc_tokens_user_id", "ic_oidc_tokens", ["user_id"], unique=False)
    op.create_table(
        "ic_user_passwords",
        sa.Column("user_id", sa.String(length=47), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("must_change", sa.Boolean(), nullable=False),
        sa.Column("changed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_ic_user_passwords")),
    )


def downgrade() -> None:

    op.drop_table("ic_user_passwords")
    op.drop_index("ix_ic_oidc_tokens_user_id", table_name="ic_oidc_tokens")
    op.drop_index("ix_ic_oidc_tokens_family", table_name="ic_oidc_tokens")
    op.drop_table("ic_oidc_tokens")
    op.drop_table("ic_oidc_grants")
    op.drop_table("ic_oidc_clients")

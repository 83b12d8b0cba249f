"""Signing certificates of users and server certificates with their tags (issue 16,
item 3). Account-scoped from the start: each table has its `account_id`.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_certificates",
        sa.Column("certificate_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("upload_date", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name=op.f("fk_signing_certificates_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_signing_certificates")),
        sa.UniqueConstraint(
            "account_id",
            "fingerprint",
            name=op.f("uq_signing_certificates_account_id_fingerprint"),
        ),
    )
    op.create_index(op.f("ix_signing_certificates_user_id"), "signing_certificates", ["user_id"])
    op.create_table(
        "server_certificates",
        sa.Column("server_certificate_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_lower", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("chain", sa.Text(), nullable=True),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expiration", sa.BigInteger(), nullable=False),
        sa.Column("upload_date", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("server_certificate_id", name=op.f("pk_server_certificates")),
        sa.UniqueConstraint(
            "account_id", "name_lower", name=op.f("uq_server_certificates_account_id_name_lower")
        ),
    )
    op.create_index(
        op.f("ix_server_certificates_account_id_path"),
        "server_certificates",
        ["account_id", "path"],
    )
    op.create_table(
        "server_certificate_tags",
        sa.Column("server_certificate_id", sa.String(32), nullable=False),
        sa.Column("key_lower", sa.String(512), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["server_certificate_id"],
            ["server_certificates.server_certificate_id"],
            name=op.f("fk_server_certificate_tags_server_certificate_id_server_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "server_certificate_id", "key_lower", name=op.f("pk_server_certificate_tags")
        ),
    )


def downgrade() -> None:
    op.drop_table("server_certificate_tags")
    op.drop_index(op.f("ix_server_certificates_account_id_path"), "server_certificates")
    op.drop_table("server_certificates")
    op.drop_index(op.f("ix_signing_certificates_user_id"), "signing_certificates")
    op.drop_table("signing_certificates")

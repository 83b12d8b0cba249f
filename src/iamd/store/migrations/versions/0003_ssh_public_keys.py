"""SSH public keys of users (UploadSSHPublicKey and its family).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ssh_public_keys",
        sa.Column("ssh_public_key_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("upload_date", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name=op.f("fk_ssh_public_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ssh_public_key_id", name=op.f("pk_ssh_public_keys")),
        sa.UniqueConstraint(
            "user_id", "fingerprint", name=op.f("uq_ssh_public_keys_user_id_fingerprint")
        ),
    )


def downgrade() -> None:
    op.drop_table("ssh_public_keys")

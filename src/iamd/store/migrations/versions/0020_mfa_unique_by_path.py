"""A virtual MFA device is unique by path and name in its account, as in AWS (issue 16,
item 5): `/a/phone` and `/b/phone` are two devices, `/a/phone` and `/a/PHONE` one.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_OLD = ("uq_mfa_devices_account_id_name_lower", ["account_id", "name_lower"])
_NEW = ("uq_mfa_devices_account_id_path_name_lower", ["account_id", "path", "name_lower"])


def upgrade() -> None:
    with op.batch_alter_table("mfa_devices") as batch:
        batch.drop_constraint(_OLD[0], type_="unique")
        batch.create_unique_constraint(_NEW[0], _NEW[1])


def downgrade() -> None:
    # Fails (rather than losing a device) when two devices share a name across paths.
    with op.batch_alter_table("mfa_devices") as batch:
        batch.drop_constraint(_NEW[0], type_="unique")
        batch.create_unique_constraint(_OLD[0], _OLD[1])

"""Every entity belongs to an account; the `account` table lists the accounts.

Users, groups, roles, customer managed policies, access keys, SSH public keys, MFA
devices, login profiles and repositories get an `account_id` column, filled for the rows
already there with the one account of the database (the bootstrap account); AWS managed
policies get "aws", the account field of their ARNs. Names become unique per account
(ignoring case, as before). The account row gains a name, an email (unique ignoring
case) and a status, as Organizations describes an account.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_AWS = "aws"
_THE_ACCOUNT = "(SELECT account_id FROM account ORDER BY create_date LIMIT 1)"

# table -> (old unique constraint, its columns), new unique columns; None: no name rule.
_NAMED: dict[str, tuple[tuple[str, list[str]] | None, list[str] | None]] = {
    "users": (("uq_users_name_lower", ["name_lower"]), ["account_id", "name_lower"]),
    "groups": (("uq_groups_name_lower", ["name_lower"]), ["account_id", "name_lower"]),
    "roles": (("uq_roles_name_lower", ["name_lower"]), ["account_id", "name_lower"]),
    "mfa_devices": (
        ("uq_mfa_devices_name_lower", ["name_lower"]),
        ["account_id", "name_lower"],
    ),
    "repositories": (("uq_repositories_name", ["name"]), ["account_id", "name"]),
    "access_keys": (None, None),
    "ssh_public_keys": (None, None),
    "login_profiles": (None, None),
}
# Indexes that now lead with the account: name -> (table, old columns, new columns).
_INDEXES = {
    "ix_users_path_name": ("users", ["path", "name_lower"], ["account_id", "path", "name_lower"]),
    "ix_roles_path_name": ("roles", ["path", "name_lower"], ["account_id", "path", "name_lower"]),
    "ix_repositories_last_modified_date": (
        "repositories",
        ["last_modified_date"],
        ["account_id", "last_modified_date"],
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("name", sa.String(50), nullable=True))
        batch.add_column(sa.Column("email", sa.String(64), nullable=True))
        batch.add_column(sa.Column("email_lower", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="ACTIVE")
        )
        batch.create_unique_constraint(op.f("uq_account_email_lower"), ["email_lower"])

    for table, (old_unique, new_unique) in _NAMED.items():
        op.add_column(table, sa.Column("account_id", sa.String(12), nullable=True))
        op.execute(f"UPDATE {table} SET account_id = {_THE_ACCOUNT}")  # noqa: S608 - constants
        for index, (index_table, _old, _new) in _INDEXES.items():
            if index_table == table:
                op.drop_index(index, table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.alter_column("account_id", existing_type=sa.String(12), nullable=False)
            batch.create_foreign_key(
                op.f(f"fk_{table}_account_id_account"), "account", ["account_id"], ["account_id"]
            )
            if old_unique is not None and new_unique is not None:
                batch.drop_constraint(old_unique[0], type_="unique")
                batch.create_unique_constraint(
                    op.f(f"uq_{table}_{'_'.join(new_unique)}"), new_unique
                )
        for index, (index_table, _old, new) in _INDEXES.items():
            if index_table == table:
                op.create_index(index, table, new, unique=False)

    op.add_column("policies", sa.Column("account_id", sa.String(12), nullable=True))
    op.execute(f"UPDATE policies SET account_id = '{_AWS}' WHERE scope = 'AWS'")  # noqa: S608
    op.execute(
        f"UPDATE policies SET account_id = {_THE_ACCOUNT} WHERE scope <> 'AWS'"  # noqa: S608
    )
    with op.batch_alter_table("policies") as batch:
        batch.alter_column("account_id", existing_type=sa.String(12), nullable=False)
        batch.drop_constraint("uq_policies_scope_name_lower", type_="unique")
        batch.create_unique_constraint(
            op.f("uq_policies_account_id_name_lower"), ["account_id", "name_lower"]
        )


def downgrade() -> None:
    # Only a database of one account goes back: the old schema has no room for more.
    with op.batch_alter_table("policies") as batch:
        batch.drop_constraint("uq_policies_account_id_name_lower", type_="unique")
        batch.create_unique_constraint(
            op.f("uq_policies_scope_name_lower"), ["scope", "name_lower"]
        )
        batch.drop_column("account_id")
    for table, (old_unique, new_unique) in _NAMED.items():
        for index, (index_table, _old, _new) in _INDEXES.items():
            if index_table == table:
                op.drop_index(index, table_name=table)
        with op.batch_alter_table(table) as batch:
            if old_unique is not None and new_unique is not None:
                batch.drop_constraint(f"uq_{table}_{'_'.join(new_unique)}", type_="unique")
                batch.create_unique_constraint(old_unique[0], old_unique[1])
            batch.drop_constraint(f"fk_{table}_account_id_account", type_="foreignkey")
            batch.drop_column("account_id")
        for index, (index_table, old, _new) in _INDEXES.items():
            if index_table == table:
                op.create_index(index, table, old, unique=False)
    with op.batch_alter_table("account") as batch:
        batch.drop_constraint("uq_account_email_lower", type_="unique")
        batch.drop_column("status")
        batch.drop_column("email_lower")
        batch.drop_column("email")
        batch.drop_column("name")

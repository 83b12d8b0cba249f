"""IAM Identity Center's external identity sources (issue 17, item 5): the SCIM bearer
tokens an instance's identity provider provisions with (SHA-256 digests only, at most
two per instance, as AWS allows), and an instance's external SAML 2.0 identity
provider (its metadata), when it takes its users from one, with the sign-ins waiting on
that provider (behind the RelayState ticket's digest); users and groups get an indexed
key of their external id, which SCIM clients look them up by.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ic_scim_tokens",
        sa.Column("token_id", sa.String(length=36), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.Column("last_used", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_ic_scim_tokens")),
    )
    op.create_index(op.f("ix_ic_scim_tokens_instance_arn"), "ic_scim_tokens", ["instance_arn"])
    op.create_table(
        "ic_identity_sources",
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("idp_entity_id", sa.Text(), nullable=False),
        sa.Column("idp_sso_url", sa.Text(), nullable=False),
        sa.Column("metadata_document", sa.Text(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("instance_arn", name=op.f("pk_ic_identity_sources")),
    )
    op.create_table(
        "ic_saml_sign_ins",
        sa.Column("ticket_digest", sa.String(length=64), nullable=False),
        sa.Column("instance_arn", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=47), nullable=True),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_digest", name=op.f("pk_ic_saml_sign_ins")),
    )

    for table in ("ic_users", "ic_groups"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("external_key", sa.Text(), nullable=True))
        op.create_index(
            op.f(f"ix_{table}_identity_store_id_external_key"),
            table,
            ["identity_store_id", "external_key"],
            # An external id names one user (one group) of a store, as in AWS.
            unique=True,
        )


def downgrade() -> None:
    for table in ("ic_users", "ic_groups"):
        op.drop_index(op.f(f"ix_{table}_identity_store_id_external_key"), table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("external_key")
    op.drop_table("ic_saml_sign_ins")
    op.drop_table("ic_identity_sources")
    op.drop_index(op.f("ix_ic_scim_tokens_instance_arn"), "ic_scim_tokens")
    op.drop_table("ic_scim_tokens")

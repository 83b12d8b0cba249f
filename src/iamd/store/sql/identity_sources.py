"""An Identity Center instance's external identity sources: its SCIM bearer tokens
(kept as SHA-256 digests) and its external SAML identity provider's metadata."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from iamd.model.identity_center import IdentitySource, SamlSignIn, ScimToken
from iamd.store.schema import ic_identity_sources, ic_saml_sign_ins, ic_scim_tokens


def _token(row: Any) -> ScimToken:
    return ScimToken(row.token_id, row.instance_arn, row.created, row.expires, row.last_used)


class IdentitySourceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- SCIM tokens -------------------------------------------------------------------

    def count_tokens(self, instance_arn: str) -> int:
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(ic_scim_tokens)
                .where(ic_scim_tokens.c.instance_arn == instance_arn)
            ).scalar_one()
        )

    def lock_instance_tokens(self, instance_arn: str) -> None:
        """Serialize token creation per instance (PostgreSQL; SQLite writes one at a time)."""
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(instance_arn))))

    def add_token(self, token: ScimToken, digest: str) -> None:
        self._conn.execute(
            insert(ic_scim_tokens).values(
                token_id=token.token_id,
                instance_arn=token.instance_arn,
                token_digest=digest,
                created=token.created,
                expires=token.expires,
                last_used=None,
            )
        )

    def tokens(self, instance_arn: str) -> list[ScimToken]:
        rows = self._conn.execute(
            select(ic_scim_tokens)
            .where(ic_scim_tokens.c.instance_arn == instance_arn)
            .order_by(ic_scim_tokens.c.created, ic_scim_tokens.c.token_id)
        )
        return [_token(row) for row in rows]

    def token_digests(self, instance_arn: str) -> list[tuple[ScimToken, str]]:
        rows = self._conn.execute(
            select(ic_scim_tokens).where(ic_scim_tokens.c.instance_arn == instance_arn)
        )
        return [(_token(row), row.token_digest) for row in rows]

    def token_used(self, token_id: str, when: datetime) -> None:
        self._conn.execute(
            update(ic_scim_tokens)
            .where(ic_scim_tokens.c.token_id == token_id)
            .values(last_used=when)
        )

    def delete_token(self, instance_arn: str, token_id: str) -> bool:
        result = self._conn.execute(
            delete(ic_scim_tokens).where(
                ic_scim_tokens.c.instance_arn == instance_arn,
                ic_scim_tokens.c.token_id == token_id,
            )
        )
        return result.rowcount > 0

    # -- the external SAML identity provider -------------------------------------------

    def source(self, instance_arn: str) -> IdentitySource | None:
        row = self._conn.execute(
            select(ic_identity_sources).where(ic_identity_sources.c.instance_arn == instance_arn)
        ).first()
        if row is None:
            return None
        return IdentitySource(
            row.instance_arn,
            row.idp_entity_id,
            row.idp_sso_url,
            row.metadata_document,
            row.updated,
        )

    def sources_of_idp(self, idp_entity_id: str) -> list[IdentitySource]:
        """The instances that take their users from the provider with this entity id
        (a handful of rows: one per instance at most)."""
        rows = self._conn.execute(
            select(ic_identity_sources).where(ic_identity_sources.c.idp_entity_id == idp_entity_id)
        ).all()
        return [
            IdentitySource(
                row.instance_arn,
                row.idp_entity_id,
                row.idp_sso_url,
                row.metadata_document,
                row.updated,
            )
            for row in rows
        ]

    def set_source(self, source: IdentitySource) -> None:
        self.remove_source(source.instance_arn)
        self._conn.execute(
            insert(ic_identity_sources).values(
                instance_arn=source.instance_arn,
                idp_entity_id=source.idp_entity_id,
                idp_sso_url=source.idp_sso_url,
                metadata_document=source.metadata_document,
                updated=source.updated,
            )
        )

    def remove_source(self, instance_arn: str) -> bool:
        result = self._conn.execute(
            delete(ic_identity_sources).where(ic_identity_sources.c.instance_arn == instance_arn)
        )
        return result.rowcount > 0

    # -- sign-ins waiting on the provider ----------------------------------------------

    def add_sign_in(self, digest: str, sign_in: SamlSignIn) -> None:
        self._conn.execute(
            insert(ic_saml_sign_ins).values(
                ticket_digest=digest,
                instance_arn=sign_in.instance_arn,
                kind=sign_in.kind,
                payload=json.dumps(sign_in.payload),
                user_id=sign_in.user_id,
                expires=sign_in.expires,
            )
        )

    def take_sign_in(self, digest: str) -> SamlSignIn | None:
        """The sign-in behind a ticket, which is spent (a ticket is used once)."""
        row = self._conn.execute(
            select(ic_saml_sign_ins).where(ic_saml_sign_ins.c.ticket_digest == digest)
        ).first()
        if row is None:
            return None
        spent = self._conn.execute(
            delete(ic_saml_sign_ins).where(ic_saml_sign_ins.c.ticket_digest == digest)
        )
        if spent.rowcount != 1:
            # Another request spent it between the read and the delete (PostgreSQL lets
            # both read it; only one delete finds it).
            return None
        return SamlSignIn(
            row.instance_arn, row.kind, json.loads(row.payload), row.user_id, row.expires
        )

    def forget_sign_ins(self, before: datetime) -> None:
        self._conn.execute(delete(ic_saml_sign_ins).where(ic_saml_sign_ins.c.expires < before))

    def forget_instance(self, instance_arn: str) -> None:
        self._conn.execute(
            delete(ic_scim_tokens).where(ic_scim_tokens.c.instance_arn == instance_arn)
        )
        self.remove_source(instance_arn)
        self._conn.execute(
            delete(ic_saml_sign_ins).where(ic_saml_sign_ins.c.instance_arn == instance_arn)
        )

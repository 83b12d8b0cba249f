"""Rows of Identity Center's sign-in: user passwords, OIDC clients, device and
authorization codes, access and refresh tokens. Every secret arrives here as a digest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from iamd.store.schema import ic_oidc_clients, ic_oidc_grants, ic_oidc_tokens, ic_user_passwords


@dataclass(frozen=True, slots=True)
class OidcClient:
    client_id: str
    secret_digest: str
    name: str
    scopes: list[str]
    redirect_uris: list[str]
    grant_types: list[str]
    issuer_url: str | None
    issued: datetime
    expires: datetime


@dataclass(frozen=True, slots=True)
class OidcGrant:
    code_digest: str
    kind: str  # device | code
    client_id: str
    instance_arn: str
    user_code: str | None
    scopes: list[str]
    redirect_uri: str | None
    code_challenge: str | None
    state: str  # pending | approved | denied | used
    user_id: str | None
    interval: int
    last_poll: datetime | None
    expires: datetime


@dataclass(frozen=True, slots=True)
class OidcToken:
    token_digest: str
    kind: str  # access | refresh
    client_id: str
    instance_arn: str
    user_id: str
    scopes: list[str]
    family: str
    revoked: bool
    expires: datetime


def _grant(row: Any) -> OidcGrant:
    return OidcGrant(
        row.code_digest,
        row.kind,
        row.client_id,
        row.instance_arn,
        row.user_code,
        json.loads(row.scopes),
        row.redirect_uri,
        row.code_challenge,
        row.state,
        row.user_id,
        row.interval,
        row.last_poll,
        row.expires,
    )


class SignInRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- passwords ---------------------------------------------------------------------

    def password(self, user_id: str) -> tuple[str, bool] | None:
        """The user's password hash and whether it must be changed first."""
        row = self._conn.execute(
            select(ic_user_passwords).where(ic_user_passwords.c.user_id == user_id)
        ).first()
        return None if row is None else (row.password_hash, bool(row.must_change))

    def set_password(self, user_id: str, digest: str, must_change: bool, when: datetime) -> None:
        c = ic_user_passwords.c
        done = self._conn.execute(
            update(ic_user_passwords)
            .where(c.user_id == user_id)
            .values(password_hash=digest, must_change=must_change, changed=when)
        )
        if not done.rowcount:
            self._conn.execute(
                insert(ic_user_passwords).values(
                    user_id=user_id, password_hash=digest, must_change=must_change, changed=when
                )
            )

    def delete_password(self, user_id: str) -> None:
        self._conn.execute(delete(ic_user_passwords).where(ic_user_passwords.c.user_id == user_id))

    # -- clients -----------------------------------------------------------------------

    def add_client(self, client: OidcClient) -> None:
        self._conn.execute(
            insert(ic_oidc_clients).values(
                client_id=client.client_id,
                secret_digest=client.secret_digest,
                name=client.name,
                scopes=json.dumps(client.scopes),
                redirect_uris=json.dumps(client.redirect_uris),
                grant_types=json.dumps(client.grant_types),
                issuer_url=client.issuer_url,
                issued=client.issued,
                expires=client.expires,
            )
        )

    def client(self, client_id: str) -> OidcClient | None:
        row = self._conn.execute(
            select(ic_oidc_clients).where(ic_oidc_clients.c.client_id == client_id)
        ).first()
        if row is None:
            return None
        return OidcClient(
            row.client_id,
            row.secret_digest,
            row.name,
            json.loads(row.scopes),
            json.loads(row.redirect_uris),
            json.loads(row.grant_types),
            row.issuer_url,
            row.issued,
            row.expires,
        )

    # -- codes -------------------------------------------------------------------------

    def add_grant(self, grant: OidcGrant) -> None:
        self._conn.execute(
            insert(ic_oidc_grants).values(
                code_digest=grant.code_digest,
                kind=grant.kind,
                client_id=grant.client_id,
                instance_arn=grant.instance_arn,
                user_code=grant.user_code,
                scopes=json.dumps(grant.scopes),
                redirect_uri=grant.redirect_uri,
                code_challenge=grant.code_challenge,
                state=grant.state,
                user_id=grant.user_id,
                interval=grant.interval,
                last_poll=grant.last_poll,
                expires=grant.expires,
            )
        )

    def grant(self, code_digest: str, *, for_update: bool = False) -> OidcGrant | None:
        query = select(ic_oidc_grants).where(ic_oidc_grants.c.code_digest == code_digest)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return _grant(row) if row else None

    def grant_by_user_code(self, user_code: str) -> OidcGrant | None:
        row = self._conn.execute(
            select(ic_oidc_grants).where(ic_oidc_grants.c.user_code == user_code)
        ).first()
        return _grant(row) if row else None

    def update_grant(self, code_digest: str, **values: Any) -> None:
        self._conn.execute(
            update(ic_oidc_grants)
            .where(ic_oidc_grants.c.code_digest == code_digest)
            .values(**values)
        )

    def forget_grants(self, before: datetime) -> None:
        self._conn.execute(delete(ic_oidc_grants).where(ic_oidc_grants.c.expires < before))

    # -- tokens ------------------------------------------------------------------------

    def add_token(self, token: OidcToken) -> None:
        self._conn.execute(
            insert(ic_oidc_tokens).values(
                token_digest=token.token_digest,
                kind=token.kind,
                client_id=token.client_id,
                instance_arn=token.instance_arn,
                user_id=token.user_id,
                scopes=json.dumps(token.scopes),
                family=token.family,
                revoked=token.revoked,
                expires=token.expires,
            )
        )

    def token(self, token_digest: str, *, for_update: bool = False) -> OidcToken | None:
        query = select(ic_oidc_tokens).where(ic_oidc_tokens.c.token_digest == token_digest)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            return None
        return OidcToken(
            row.token_digest,
            row.kind,
            row.client_id,
            row.instance_arn,
            row.user_id,
            json.loads(row.scopes),
            row.family,
            bool(row.revoked),
            row.expires,
        )

    def revoke(self, token_digest: str) -> None:
        self._conn.execute(
            update(ic_oidc_tokens)
            .where(ic_oidc_tokens.c.token_digest == token_digest)
            .values(revoked=True)
        )

    def revoke_family(self, family: str) -> None:
        self._conn.execute(
            update(ic_oidc_tokens).where(ic_oidc_tokens.c.family == family).values(revoked=True)
        )

    def revoke_user(self, user_id: str) -> None:
        self._conn.execute(
            update(ic_oidc_tokens).where(ic_oidc_tokens.c.user_id == user_id).values(revoked=True)
        )

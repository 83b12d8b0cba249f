"""IAM Identity Center's OAuth 2.0 service (botocore's `sso-oidc`): client registration,
the device authorization grant (RFC 8628) and refresh tokens with rotation.

A client registers (RegisterClient, public clients only, 90 days), asks for a device
code for a start URL (StartDeviceAuthorization: the URL's `d-…` names the identity
store, hence the instance), and polls CreateToken while the user signs in on the
verification page and approves the code (`approve_device`). Polling sooner than the
interval is `slow_down`; a code lives 10 minutes and is used once. Access tokens live 8
hours, refresh tokens 90 days; a refresh rotates the refresh token, and a rotated one
presented again revokes its whole family (a stolen copy is then worthless), as does
Logout. Client secrets, codes and tokens are random and stored only as SHA-256
digests.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from iamd.clock import Clock
from iamd.errors import (
    AuthorizationPendingException,
    InvalidClientException,
    InvalidClientMetadataException,
    InvalidGrantException,
    InvalidRequestException,
    OAuthAccessDeniedException,
    OAuthError,
    OAuthExpiredTokenException,
    SlowDownException,
    UnsupportedGrantTypeException,
)
from iamd.model.identity_center import Instance
from iamd.store.sql.identity_center_sign_in import OidcClient, OidcGrant, OidcToken
from iamd.store.transactions import Repositories, Transactions

REGISTRATION_LIFETIME = timedelta(days=90)
DEVICE_CODE_LIFETIME = timedelta(minutes=10)
ACCESS_TOKEN_LIFETIME = timedelta(hours=8)
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
POLL_INTERVAL_SECONDS = 1
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
DEFAULT_SCOPES = ("sso:account:access",)
# The identity store id in a start URL (https://d-0123456789.awsapps.com/start).
_STORE_IN_URL = re.compile(r"(d-[0-9a-f]{10})")
# User codes: 8 letters without the easily confused ones, shown as XXXX-XXXX.
_USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Registration:
    client_id: str
    client_secret: str = field(repr=False)
    issued: datetime
    expires: datetime


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    device_code: str = field(repr=False)
    user_code: str
    expires_in: int
    interval: int


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """Who an access token was issued to."""

    instance_arn: str
    user_id: str
    family: str
    token_digest: str


class SsoOidcService:
    def __init__(self, tx: Transactions, clock: Clock) -> None:
        # Registrations, codes and tokens are not any account's: one table for all.
        self._tx = tx
        self._clock = clock

    # -- clients -----------------------------------------------------------------------

    def register_client(
        self,
        name: str,
        client_type: str,
        scopes: Sequence[str],
        redirect_uris: Sequence[str],
        grant_types: Sequence[str],
        issuer_url: str | None,
    ) -> Registration:
        if client_type != "public":
            raise InvalidClientMetadataException("Only public clients are supported.")
        for grant in grant_types:
            if grant not in (DEVICE_GRANT, REFRESH_GRANT, "authorization_code"):
                raise InvalidClientMetadataException(f"Unsupported grant type: {grant}")
        now = self._clock.now()
        secret = secrets.token_urlsafe(64)
        client = OidcClient(
            client_id=secrets.token_urlsafe(16),
            secret_digest=digest(secret),
            name=name,
            scopes=list(scopes) or list(DEFAULT_SCOPES),
            redirect_uris=list(redirect_uris),
            grant_types=list(grant_types),
            issuer_url=issuer_url,
            issued=now,
            expires=now + REGISTRATION_LIFETIME,
        )
        with self._tx.write_uncached() as repos:
            repos.identity_center_sign_in.add_client(client)
        return Registration(client.client_id, secret, now, client.expires)

    def _client(self, repos: Repositories, client_id: str, client_secret: str) -> OidcClient:
        found = repos.identity_center_sign_in.client(client_id)
        if (
            found is None
            or not secrets.compare_digest(found.secret_digest, digest(client_secret))
            or found.expires <= self._clock.now()
        ):
            raise InvalidClientException("Invalid client")
        return found

    # -- the device grant --------------------------------------------------------------

    def start_device(
        self, client_id: str, client_secret: str, start_url: str
    ) -> DeviceAuthorization:
        device_code = secrets.token_urlsafe(48)
        user_code = _user_code()
        now = self._clock.now()
        with self._tx.write_uncached() as repos:
            client = self._client(repos, client_id, client_secret)
            instance = instance_of_start_url(repos, start_url)
            repos.identity_center_sign_in.forget_grants(now - timedelta(days=1))
            repos.identity_center_sign_in.add_grant(
                OidcGrant(
                    code_digest=digest(device_code),
                    kind="device",
                    client_id=client.client_id,
                    instance_arn=instance.instance_arn,
                    user_code=user_code,
                    scopes=client.scopes,
                    redirect_uri=None,
                    code_challenge=None,
                    state="pending",
                    user_id=None,
                    interval=POLL_INTERVAL_SECONDS,
                    last_poll=None,
                    expires=now + DEVICE_CODE_LIFETIME,
                )
            )
        return DeviceAuthorization(
            device_code,
            user_code,
            int(DEVICE_CODE_LIFETIME.total_seconds()),
            POLL_INTERVAL_SECONDS,
        )

    def pending_device(self, user_code: str) -> tuple[OidcGrant, str] | None:
        """The pending device authorization a typed user code names, with its client's
        name (for the consent page), or None."""
        normalized = user_code.strip().upper()
        with self._tx.read() as repos:
            grant = repos.identity_center_sign_in.grant_by_user_code(normalized)
            if grant is None or grant.state != "pending" or grant.expires <= self._clock.now():
                return None
            client = repos.identity_center_sign_in.client(grant.client_id)
        return grant, client.name if client else grant.client_id

    def decide_device(self, user_code: str, user_id: str, approved: bool) -> bool:
        """The signed-in user approves (or denies) the code; False if it is not pending."""
        found = self.pending_device(user_code)
        if found is None:
            return False
        grant = found[0]
        with self._tx.write_uncached() as repos:
            current = repos.identity_center_sign_in.grant(grant.code_digest, for_update=True)
            if current is None or current.state != "pending":
                return False
            repos.identity_center_sign_in.update_grant(
                grant.code_digest,
                state="approved" if approved else "denied",
                user_id=user_id,
            )
        return True

    # -- tokens ------------------------------------------------------------------------

    def create_token(
        self,
        client_id: str,
        client_secret: str,
        grant_type: str,
        *,
        device_code: str | None = None,
        refresh_token: str | None = None,
    ) -> Tokens:
        # What the poll or the replay did (the poll's time, a revoked family) is committed
        # even when the answer is an error: the error is raised after the commit.
        with self._tx.write_uncached() as repos:
            client = self._client(repos, client_id, client_secret)
            if grant_type == DEVICE_GRANT:
                if not device_code:
                    raise InvalidRequestException("deviceCode is required.")
                outcome = self._from_device(repos, client, device_code)
            elif grant_type == REFRESH_GRANT:
                if not refresh_token:
                    raise InvalidRequestException("refreshToken is required.")
                outcome = self._from_refresh(repos, client, refresh_token)
            else:
                raise UnsupportedGrantTypeException(f"Unsupported grant type: {grant_type}")
        if isinstance(outcome, OAuthError):
            raise outcome
        return outcome

    def _from_device(
        self, repos: Repositories, client: OidcClient, device_code: str
    ) -> Tokens | OAuthError:
        now = self._clock.now()
        sign_in = repos.identity_center_sign_in
        grant = sign_in.grant(digest(device_code), for_update=True)
        if grant is None or grant.kind != "device" or grant.client_id != client.client_id:
            raise InvalidGrantException("Invalid device code provided")
        if grant.expires <= now:
            raise OAuthExpiredTokenException("Device code has expired")
        if grant.state == "used":
            raise InvalidGrantException("Device code has already been used")
        if grant.state == "denied":
            raise OAuthAccessDeniedException("The user denied the authorization request")
        if grant.state == "pending":
            too_soon = (
                grant.last_poll is not None
                and (now - grant.last_poll).total_seconds() < grant.interval
            )
            sign_in.update_grant(grant.code_digest, last_poll=now)
            if too_soon:
                return SlowDownException("Client is polling too quickly")
            return AuthorizationPendingException("Authorization is still pending")
        assert grant.user_id is not None
        sign_in.update_grant(grant.code_digest, state="used")
        return self._issue(repos, client, grant.instance_arn, grant.user_id, grant.scopes)

    def _from_refresh(
        self, repos: Repositories, client: OidcClient, refresh_token: str
    ) -> Tokens | OAuthError:
        sign_in = repos.identity_center_sign_in
        found = sign_in.token(digest(refresh_token), for_update=True)
        if found is None or found.kind != "refresh" or found.client_id != client.client_id:
            raise InvalidGrantException("Invalid refresh token provided")
        if found.revoked:
            # A rotated refresh token presented again: someone holds a copy. Everything
            # issued from it goes.
            sign_in.revoke_family(found.family)
            return InvalidGrantException("Invalid refresh token provided")
        if found.expires <= self._clock.now():
            raise InvalidGrantException("Refresh token has expired")
        sign_in.revoke(found.token_digest)
        return self._issue(
            repos, client, found.instance_arn, found.user_id, found.scopes, family=found.family
        )

    def _issue(
        self,
        repos: Repositories,
        client: OidcClient,
        instance_arn: str,
        user_id: str,
        scopes: list[str],
        *,
        family: str | None = None,
    ) -> Tokens:
        now = self._clock.now()
        family = family or str(uuid.uuid4())
        access = "aoa" + secrets.token_urlsafe(48)
        refresh = "aor" + secrets.token_urlsafe(48)
        for token, kind, lifetime in (
            (access, "access", ACCESS_TOKEN_LIFETIME),
            (refresh, "refresh", REFRESH_TOKEN_LIFETIME),
        ):
            repos.identity_center_sign_in.add_token(
                OidcToken(
                    token_digest=digest(token),
                    kind=kind,
                    client_id=client.client_id,
                    instance_arn=instance_arn,
                    user_id=user_id,
                    scopes=scopes,
                    family=family,
                    revoked=False,
                    expires=now + lifetime,
                )
            )
        return Tokens(access, refresh, int(ACCESS_TOKEN_LIFETIME.total_seconds()))

    def token_owner(self, access_token: str) -> TokenOwner | None:
        """Who the access token is (None: unknown, expired or revoked)."""
        with self._tx.read() as repos:
            found = repos.identity_center_sign_in.token(digest(access_token))
        if (
            found is None
            or found.kind != "access"
            or found.revoked
            or found.expires <= self._clock.now()
        ):
            return None
        return TokenOwner(found.instance_arn, found.user_id, found.family, found.token_digest)

    def logout(self, owner: TokenOwner) -> None:
        with self._tx.write_uncached() as repos:
            repos.identity_center_sign_in.revoke_family(owner.family)


def instance_of_start_url(repos: Repositories, start_url: str) -> Instance:
    found = _STORE_IN_URL.search(start_url)
    instance = repos.identity_center.instance_of_store(found.group(1)) if found else None
    if instance is None:
        raise InvalidRequestException(
            f"No IAM Identity Center instance has the start URL {start_url}"
        )
    return instance


def _user_code() -> str:
    letters = "".join(secrets.choice(_USER_CODE_LETTERS) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"

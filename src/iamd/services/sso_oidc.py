"""IAM Identity Center's OAuth 2.0 service (botocore's `sso-oidc`): client registration,
the device authorization grant (RFC 8628), the authorization-code grant with PKCE
(RFC 7636, S256 only; loopback redirects as RFC 8252 has them) and refresh tokens with
rotation.

A client registers (RegisterClient, public clients only, 90 days), asks for a device
code for a start URL (StartDeviceAuthorization: the URL's `d-…` names the identity
store, hence the instance), and polls CreateToken while the user signs in on the
verification page and approves the code (`approve_device`). Polling sooner than the
interval is `slow_down`; a code lives 10 minutes and is used once. Access tokens live 8
hours, refresh tokens 90 days; a refresh rotates the refresh token, and a rotated one
presented again revokes its whole family (a stolen copy is then worthless), as does
Logout. Client secrets, codes and tokens are random and stored only as SHA-256
digests.

The authorization-code grant: a client registered with `authorization_code`, loopback
redirect URIs and the start URL as `issuerUrl` sends the browser to /authorize; the
request is checked (`check_authorization`) before anything is shown, and a client or
redirect URI that does not check out is never redirected to (no open redirect). After
the user signs in, a consent ticket (10 minutes, bound to the request's `state`) holds
the request server-side; consenting turns it into a code that lives 5 minutes, is used
once, and is bound to the client, the exact redirect URI and the PKCE challenge. A code
presented again revokes what it issued (RFC 6749 section 4.1.2); a code presented with
a wrong verifier or redirect URI is spent.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from iamd.clock import Clock
from iamd.errors import (
    AuthorizationPendingException,
    InvalidClientException,
    InvalidClientMetadataException,
    InvalidGrantException,
    InvalidRedirectUriException,
    InvalidRequestException,
    OAuthAccessDeniedException,
    OAuthError,
    OAuthExpiredTokenException,
    SlowDownException,
    UnauthorizedClientException,
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
CODE_GRANT = "authorization_code"
CODE_LIFETIME = timedelta(minutes=5)
CONSENT_LIFETIME = timedelta(minutes=10)
DEFAULT_SCOPES = ("sso:account:access",)
# The identity store id in a start URL (https://d-0123456789.awsapps.com/start).
_STORE_IN_URL = re.compile(r"(d-[0-9a-f]{10})")
# User codes: 8 letters without the easily confused ones, shown as XXXX-XXXX.
_USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"
# BASE64URL(SHA-256(verifier)) without padding is always 43 characters (RFC 7636 4.2).
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
# `state` is echoed to the client: printable ASCII only, so it needs no escaping rules.
_STATE = re.compile(r"[\x21-\x7e]{0,512}")


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
    # Whom they were issued to, for the audit trail.
    instance_arn: str = ""
    user_id: str = ""
    family: str = ""


@dataclass(slots=True)
class OidcSubject:
    """What a call to the OAuth service turned out to be about, filled in as the service
    learns it, even when the call fails: the instance (hence the account whose trail
    records the call) and, once known, the user and the token family."""

    instance_arn: str = ""
    user_id: str | None = None
    family: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """An /authorize request that checked out: where its answer may be sent."""

    client_id: str
    client_name: str
    instance: Instance
    redirect_uri: str
    state: str
    code_challenge: str
    scopes: list[str]


class UntrustedRedirect(Exception):
    """The /authorize request cannot be answered with a redirect: the client or the
    redirect URI is not one iamd knows, so the user gets an error page instead."""


class AuthorizationRefused(Exception):
    """The /authorize request is wrong, but its redirect URI is the client's own: the
    answer is a redirect carrying OAuth's error code (RFC 6749 section 4.1.2.1)."""

    def __init__(self, redirect_uri: str, state: str, error: str, description: str) -> None:
        super().__init__(description)
        self.redirect_uri = redirect_uri
        self.state = state
        self.error = error
        self.description = description


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
        seen: OidcSubject | None = None,
    ) -> Registration:
        if seen is not None and issuer_url:
            with self._tx.read() as repos:
                seen.instance_arn = _instance_arn_of_url(repos, issuer_url)
        if client_type != "public":
            raise InvalidClientMetadataException("Only public clients are supported.")
        for grant in grant_types:
            if grant not in (DEVICE_GRANT, REFRESH_GRANT, CODE_GRANT):
                raise InvalidClientMetadataException(f"Unsupported grant type: {grant}")
        for uri in redirect_uris:
            if _loopback(uri) is None:
                raise InvalidRedirectUriException(
                    "Redirect URIs must be http loopback URIs (http://127.0.0.1/... or "
                    "http://[::1]/...)."
                )
        if CODE_GRANT in grant_types:
            if not redirect_uris:
                raise InvalidRequestException(
                    "redirectUris is required for the authorization_code grant."
                )
            if not issuer_url:
                raise InvalidRequestException(
                    "issuerUrl is required for the authorization_code grant."
                )
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
            if CODE_GRANT in grant_types and issuer_url:
                # The browser's /authorize carries no start URL: the client's issuer
                # names the instance the user signs in to.
                instance_of_start_url(repos, issuer_url)
            repos.identity_center_sign_in.add_client(client)
        return Registration(client.client_id, secret, now, client.expires)

    def learn_subject(
        self,
        seen: OidcSubject,
        url: str | None,
        grant_type: str | None,
        device_code: str | None,
        refresh_token: str | None,
        code: str | None,
    ) -> None:
        """For the audit trail, when a call was refused before it reached the service
        (a required member missing or malformed): the instance its start URL or issuer
        names, or the user its code or token belongs to."""
        with self._tx.read() as repos:
            if url:
                seen.instance_arn = _instance_arn_of_url(repos, url)
            elif grant_type:
                _learn_subject(repos, seen, grant_type, device_code, refresh_token, code)

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
        self,
        client_id: str,
        client_secret: str,
        start_url: str,
        seen: OidcSubject | None = None,
    ) -> DeviceAuthorization:
        device_code = secrets.token_urlsafe(48)
        user_code = _user_code()
        now = self._clock.now()
        with self._tx.write_uncached() as repos:
            if seen is not None:
                seen.instance_arn = _instance_arn_of_url(repos, start_url)
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
        code: str | None = None,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
        seen: OidcSubject | None = None,
    ) -> Tokens:
        # What the poll or the replay did (the poll's time, a revoked family) is committed
        # even when the answer is an error: the error is raised after the commit.
        with self._tx.write_uncached() as repos:
            if seen is not None:
                # Before the client is checked, so that a refused client is recorded in
                # the account its code or token belongs to.
                _learn_subject(repos, seen, grant_type, device_code, refresh_token, code)
            client = self._client(repos, client_id, client_secret)
            if grant_type == DEVICE_GRANT:
                if not device_code:
                    raise InvalidRequestException("deviceCode is required.")
                outcome = self._from_device(repos, client, device_code)
            elif grant_type == REFRESH_GRANT:
                if not refresh_token:
                    raise InvalidRequestException("refreshToken is required.")
                outcome = self._from_refresh(repos, client, refresh_token)
            elif grant_type == CODE_GRANT:
                if not code or not redirect_uri or not code_verifier:
                    raise InvalidRequestException(
                        "code, redirectUri and codeVerifier are required."
                    )
                outcome = self._from_code(repos, client, code, redirect_uri, code_verifier)
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

    def _from_code(
        self,
        repos: Repositories,
        client: OidcClient,
        code: str,
        redirect_uri: str,
        code_verifier: str,
    ) -> Tokens | OAuthError:
        if CODE_GRANT not in client.grant_types:
            raise UnauthorizedClientException(
                "The client is not registered for the authorization_code grant."
            )
        sign_in = repos.identity_center_sign_in
        grant = sign_in.grant(digest(code), for_update=True)
        if grant is None or grant.kind != "code":
            raise InvalidGrantException("Invalid authorization code provided")
        if grant.state == "used":
            # A code seen twice was copied: what it issued goes too.
            sign_in.revoke_family(_family_of_code(grant.code_digest))
            return InvalidGrantException("Authorization code has already been used")
        # From here on the code is spent whatever the outcome: a stolen code gets one try.
        sign_in.update_grant(grant.code_digest, state="used")
        if grant.client_id != client.client_id:
            return InvalidGrantException("Invalid authorization code provided")
        if grant.expires <= self._clock.now():
            return InvalidGrantException("Authorization code has expired")
        if grant.redirect_uri != redirect_uri:
            return InvalidGrantException("redirectUri does not match the authorization request")
        if grant.code_challenge is None or not _verifier_matches(
            code_verifier, grant.code_challenge
        ):
            return InvalidGrantException("Code verifier does not match the code challenge")
        assert grant.user_id is not None
        return self._issue(
            repos,
            client,
            grant.instance_arn,
            grant.user_id,
            grant.scopes,
            family=_family_of_code(grant.code_digest),
        )

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
        return Tokens(
            access,
            refresh,
            int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            instance_arn,
            user_id,
            family,
        )

    # -- the authorization-code grant's browser side -----------------------------------

    def check_authorization(
        self,
        client_id: str,
        redirect_uri: str,
        response_type: str,
        state: str,
        code_challenge: str,
        code_challenge_method: str,
        scopes: str,
    ) -> AuthorizationRequest:
        """The request /authorize received, checked; UntrustedRedirect when it must not
        be redirected anywhere, AuthorizationRefused when its error goes back to the
        client's own redirect URI."""
        with self._tx.read() as repos:
            client = repos.identity_center_sign_in.client(client_id) if client_id else None
            if client is None or client.expires <= self._clock.now():
                raise UntrustedRedirect(
                    "The client is not registered (or its registration expired)."
                )
            if not any(redirect_matches(uri, redirect_uri) for uri in client.redirect_uris):
                raise UntrustedRedirect("The redirect URI is not one the client registered.")
            if not _STATE.fullmatch(state):
                raise UntrustedRedirect("The state parameter is not valid.")
            instance = None
            if client.issuer_url:
                found = _STORE_IN_URL.search(client.issuer_url)
                if found:
                    instance = repos.identity_center.instance_of_store(found.group(1))

        def refuse(error: str, description: str) -> AuthorizationRefused:
            return AuthorizationRefused(redirect_uri, state, error, description)

        if response_type != "code":
            raise refuse("unsupported_response_type", "response_type must be code.")
        if CODE_GRANT not in client.grant_types or instance is None:
            raise refuse(
                "unauthorized_client",
                "The client is not registered for the authorization_code grant.",
            )
        if code_challenge_method != "S256":
            raise refuse("invalid_request", "code_challenge_method must be S256.")
        if not _S256_CHALLENGE.fullmatch(code_challenge):
            raise refuse("invalid_request", "code_challenge is required (PKCE, S256).")
        requested = scopes.split() if scopes.strip() else list(client.scopes)
        if any(scope not in client.scopes for scope in requested) or len(requested) > 50:
            raise refuse("invalid_scope", "A requested scope was not registered by the client.")
        return AuthorizationRequest(
            client.client_id,
            client.name,
            instance,
            redirect_uri,
            state,
            code_challenge,
            requested,
        )

    def begin_consent(self, request: AuthorizationRequest, user_id: str) -> str:
        """The signed-in user's pending request, kept server-side until they consent: the
        ticket the consent form carries. Its row is found by the ticket *and* the state,
        so a state changed on the way is not found."""
        ticket = secrets.token_urlsafe(32)
        now = self._clock.now()
        with self._tx.write_uncached() as repos:
            repos.identity_center_sign_in.forget_grants(now - timedelta(days=1))
            repos.identity_center_sign_in.add_grant(
                OidcGrant(
                    code_digest=_consent_digest(ticket, request.state),
                    kind="consent",
                    client_id=request.client_id,
                    instance_arn=request.instance.instance_arn,
                    user_code=None,
                    scopes=request.scopes,
                    redirect_uri=request.redirect_uri,
                    code_challenge=request.code_challenge,
                    state="pending",
                    user_id=user_id,
                    interval=0,
                    last_poll=None,
                    expires=now + CONSENT_LIFETIME,
                )
            )
        return ticket

    def decide_consent(self, ticket: str, state: str, approved: bool) -> tuple[str, str | None]:
        """The user allows (a fresh code) or denies (None) the request the ticket holds;
        its redirect URI with it. UntrustedRedirect when the ticket is unknown, spent or
        expired, or the state is not the request's."""
        now = self._clock.now()
        with self._tx.write_uncached() as repos:
            sign_in = repos.identity_center_sign_in
            grant = sign_in.grant(_consent_digest(ticket, state), for_update=True)
            if (
                grant is None
                or grant.kind != "consent"
                or grant.state != "pending"
                or grant.expires <= now
                or grant.redirect_uri is None
                or grant.user_id is None
            ):
                raise UntrustedRedirect("This sign-in request is not valid or has expired.")
            sign_in.update_grant(grant.code_digest, state="used")
            if not approved:
                return grant.redirect_uri, None
            code = secrets.token_urlsafe(32)
            sign_in.add_grant(
                OidcGrant(
                    code_digest=digest(code),
                    kind="code",
                    client_id=grant.client_id,
                    instance_arn=grant.instance_arn,
                    user_code=None,
                    scopes=grant.scopes,
                    redirect_uri=grant.redirect_uri,
                    code_challenge=grant.code_challenge,
                    state="approved",
                    user_id=grant.user_id,
                    interval=0,
                    last_poll=None,
                    expires=now + CODE_LIFETIME,
                )
            )
        return grant.redirect_uri, code

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


def _instance_arn_of_url(repos: Repositories, url: str) -> str:
    """The instance a start URL names, or "" (no error: for the audit trail only)."""
    found = _STORE_IN_URL.search(url)
    instance = repos.identity_center.instance_of_store(found.group(1)) if found else None
    return instance.instance_arn if instance is not None else ""


def _learn_subject(
    repos: Repositories,
    seen: OidcSubject,
    grant_type: str,
    device_code: str | None,
    refresh_token: str | None,
    code: str | None,
) -> None:
    """Whom a CreateToken call concerns, from the code or token it presents (nothing
    for one iamd never issued)."""
    sign_in = repos.identity_center_sign_in
    if grant_type == DEVICE_GRANT and device_code:
        grant = sign_in.grant(digest(device_code))
        if grant is not None and grant.kind == "device":
            seen.instance_arn, seen.user_id = grant.instance_arn, grant.user_id
    elif grant_type == CODE_GRANT and code:
        grant = sign_in.grant(digest(code))
        if grant is not None and grant.kind == "code":
            seen.instance_arn, seen.user_id = grant.instance_arn, grant.user_id
            seen.family = _family_of_code(grant.code_digest)
    elif grant_type == REFRESH_GRANT and refresh_token:
        token = sign_in.token(digest(refresh_token))
        if token is not None and token.kind == "refresh":
            seen.instance_arn, seen.user_id = token.instance_arn, token.user_id
            seen.family = token.family


def _user_code() -> str:
    letters = "".join(secrets.choice(_USER_CODE_LETTERS) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def _loopback(uri: str) -> SplitResult | None:
    """The URI's parts if it is an http URI on a loopback IP literal (RFC 8252 section 7.3;
    `localhost` is left out, as 8.3 advises: a name can resolve elsewhere)."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return None
    if parts.scheme != "http" or not host or parts.fragment or "@" in parts.netloc:
        return None
    try:
        if not ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        return None
    return parts


def redirect_matches(registered: str, requested: str) -> bool:
    """Whether /authorize may redirect to `requested` for a client that registered
    `registered`: the same URI, except that a loopback URI registered without a port
    matches any port (RFC 8252 section 7.3)."""
    want, got = _loopback(registered), _loopback(requested)
    if want is None or got is None:
        return False
    return (
        want.hostname == got.hostname
        and (want.path or "/") == (got.path or "/")
        and want.query == got.query
        and (want.port is None or want.port == got.port)
    )


def _verifier_matches(verifier: str, challenge: str) -> bool:
    if not _VERIFIER.fullmatch(verifier):
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
    return secrets.compare_digest(computed.rstrip(b"=").decode("ascii"), challenge)


def _consent_digest(ticket: str, state: str) -> str:
    return digest(f"{ticket}\n{state}")


def _family_of_code(code_digest: str) -> str:
    # The tokens a code issued share a family named after it, so a replay finds them.
    return str(uuid.UUID(hex=code_digest[:32]))

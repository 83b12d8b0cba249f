"""iamd as an OIDC issuer: outbound web identity federation and GetWebIdentityToken.

An account that enables the feature gets an issuer URL of its own,
``{public_url}/oidc/{issuer_id}`` (a random UUID drawn at the first enable and kept for
good, so a disable and a new enable keep the issuer external services already trust),
whose ``/.well-known/openid-configuration`` and ``/.well-known/jwks.json`` the HTTP front
serves (`http/oidc_issuer.py`). Its principals then get JWTs signed for them.

Keys: one per algorithm signs at a time, for `KEY_LIFETIME`; a successor is generated
and published `PREPUBLISH` before the current one retires (verifiers that cache the
JWKS already know it when it starts signing), and a retired key stays published for
`RETAIN` (tokens live at most an hour). Private keys are stored sealed by the secret
box, the key id as associated data, and opened keys are kept in memory. Rotation
happens on the token path, so no background worker is needed; keys two nodes generate
at once are both kept and both published.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from iamd.auth.secret_box import SecretBox
from iamd.auth.signing_keys import ALGORITHMS, PrivateKey, generate_key, load_private_key, sign
from iamd.clock import Clock
from iamd.errors import (
    FeatureDisabled,
    FeatureEnabled,
    JWTPayloadSizeExceeded,
    OutboundWebIdentityFederationDisabled,
    SessionDurationEscalation,
    ValidationError,
)
from iamd.store.sql.outbound_federation import (
    IssuerRow,
    SigningKeyRow,
    add_issuer,
    add_key,
    forget_keys_retired_before,
    issuer_by_id,
    issuer_of,
    keys_retiring_after,
    set_enabled,
)
from iamd.store.transactions import Transactions

KEY_LIFETIME = timedelta(days=7)
PREPUBLISH = timedelta(days=1)
RETAIN = timedelta(days=1)
DEFAULT_DURATION_SECONDS = 300
#: The claims' JSON beyond which GetWebIdentityToken answers JWTPayloadSizeExceeded. AWS
#: does not publish its limit; this one holds 10 audiences of 1000 characters, or 50
#: request tags at their longest, but not both.
MAX_PAYLOAD_BYTES = 24 * 1024
#: Where AWS's identity and session claims go in the token.
AWS_CLAIMS = "https://sts.amazonaws.com/"
ISSUER_PATH = "/oidc/"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
JWKS_SUFFIX = "/.well-known/jwks.json"
_CLAIMS_SUPPORTED = ("sub", "iss", "aud", "exp", "iat", "jti", AWS_CLAIMS)
_MAX_OPEN_KEYS = 64
_ISSUER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """Who the token is for and what it says, as the operation resolved it."""

    subject: str
    audiences: Sequence[str]
    algorithm: str
    duration_seconds: int | None
    region: str
    principal_tags: Mapping[str, str] = field(default_factory=dict)
    request_tags: Sequence[tuple[str, str]] = ()
    # The caller's session ends at this epoch second (None: long-term credentials).
    session_expires: int | None = None
    # The account's organization and its path from the root (o-.../r-.../ou-.../), if any.
    org_id: str | None = None
    ou_path: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str = field(repr=False)
    expiration: datetime


class OutboundFederationService:
    def __init__(self, tx: Transactions, clock: Clock, box: SecretBox, public_url: str) -> None:
        self._tx = tx
        self._clock = clock
        self._box = box
        self._public_url = public_url.rstrip("/")
        self._open_keys: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()

    def issuer_url(self, issuer_id: str) -> str:
        return f"{self._public_url}{ISSUER_PATH}{issuer_id}"

    # -- IAM: the account's switch ---------------------------------------------------

    def enable(self) -> str:
        """Enable the feature; the issuer URL. FeatureEnabled when it already is."""
        now = self._clock.now()
        account = self._tx.account_id
        try:
            with self._tx.write_uncached() as repos:
                row = issuer_of(repos.conn, account)
                if row is None:
                    row = IssuerRow(account, str(uuid.uuid4()), True)
                    add_issuer(repos.conn, account, row.issuer_id, now)
                elif not set_enabled(repos.conn, account, enabled=True, now=now):
                    raise FeatureEnabled()
        except IntegrityError:
            # Another request enabled it first (the account's row was just inserted).
            raise FeatureEnabled() from None
        # The JWKS is not empty from the first discovery fetch on.
        for algorithm in ALGORITHMS:
            self._signing_key(algorithm, now)
        return self.issuer_url(row.issuer_id)

    def disable(self) -> None:
        """Stop vending tokens. Tokens already issued stay valid until they expire, so
        the discovery document and the keys stay published."""
        with self._tx.write_uncached() as repos:
            if not set_enabled(
                repos.conn, self._tx.account_id, enabled=False, now=self._clock.now()
            ):
                raise FeatureDisabled()

    def info(self) -> tuple[str, bool]:
        """The issuer URL and whether tokens are vended; FeatureDisabled if never enabled."""
        with self._tx.read() as repos:
            row = issuer_of(repos.conn, self._tx.account_id)
        if row is None:
            raise FeatureDisabled()
        return self.issuer_url(row.issuer_id), row.enabled

    # -- STS: GetWebIdentityToken ----------------------------------------------------

    def issue(self, request: TokenRequest) -> IssuedToken:
        if request.algorithm not in ALGORITHMS:
            raise ValidationError.constraint(
                "signingAlgorithm",
                "Member must satisfy enum value set: [RS256, ES384]",
                value=request.algorithm,
            )
        with self._tx.read() as repos:
            row = issuer_of(repos.conn, self._tx.account_id)
        if row is None or not row.enabled:
            raise OutboundWebIdentityFederationDisabled()
        now = self._clock.now()
        issued = int(now.timestamp())
        duration = request.duration_seconds or DEFAULT_DURATION_SECONDS
        expires = issued + duration
        if request.session_expires is not None and expires > request.session_expires:
            raise SessionDurationEscalation()
        aws_claims: dict[str, Any] = {
            "aws_account": self._tx.account_id,
            "source_region": request.region,
        }
        if request.org_id is not None:
            aws_claims["org_id"] = request.org_id
        if request.ou_path is not None:
            aws_claims["ou_path"] = request.ou_path
        if request.principal_tags:
            aws_claims["principal_tags"] = dict(request.principal_tags)
        if request.request_tags:
            aws_claims["request_tags"] = dict(request.request_tags)
        audiences = list(request.audiences)
        claims: dict[str, Any] = {
            "iss": self.issuer_url(row.issuer_id),
            "sub": request.subject,
            # RFC 7519: one audience may be a string, several are an array.
            "aud": audiences[0] if len(audiences) == 1 else audiences,
            "iat": issued,
            "exp": expires,
            "jti": str(uuid.uuid4()),
            AWS_CLAIMS: aws_claims,
        }
        if len(json.dumps(claims, separators=(",", ":")).encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise JWTPayloadSizeExceeded()
        kid, key = self._signing_key(request.algorithm, now)
        token = sign(claims, key, request.algorithm, kid)
        return IssuedToken(token, datetime.fromtimestamp(expires, now.tzinfo))

    # -- the published documents (any account's, by issuer id) -------------------------

    def discovery(self, issuer_id: str) -> dict[str, Any] | None:
        """The issuer's OpenID configuration; None for an issuer no account has."""
        with self._tx.read() as repos:
            row = issuer_by_id(repos.conn, issuer_id)
        if row is None:
            return None
        issuer = self.issuer_url(row.issuer_id)
        return {
            "issuer": issuer,
            "jwks_uri": issuer + JWKS_SUFFIX,
            # Beyond AWS's document: OpenID Discovery requires it, and some verifiers
            # refuse a configuration without it.
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": list(ALGORITHMS),
            "claims_supported": list(_CLAIMS_SUPPORTED),
        }

    def jwks(self, issuer_id: str) -> dict[str, Any] | None:
        """The issuer's published keys (signing, about to sign, recently retired)."""
        with self._tx.read() as repos:
            row = issuer_by_id(repos.conn, issuer_id)
            if row is None:
                return None
            rows = keys_retiring_after(repos.conn, row.account_id, self._clock.now() - RETAIN)
        return {"keys": [json.loads(key.public_jwk) for key in rows]}

    def published_keys(self, issuer: str) -> list[dict[str, Any]] | None:
        """The keys published for an issuer URL of this server (AssumeRoleWithWebIdentity
        verifies iamd's own tokens without a round trip through the network); None when
        the URL is not under this server's issuer path, [] for an issuer no account has."""
        prefix = self._public_url + ISSUER_PATH
        if not issuer.startswith(prefix):
            return None
        issuer_id = issuer.removeprefix(prefix)
        if not _ISSUER_ID.fullmatch(issuer_id):
            return []
        document = self.jwks(issuer_id)
        return [] if document is None else list(document["keys"])

    # -- keys --------------------------------------------------------------------------

    def _signing_key(self, algorithm: str, now: datetime) -> tuple[str, PrivateKey]:
        """The key that signs now, generated (and its successor published) as needed."""
        account = self._tx.account_id
        with self._tx.read() as repos:
            rows = keys_retiring_after(repos.conn, account, now, algorithm)
        current = _current(rows, now)
        if current is None:
            current = self._new_key(algorithm, now, now)
        elif current.retires - now < PREPUBLISH and not any(
            key.signs_from >= current.retires for key in rows
        ):
            self._new_key(algorithm, current.retires, now)
        return current.kid, self._open(current)

    def _new_key(self, algorithm: str, signs_from: datetime, now: datetime) -> SigningKeyRow:
        generated = generate_key(algorithm)
        row = SigningKeyRow(
            kid=generated.kid,
            algorithm=algorithm,
            private_key_sealed=self._box.seal(generated.private_pem, _key_context(generated.kid)),
            public_jwk=json.dumps(generated.public_jwk, sort_keys=True),
            signs_from=signs_from,
            retires=signs_from + KEY_LIFETIME,
        )
        with self._tx.write_uncached() as repos:
            forget_keys_retired_before(repos.conn, self._tx.account_id, now - RETAIN)
            add_key(repos.conn, self._tx.account_id, row)
        return row

    def _open(self, row: SigningKeyRow) -> PrivateKey:
        with self._lock:
            found = self._open_keys.get(row.kid)
        if found is not None:
            return found
        key = load_private_key(self._box.open(row.private_key_sealed, _key_context(row.kid)))
        with self._lock:
            if len(self._open_keys) >= _MAX_OPEN_KEYS:
                self._open_keys.clear()
            self._open_keys[row.kid] = key
        return key


def _current(rows: Sequence[SigningKeyRow], now: datetime) -> SigningKeyRow | None:
    """The newest key whose signing period has begun (rows: not retired, oldest first)."""
    started = [key for key in rows if key.signs_from <= now]
    return started[-1] if started else None


def _key_context(kid: str) -> bytes:
    return b"oidc-signing-key:" + kid.encode("ascii")

"""OpenID Connect ID tokens (JWTs) as AssumeRoleWithWebIdentity receives them.

Two steps, because the key that checks a token is chosen by what the token says: `read`
takes the compact JWS apart without trusting it (its issuer names the provider, its
`kid` the key), then `verify` checks the signature with a key of the provider's JWKS and
the claims against the issuer, the clock and each other. Nothing the token carries is
believed before `verify` returns.

Only asymmetric algorithms are accepted (RS256/384/512, PS256/384/512, ES256/384/512):
never `none`, never an HMAC, so a token "signed" with the provider's public key as an
HMAC secret is refused before any key is touched. The key must be of the algorithm's
type and, when its JWK says so, for signatures and for that algorithm. A `crit` header
is refused: iamd understands no JWS extension. Time is the caller's clock (the server's,
which tests may move), with `SKEW_SECONDS` of tolerance for `nbf` and `iat` only: an
expired token is expired.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.exceptions import InvalidKeyError, PyJWKError, PyJWTError

__all__ = [
    "ALGORITHMS",
    "Rejection",
    "TokenRejected",
    "UnverifiedToken",
    "read",
    "verify",
]

ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
#: RSA keys shorter than this (RFC 7518 §3.3's minimum) check no signature.
MIN_RSA_BITS = 2048
#: Clock difference tolerated between the identity provider and iamd for `nbf`/`iat`.
SKEW_SECONDS = 60
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


class Rejection(Enum):
    MALFORMED = "malformed"
    ALGORITHM = "algorithm"
    UNKNOWN_KEY = "unknown-key"
    SIGNATURE = "signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    ISSUER = "issuer"
    CLAIMS = "claims"


class TokenRejected(Exception):
    """Why a token is refused; the message names the problem, never the token."""

    def __init__(self, kind: Rejection, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """A token's header and claims as it states them: to choose a provider and a key."""

    raw: str
    header: Mapping[str, Any]
    claims: Mapping[str, Any]

    @property
    def issuer(self) -> str | None:
        value = self.claims.get("iss")
        return value if isinstance(value, str) else None

    @property
    def algorithm(self) -> str | None:
        value = self.header.get("alg")
        return value if isinstance(value, str) else None

    @property
    def key_id(self) -> str | None:
        value = self.header.get("kid")
        return value if isinstance(value, str) else None


def read(token: str) -> UnverifiedToken:
    """The header and claims of a compact JWS; MALFORMED for anything else (a JWE, an
    opaque access token, bad base64 or JSON, a header or claims that are not objects)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise TokenRejected(Rejection.MALFORMED, "not a compact JWS")
    header = _json_object(parts[0])
    claims = _json_object(parts[1])
    return UnverifiedToken(token, header, claims)


def verify(
    token: UnverifiedToken,
    keys: Sequence[Mapping[str, Any]],
    *,
    issuer: str,
    now: int,
) -> dict[str, Any]:
    """The verified claims of `token`, signed by one of `keys` (a JWKS's `keys`) and
    issued by `issuer`, valid at epoch second `now`; TokenRejected otherwise.

    UNKNOWN_KEY means no key of `keys` could have signed it (a caller may refetch the
    JWKS once and try again); every other rejection is final.
    """
    algorithm = token.algorithm
    if algorithm not in ALGORITHMS:
        raise TokenRejected(Rejection.ALGORITHM, "the token's signing algorithm is not accepted")
    if "crit" in token.header:
        raise TokenRejected(Rejection.ALGORITHM, "the token names critical header extensions")
    key = _key_for(token, keys, algorithm)
    try:
        claims: dict[str, Any] = jwt.decode(
            token.raw,
            key,
            algorithms=[algorithm],
            # Times and the issuer are checked below against iamd's clock; the audience
            # by the caller, against the provider's client ids.
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except (InvalidKeyError, PyJWKError):
        raise TokenRejected(Rejection.UNKNOWN_KEY, "no key of the provider fits") from None
    except PyJWTError:
        raise TokenRejected(Rejection.SIGNATURE, "the token's signature is not valid") from None
    if claims.get("iss") != issuer:
        raise TokenRejected(Rejection.ISSUER, "the token's issuer is not the provider")
    _check_times(claims, now)
    return claims


def _check_times(claims: Mapping[str, Any], now: int) -> None:
    expires = _number(claims, "exp", required=True)
    assert expires is not None
    if now >= expires:
        raise TokenRejected(
            Rejection.EXPIRED,
            f"Token expired: current date/time {now} must be before the expiration "
            f"date/time{int(expires)}",
        )
    not_before = _number(claims, "nbf", required=False)
    if not_before is not None and not_before > now + SKEW_SECONDS:
        raise TokenRejected(Rejection.NOT_YET_VALID, "the token is not valid yet (nbf)")
    issued = _number(claims, "iat", required=True)
    assert issued is not None
    if issued > now + SKEW_SECONDS:
        raise TokenRejected(Rejection.NOT_YET_VALID, "the token was issued in the future (iat)")
    if issued > expires:
        raise TokenRejected(Rejection.CLAIMS, "the token expires before it was issued")


def _number(claims: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise TokenRejected(Rejection.CLAIMS, f"the token has no {name} claim")
        return None
    # bool is an int to Python, never a NumericDate to RFC 7519.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenRejected(Rejection.CLAIMS, f"the token's {name} claim is not a number")
    return float(value)


def _key_for(token: UnverifiedToken, keys: Sequence[Mapping[str, Any]], algorithm: str) -> Any:
    """The public key (a `cryptography` key object) that may have signed the token."""
    wanted_type = _KEY_TYPES[algorithm[:2]]
    kid = token.key_id
    candidates = [
        jwk
        for jwk in keys
        if jwk.get("kty") == wanted_type
        and jwk.get("use", "sig") == "sig"
        and jwk.get("alg", algorithm) == algorithm
        and (kid is None or jwk.get("kid") == kid)
    ]
    # Without a kid the key must be the provider's only key of its kind: iamd does not
    # try one key after another.
    if len(candidates) != 1:
        raise TokenRejected(Rejection.UNKNOWN_KEY, "no key of the provider fits")
    try:
        key = jwt.PyJWK(dict(candidates[0]), algorithm=algorithm).key
    except (PyJWKError, InvalidKeyError, ValueError, TypeError, KeyError):
        raise TokenRejected(Rejection.UNKNOWN_KEY, "no key of the provider fits") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise TokenRejected(Rejection.UNKNOWN_KEY, "the provider's RSA key is too short")
    return key


def _json_object(segment: str) -> dict[str, Any]:
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(decoded)
    except (binascii.Error, ValueError, RecursionError):
        raise TokenRejected(Rejection.MALFORMED, "not a compact JWS") from None
    if not isinstance(value, dict):
        raise TokenRejected(Rejection.MALFORMED, "not a compact JWS")
    return value

"""The signing keys of iamd's OIDC issuer, and the JWTs signed with them.

Two algorithms, the two AWS's GetWebIdentityToken offers: RS256 (RSA 2048-bit keys,
PKCS#1 v1.5 with SHA-256) and ES384 (ECDSA on P-384 with SHA-384). A key travels as
PKCS#8 PEM text, which the caller seals with the secret box before it is stored; its
public half is published as a JWK whose `kid` is the RFC 7638 thumbprint, so the id
says which key it is and two nodes that generated keys at once never share an id.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

__all__ = ["ALGORITHMS", "GeneratedKey", "PrivateKey", "generate_key", "load_private_key", "sign"]

ALGORITHMS = ("RS256", "ES384")
RSA_BITS = 2048

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    kid: str
    algorithm: str
    private_pem: str = field(repr=False)
    public_jwk: dict[str, str]


def generate_key(algorithm: str) -> GeneratedKey:
    """A new key pair for `algorithm` (RS256 or ES384): about 50 ms for RSA, 1 ms for EC."""
    private: PrivateKey
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        public_jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif algorithm == "ES384":
        private = ec.generate_private_key(ec.SECP384R1())
        public_jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm!r}")
    public_jwk.pop("key_ops", None)  # `use: sig` says it, and verifiers know `use` better
    kid = _thumbprint(public_jwk)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    published = {**public_jwk, "kid": kid, "alg": algorithm, "use": "sig"}
    return GeneratedKey(kid, algorithm, pem, {k: str(v) for k, v in published.items()})


def load_private_key(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("not an RSA or EC private key")
    return key


def sign(claims: dict[str, Any], key: PrivateKey, algorithm: str, kid: str) -> str:
    """The compact JWS of `claims`, with `kid` and `typ: JWT` in its header."""
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, in lexical order, without spaces."""
    members = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

"""The JWT checks of AssumeRoleWithWebIdentity, on tokens signed with real keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from iamd.auth.web_identity_tokens import Rejection, TokenRejected, read, verify

ISSUER = "https://idp.example.com"
NOW = 1_800_000_000
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(key: Any, kid: str, **extra: str) -> dict[str, Any]:
    algorithm = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
    jwk: dict[str, Any] = algorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, **extra}


KEYS = [_jwk(RSA_KEY, "r1"), _jwk(EC_KEY, "e1")]


def _token(
    claims: dict[str, Any] | None = None, *, key: Any = RSA_KEY, alg: str = "RS256", kid: str = "r1"
) -> str:
    body = {"iss": ISSUER, "sub": "alice", "aud": "app", "iat": NOW - 10, "exp": NOW + 300}
    body.update(claims or {})
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def _rejected(token: str, keys: list[dict[str, Any]] = KEYS) -> Rejection:
    with pytest.raises(TokenRejected) as raised:
        verify(read(token), keys, issuer=ISSUER, now=NOW)
    return raised.value.kind


def test_a_good_token_verifies_with_rsa_pss_and_ec() -> None:
    assert verify(read(_token()), KEYS, issuer=ISSUER, now=NOW)["sub"] == "alice"
    assert verify(read(_token(alg="PS256")), KEYS, issuer=ISSUER, now=NOW)["sub"] == "alice"
    ec_token = _token(key=EC_KEY, alg="ES256", kid="e1")
    assert verify(read(ec_token), KEYS, issuer=ISSUER, now=NOW)["aud"] == "app"


def test_times_are_checked_against_the_given_clock() -> None:
    assert _rejected(_token({"exp": NOW})) is Rejection.EXPIRED
    assert _rejected(_token({"nbf": NOW + 61})) is Rejection.NOT_YET_VALID
    assert _rejected(_token({"iat": NOW + 61})) is Rejection.NOT_YET_VALID
    # A minute of clock skew is forgiven for nbf and iat, never for exp.
    assert verify(read(_token({"nbf": NOW + 60, "iat": NOW + 60})), KEYS, issuer=ISSUER, now=NOW)
    for bad in ({"exp": None}, {"exp": "soon"}, {"exp": True}, {"iat": None}):
        assert _rejected(_token(bad)) is Rejection.CLAIMS, bad


def test_an_infinite_expiry_is_not_a_number() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"r1"}').rstrip(b"=").decode()
    claims = f'{{"iss":"{ISSUER}","iat":{NOW},"exp":1e400}}'.encode()
    body = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
    signature = RSA_KEY.sign(
        f"{header}.{body}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    token = f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    assert _rejected(token) is Rejection.CLAIMS


def test_another_issuer_is_refused() -> None:
    assert _rejected(_token({"iss": "https://evil.example.com"})) is Rejection.ISSUER


def test_unknown_keys_and_mismatched_keys() -> None:
    assert _rejected(_token(kid="nope")) is Rejection.UNKNOWN_KEY
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _rejected(_token(key=other)) is Rejection.SIGNATURE
    # A key published for another algorithm or for encryption is not used.
    assert _rejected(_token(), [_jwk(RSA_KEY, "r1", alg="RS512")]) is Rejection.UNKNOWN_KEY
    assert _rejected(_token(), [_jwk(RSA_KEY, "r1", use="enc")]) is Rejection.UNKNOWN_KEY
    # A 1024-bit RSA key checks nothing.
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    with warnings.catch_warnings():
        # Newer PyJWT warns when it signs with a short key: that is the point here.
        warnings.simplefilter("ignore")
        weak = _token(key=short)
    assert _rejected(weak, [_jwk(short, "r1")]) is Rejection.UNKNOWN_KEY
    # An EC key cannot check an RSA signature.
    assert _rejected(_token(), [{**_jwk(EC_KEY, "r1")}]) is Rejection.UNKNOWN_KEY


def test_no_kid_needs_a_single_candidate_key() -> None:
    token = jwt.encode({"iss": ISSUER, "iat": NOW, "exp": NOW + 60}, RSA_KEY, algorithm="RS256")
    assert verify(read(token), KEYS, issuer=ISSUER, now=NOW)["iss"] == ISSUER
    two = [_jwk(RSA_KEY, "a"), _jwk(RSA_KEY, "b")]
    assert _rejected(token, two) is Rejection.UNKNOWN_KEY


def test_none_and_hmac_are_never_accepted() -> None:
    token = _token()
    head, body, _ = token.split(".")
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for alg in ("none", "HS256", "HS512", "RS1", "EdDSA"):
        forged_head = (
            base64.urlsafe_b64encode(json.dumps({"alg": alg, "kid": "r1"}).encode())
            .rstrip(b"=")
            .decode()
        )
        mac = hmac.new(public_pem, f"{forged_head}.{body}".encode(), hashlib.sha256).digest()
        forged = f"{forged_head}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        assert _rejected(forged) is Rejection.ALGORITHM, alg
    crit = jwt.encode(
        {"iss": ISSUER, "iat": NOW, "exp": NOW + 60},
        RSA_KEY,
        algorithm="RS256",
        headers={"kid": "r1", "crit": ["b64"], "b64": True},
    )
    assert _rejected(crit) is Rejection.ALGORITHM
    assert head  # the untouched header still reads


@pytest.mark.parametrize(
    "text",
    ["", "a.b", "a.b.c.d.e", "x" * 40, "e30.e30.", "W10.e30.c2ln", "e30.W10.c2ln", "!!.e30.c2ln"],
)
def test_what_is_no_compact_jws_is_malformed(text: str) -> None:
    with pytest.raises(TokenRejected) as raised:
        read(text)
    assert raised.value.kind is Rejection.MALFORMED

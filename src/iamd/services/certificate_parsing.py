"""Reading and checking the X.509 certificates and private keys IAM is given.

Everything here runs before a transaction opens (a bad certificate costs no write lock)
and turns every failure of the parser into AWS's error: text that is not a PEM
certificate is MalformedCertificate, a private key that does not belong to the
certificate is KeyPairMismatch, a chain that does not certify the body names the
position that broke. No message ever quotes the private key or says why it failed to
load (the text of the parser's error could echo parts of it).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from iamd.errors import InvalidCertificate, KeyPairMismatch, MalformedCertificate


@dataclass(frozen=True, slots=True)
class ParsedCertificate:
    certificate: x509.Certificate
    # SHA-256 of the DER encoding: the same certificate whatever its PEM line breaks.
    fingerprint: str
    not_before: datetime
    not_after: datetime


def parse_certificate(text: str) -> ParsedCertificate:
    """The first PEM certificate of `text`, or MalformedCertificate."""
    try:
        certificate = x509.load_pem_x509_certificate(text.encode("latin-1"))
        der = certificate.public_bytes(Encoding.DER)
        not_before = certificate.not_valid_before_utc
        not_after = certificate.not_valid_after_utc
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        raise MalformedCertificate.unparsable() from None
    return ParsedCertificate(certificate, hashlib.sha256(der).hexdigest(), not_before, not_after)


def signing_certificate(text: str, now: datetime) -> ParsedCertificate:
    """A user's signing certificate: readable, and valid now."""
    parsed = parse_certificate(text)
    if now < parsed.not_before:
        raise InvalidCertificate.not_yet_valid()
    if now > parsed.not_after:
        raise InvalidCertificate.expired()
    return parsed


def server_certificate(
    body: str, private_key: str, chain: str | None, now: datetime
) -> ParsedCertificate:
    """A server certificate with its key and chain, checked in AWS's order: the body,
    then the key and whether it matches the body, then the chain."""
    parsed = parse_certificate(body)
    # AWS says the certificate "was malformed or expired"; one that is not valid yet
    # fails its X.509 validation the same way (AWS's answer, with its parse message).
    if now < parsed.not_before:
        raise MalformedCertificate.unparsable()
    if now > parsed.not_after:
        raise MalformedCertificate.expired()
    _check_key_pair(parsed.certificate, private_key)
    if chain is not None:
        _check_chain(parsed.certificate, chain)
    return parsed


def _check_key_pair(certificate: x509.Certificate, private_key: str) -> None:
    try:
        key = load_pem_private_key(private_key.encode("latin-1"), password=None)
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        # Encrypted keys land here too (TypeError: no password): IAM needs them in clear.
        raise MalformedCertificate.private_key() from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise MalformedCertificate.private_key()
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise KeyPairMismatch()


def _check_chain(body: x509.Certificate, chain_text: str) -> None:
    try:
        chain = x509.load_pem_x509_certificates(chain_text.encode("latin-1"))
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        raise MalformedCertificate.unparsable() from None
    # Each certificate must be signed by the next one: the body by chain[0] (index -1),
    # chain[i] by chain[i + 1] (index i). The last one need not be a root.
    subjects = [body, *chain]
    for index, (issued, issuer) in enumerate(itertools.pairwise(subjects), start=-1):
        try:
            issued.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            raise MalformedCertificate.chain(index) from None

"""Trusting an OpenID Connect provider's TLS certificate by its thumbprint, as AWS does.

AWS checks a provider's https certificate against its library of trusted root CAs and,
only when that fails, against the thumbprints configured on the provider: the hex SHA-1
of the top-most certificate of the chain the server sends (the last one `openssl
s_client -showcerts` displays: the top intermediate CA, the root when the server sends
it, the certificate itself when it sends nothing else). `check_pinned` is that second
step for a connection made without certificate verification: the chain the server sent
must end in a certificate whose thumbprint is listed, and the server's certificate must
verify up to it (signatures, validity, CA constraints, the host name: `cryptography`'s
path validation, never code of iamd's own), else `ThumbprintMismatch`. Every doubt (no
chain to read, a certificate that does not parse, a host name that is no DNS name or IP
address) is a mismatch: nothing is trusted by default.

The chain is read with the ssl module's `get_unverified_chain` (public from Python 3.13,
a method of the underlying `_ssl` object since 3.10).
"""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
from collections.abc import Collection

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

__all__ = ["ThumbprintMismatch", "check_pinned", "peer_chain", "thumbprint"]

#: More certificates than this in one handshake is no provider's chain.
MAX_CHAIN = 10


class ThumbprintMismatch(Exception):
    """The certificate chain is not one the provider's thumbprints let iamd trust."""


def thumbprint(certificate: x509.Certificate) -> str:
    """The hex SHA-1 of the certificate's DER form, lower case (AWS's thumbprint)."""
    return hashlib.sha1(certificate.public_bytes(Encoding.DER), usedforsecurity=False).hexdigest()


def peer_chain(sock: ssl.SSLSocket) -> list[x509.Certificate]:
    """The certificates the server sent, its own first, as sent (unverified)."""
    chain = _unverified_chain(sock)
    if not chain or len(chain) > MAX_CHAIN:
        raise ThumbprintMismatch("the server sent no usable certificate chain")
    try:
        return [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError:
        raise ThumbprintMismatch("a certificate of the server's chain does not parse") from None


def check_pinned(chain: list[x509.Certificate], host: str, thumbprints: Collection[str]) -> None:
    """Accept `chain` (from `peer_chain`) for `host` only as AWS's thumbprint rule does."""
    listed = {t.lower() for t in thumbprints}
    top = chain[-1]
    if thumbprint(top) not in listed:
        raise ThumbprintMismatch("the top certificate of the chain is not a listed thumbprint")
    verifier = PolicyBuilder().store(Store([top])).build_server_verifier(_subject(host))
    try:
        verifier.verify(chain[0], chain[1:-1])
    except (VerificationError, ValueError) as exc:
        raise ThumbprintMismatch(f"the chain does not verify: {exc}") from None


def _subject(host: str) -> x509.DNSName | x509.IPAddress:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        # cryptography wants an A-label; a name that is not one verifies nothing.
        return x509.DNSName(host.encode("ascii").decode())
    except (UnicodeError, ValueError):
        raise ThumbprintMismatch("the host name is not one a certificate can name") from None


def _unverified_chain(sock: ssl.SSLSocket) -> list[bytes]:
    public = getattr(sock, "get_unverified_chain", None)
    if public is not None:
        # Python 3.13+: DER bytes.
        return [bytes(c) for c in public() or []]
    inner = getattr(sock, "_sslobj", None)
    method = getattr(inner, "get_unverified_chain", None)
    if method is None:
        raise ThumbprintMismatch("this Python cannot read the server's certificate chain")
    # Python 3.10-3.12: _ssl.Certificate objects.
    return [c.public_bytes(ssl._ssl.ENCODING_DER) for c in method() or []]  # type: ignore[attr-defined]

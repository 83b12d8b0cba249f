"""The thumbprint rule for OpenID Connect providers' certificates (auth/oidc_thumbprints):
the top-most certificate sent must be listed, and the chain must verify up to it for
the host."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from iamd.auth.oidc_thumbprints import ThumbprintMismatch, check_pinned, thumbprint

NOW = datetime.now(UTC)


def _cert(
    name: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
    hosts: list[x509.GeneralName] | None = None,
    not_after: datetime | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_cert, signer_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_cert.subject if signer_cert else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if signer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), False
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(hosts or [x509.DNSName("idp.example.com")]), False
        ).add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), False)
    return builder.sign(signer_key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki() -> dict[str, x509.Certificate]:
    root = _cert("Root", None, ca=True)
    intermediate = _cert("Intermediate", root, ca=True)
    leaf = _cert("idp.example.com", intermediate, ca=False)
    other_intermediate = _cert("Other Intermediate", root, ca=True)
    expired = _cert("idp.example.com", intermediate, ca=False, not_after=NOW - timedelta(minutes=1))
    by_ip = _cert(
        "127.0.0.1",
        intermediate,
        ca=False,
        hosts=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    return {
        "root": root[0],
        "intermediate": intermediate[0],
        "leaf": leaf[0],
        "other": other_intermediate[0],
        "expired": expired[0],
        "by_ip": by_ip[0],
    }


def test_the_top_certificate_sent_is_the_one_matched(pki: dict[str, x509.Certificate]) -> None:
    chain = [pki["leaf"], pki["intermediate"]]
    check_pinned(chain, "idp.example.com", [thumbprint(pki["intermediate"]).upper()])
    # The root was not sent: its thumbprint is not the top of this chain. Nor is the
    # server's own certificate.
    for listed in (pki["root"], pki["leaf"]):
        with pytest.raises(ThumbprintMismatch):
            check_pinned(chain, "idp.example.com", [thumbprint(listed)])
    # A server that sends the root too is matched by the root's.
    check_pinned([*chain, pki["root"]], "idp.example.com", [thumbprint(pki["root"])])
    # A server that sends its certificate alone is matched by its own, for its name only.
    check_pinned([pki["leaf"]], "idp.example.com", [thumbprint(pki["leaf"])])
    with pytest.raises(ThumbprintMismatch, match="does not verify"):
        check_pinned([pki["leaf"]], "other.example.com", [thumbprint(pki["leaf"])])


def test_a_listed_top_does_not_excuse_the_rest(pki: dict[str, x509.Certificate]) -> None:
    listed = [thumbprint(pki["other"])]
    # A listed certificate that did not issue the server's: no path to it.
    with pytest.raises(ThumbprintMismatch, match="does not verify"):
        check_pinned([pki["leaf"], pki["other"]], "idp.example.com", listed)
    listed = [thumbprint(pki["intermediate"])]
    with pytest.raises(ThumbprintMismatch, match="does not verify"):
        check_pinned([pki["leaf"], pki["intermediate"]], "evil.example.com", listed)
    with pytest.raises(ThumbprintMismatch, match="does not verify"):
        check_pinned([pki["expired"], pki["intermediate"]], "idp.example.com", listed)
    with pytest.raises(ThumbprintMismatch):
        check_pinned([pki["leaf"], pki["intermediate"]], "idp.exämple.com", listed)
    with pytest.raises(ThumbprintMismatch):
        check_pinned([pki["leaf"], pki["intermediate"]], "idp.example.com", [])


def test_an_ip_address_host_is_checked_as_one(pki: dict[str, x509.Certificate]) -> None:
    listed = [thumbprint(pki["intermediate"])]
    check_pinned([pki["by_ip"], pki["intermediate"]], "127.0.0.1", listed)
    with pytest.raises(ThumbprintMismatch):
        check_pinned([pki["by_ip"], pki["intermediate"]], "127.0.0.2", listed)

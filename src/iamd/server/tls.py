"""HTTPS for the API port: the operator's certificate, or one generated for local use.

`--tls-cert`/`--tls-key` name a PEM certificate chain and its private key; they are
loaded once before serving so a wrong path, a key that does not match, or a file that
is not PEM is told in one line instead of surfacing from deep inside uvicorn.

`--tls-self-signed` makes (once) an ECDSA P-256 certificate for ``localhost``,
``127.0.0.1``, ``::1`` and the ``--host``, valid for 397 days, and keeps it in the data
directory (both files 0600, as the master key) so every restart serves the same
certificate and a client's ``ca_bundle`` keeps working. It is made again only when it
no longer covers the host, expires within 30 days, or cannot be read.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from iamd.auth.private_files import create_private_file, read_private_file

log = logging.getLogger(__name__)

SELF_SIGNED_CERT_NAME = "tls-self-signed.crt"
SELF_SIGNED_KEY_NAME = "tls-self-signed.key"
# Browsers refuse leaf certificates valid for longer than 398 days.
_VALIDITY = timedelta(days=397)
_RENEW_BEFORE = timedelta(days=30)
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert_file: Path
    key_file: Path

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the (first) certificate, as `openssl x509 -fingerprint` shows it."""
        certificate = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        digest = certificate.fingerprint(hashes.SHA256()).hex().upper()
        return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def check_loadable(files: TlsFiles) -> None:
    """ValueError (one line, no key material) unless the pair makes a server context."""
    for path in (files.cert_file, files.key_file):
        if not path.is_file():
            raise ValueError(f"TLS file {path} does not exist (--tls-cert / --tls-key)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(files.cert_file, files.key_file)
    except PermissionError:
        raise ValueError(
            f"TLS files {files.cert_file} and {files.key_file} must be readable by iamd's user"
        ) from None
    except ssl.SSLError as exc:
        reason = exc.reason or "not a PEM certificate and matching private key"
        raise ValueError(
            f"cannot use {files.cert_file} with {files.key_file} for TLS: {reason}"
        ) from None


def self_signed(data_dir: Path, host: str, now: datetime | None = None) -> TlsFiles:
    """The data directory's self-signed certificate for ``host``, made if needed."""
    files = TlsFiles(data_dir / SELF_SIGNED_CERT_NAME, data_dir / SELF_SIGNED_KEY_NAME)
    moment = now or datetime.now(UTC)
    names = subject_names(host)
    if _still_good(files, names, moment):
        return files
    for path in (files.cert_file, files.key_file):
        path.unlink(missing_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(key, names, moment)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if not create_private_file(files.key_file, key_pem):
        raise ValueError(f"{files.key_file} appeared while iamd was creating it")
    create_private_file(files.cert_file, certificate.public_bytes(serialization.Encoding.PEM))
    log.info("generated a self-signed TLS certificate for %s", ", ".join(sorted(names)))
    return files


def subject_names(host: str) -> set[str]:
    """The names a local certificate covers: loopback, and the host clients are told."""
    names = {"localhost", "127.0.0.1", "::1"}
    bare = host.strip("[]")
    if bare in _WILDCARD_HOSTS:
        names.add(socket.gethostname())
        names.add(socket.getfqdn())
    elif bare:
        names.add(bare)
    return names


def _still_good(files: TlsFiles, names: set[str], now: datetime) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(
            read_private_file(files.cert_file, "TLS certificate", 65536)
        )
        read_private_file(files.key_file, "TLS private key", 65536)
    except FileNotFoundError:
        return False
    except ValueError as exc:
        log.warning("making a new self-signed certificate: %s", exc)
        return False
    if certificate.not_valid_after_utc - _RENEW_BEFORE < now:
        return False
    try:
        alternative = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except x509.ExtensionNotFound:
        return False
    covered = {str(ip) for ip in alternative.get_values_for_type(x509.IPAddress)}
    covered.update(alternative.get_values_for_type(x509.DNSName))
    return names <= covered


def _certificate(
    key: ec.EllipticCurvePrivateKey, names: set[str], now: datetime
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iamd local certificate")])
    alternatives: list[x509.GeneralName] = []
    for name in sorted(names):
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        # Its own issuer: clients trust it as the CA of itself (ca_bundle), which
        # OpenSSL's strict checks accept only from a CA certificate with these.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )

"""Reading SSH public keys in the encodings people paste, and rendering them back.

UploadSSHPublicKey accepts an OpenSSH line (`ssh-rsa AAAA... comment`), PEM (X.509
SubjectPublicKeyInfo or PKCS#1 `RSA PUBLIC KEY`) and the SSH2 / RFC 4716 block that
PuTTYgen and `ssh-keygen -e` write. Every key is reduced to its SSH wire-format blob:
the fingerprint is the MD5 of that blob (what `ssh-keygen -l -E md5` prints, and what
AWS returns), so the same key gets the same fingerprint whatever encoding it came in.

AWS takes RSA keys of 2048 to 16384 bits only. Ed25519 and ECDSA keys are accepted too
unless the server runs with `--ssh-key-types rsa`. Any text at all yields a parsed key
or an `AwsError`: text that is no key is `UnrecognizedPublicKeyEncoding`; a key IAM
refuses (too short, DSA, a certificate, a private key) is `InvalidPublicKey`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
    load_pem_public_key,
    load_ssh_public_key,
)

from iamd.errors import InvalidPublicKey, UnrecognizedPublicKeyEncoding

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384

_SSH2_BEGIN = "---- BEGIN SSH2 PUBLIC KEY ----"
_SSH2_END = "---- END SSH2 PUBLIC KEY ----"
_CERTIFICATE_SUFFIX = "-cert-v01@openssh.com"
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# Whatever cryptography raises for bytes that are not a key it can read.
_UNREADABLE = (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error, IndexError)


@dataclass(frozen=True, slots=True)
class ParsedKey:
    """A key IAM accepts: its OpenSSH form (no comment) and its MD5 fingerprint."""

    ssh_body: str
    fingerprint: str


def parse_public_key(text: str, *, rsa_only: bool) -> ParsedKey:
    """Read an uploaded SSHPublicKeyBody; raise the AWS error that fits if it is no good."""
    stripped = text.strip()
    if "PRIVATE KEY" in stripped:
        # `-----BEGIN OPENSSH PRIVATE KEY-----`, `RSA PRIVATE KEY`... pasted by mistake.
        raise InvalidPublicKey.private_key()
    if stripped.startswith(_SSH2_BEGIN):
        key = _from_wire_blob(_unwrap_ssh2(stripped))
    elif stripped.startswith("-----BEGIN "):
        key = _from_pem(stripped)
    else:
        key = _from_openssh_line(stripped)
    return _accepted(key, rsa_only=rsa_only)


def fingerprint_of(blob: bytes) -> str:
    """MD5 of the wire-format blob as colon-separated hex pairs (47 characters)."""
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def pem_of(ssh_body: str) -> str:
    """The stored OpenSSH form rendered as PEM SubjectPublicKeyInfo (GetSSHPublicKey PEM)."""
    key = load_ssh_public_key(ssh_body.encode("ascii"))
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _from_openssh_line(line: str) -> object:
    fields = line.split()
    if len(fields) < 2 or not _BASE64.fullmatch(fields[1]):
        if len(fields) == 1 and _BASE64.fullmatch(fields[0]):
            # A bare base64 DER SubjectPublicKeyInfo: PEM with its armour left off.
            return _load(lambda: load_der_public_key(_b64(fields[0])))
        raise UnrecognizedPublicKeyEncoding()
    key_type, blob_text = fields[0], fields[1]
    if key_type.endswith(_CERTIFICATE_SUFFIX):
        raise InvalidPublicKey.certificate()
    if key_type == "ssh-dss":
        raise InvalidPublicKey.unsupported_type(key_type)
    return _load(lambda: load_ssh_public_key(f"{key_type} {blob_text}".encode("ascii")))


def _from_wire_blob(blob: bytes) -> object:
    key_type = _wire_key_type(blob)
    if key_type.endswith(_CERTIFICATE_SUFFIX):
        raise InvalidPublicKey.certificate()
    if key_type == "ssh-dss":
        raise InvalidPublicKey.unsupported_type(key_type)
    line = f"{key_type} {base64.b64encode(blob).decode('ascii')}"
    return _load(lambda: load_ssh_public_key(line.encode("ascii")))


def _from_pem(text: str) -> object:
    if not text.startswith(("-----BEGIN PUBLIC KEY-----", "-----BEGIN RSA PUBLIC KEY-----")):
        # Certificates, parameters, messages: PEM, but not a public key.
        raise UnrecognizedPublicKeyEncoding()
    # cryptography reads both SubjectPublicKeyInfo and PKCS#1 `RSA PUBLIC KEY`.
    return _load(lambda: load_pem_public_key(text.encode("latin-1")))


def _unwrap_ssh2(text: str) -> bytes:
    """The key blob of an RFC 4716 block: headers (with `\\` continuations) skipped."""
    lines = [line.strip() for line in text.splitlines()]
    if _SSH2_END not in lines:
        raise UnrecognizedPublicKeyEncoding()
    body = lines[1 : lines.index(_SSH2_END)]
    data: list[str] = []
    continuing = False
    for line in body:
        if continuing or ":" in line:
            # A header line (`Comment: "..."`), possibly continued on the next line.
            continuing = line.endswith("\\")
            continue
        data.append(line)
    return _b64("".join(data))


def _wire_key_type(blob: bytes) -> str:
    """The key type string that starts every SSH wire-format key (RFC 4253 §6.6)."""
    if len(blob) < 4:
        raise UnrecognizedPublicKeyEncoding()
    length = int.from_bytes(blob[:4], "big")
    raw = blob[4 : 4 + length]
    if length == 0 or len(raw) != length:
        raise UnrecognizedPublicKeyEncoding()
    try:
        key_type = raw.decode("ascii")
    except UnicodeDecodeError:
        raise UnrecognizedPublicKeyEncoding() from None
    if not key_type.isprintable() or " " in key_type:
        raise UnrecognizedPublicKeyEncoding()
    return key_type


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UnrecognizedPublicKeyEncoding() from None


def _load(loader: Callable[[], object]) -> object:
    try:
        return loader()
    except _UNREADABLE:
        raise UnrecognizedPublicKeyEncoding() from None


def _accepted(key: object, *, rsa_only: bool) -> ParsedKey:
    if isinstance(key, rsa.RSAPublicKey):
        if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            raise InvalidPublicKey.rsa_size(key.key_size)
    elif isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in _SSH_CURVES:
            raise InvalidPublicKey.unsupported_type(f"ECDSA on {key.curve.name}")
        if rsa_only:
            raise InvalidPublicKey.unsupported_type(_type_name(key))
    elif isinstance(key, dsa.DSAPublicKey):
        raise InvalidPublicKey.unsupported_type("ssh-dss")
    else:
        raise InvalidPublicKey.unsupported_type(type(key).__name__)
    openssh = key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode("ascii")
    blob = base64.b64decode(openssh.split()[1])
    return ParsedKey(ssh_body=openssh, fingerprint=fingerprint_of(blob))


# The curves OpenSSH names (ecdsa-sha2-nistp256/384/521); a PEM key on another curve has
# no OpenSSH form.
_SSH_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})


def _type_name(key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ssh-ed25519"
    return {"secp256r1": "ecdsa-sha2-nistp256", "secp384r1": "ecdsa-sha2-nistp384"}.get(
        key.curve.name, "ecdsa-sha2-nistp521"
    )

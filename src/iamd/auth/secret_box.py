"""Encryption at rest for the secrets SigV4 needs in clear (secret access keys).

SigV4 verification needs the original secret, so it cannot be hashed like a password;
it is sealed with AES-256-GCM under a master key from ``IAMD_MASTER_KEY`` or a 0600 key
file. The row's identity (for example ``b"access-key:AKIA..."``) is the associated data,
so a sealed secret copied into another row does not open. Nothing here ever puts the
key, a plaintext or a reason for a failed decryption into a message or a repr.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from iamd.auth.private_files import create_private_file, read_private_file

__all__ = ["KEY_BYTES", "SecretBox"]

KEY_BYTES = 32
_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_CANNOT_DECRYPT = "cannot decrypt secret"


class SecretBox:
    """Seals and opens short secrets with AES-256-GCM; format ``0x01 || nonce || ct||tag``."""

    __slots__ = ("_aead",)

    def __init__(self, master_key: bytes) -> None:
        if not isinstance(master_key, bytes) or len(master_key) != KEY_BYTES:
            raise ValueError(f"the master key must be exactly {KEY_BYTES} bytes")
        # Only the AESGCM object is kept; its repr does not show the key either.
        self._aead = AESGCM(master_key)

    def __repr__(self) -> str:
        return "SecretBox(master_key=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the key out wherever the pickle goes.
        raise TypeError("SecretBox cannot be pickled")

    @classmethod
    def from_environment_or_file(cls, env_value: str | None, key_file: Path) -> SecretBox:
        """The box for ``IAMD_MASTER_KEY`` if set, else for ``key_file`` (created if absent)."""
        if env_value is not None:
            key = _decode_key_text(env_value)
            if key is None:
                raise ValueError(
                    "IAMD_MASTER_KEY must be the base64 (standard or URL-safe) "
                    f"of exactly {KEY_BYTES} bytes"
                )
            return cls(key)
        return cls(_read_or_create_key_file(key_file))

    def seal(self, plaintext: str, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), context)

    def open(self, sealed: bytes, context: bytes) -> str:
        # Every failure reads the same, so a caller (or an attacker probing through one)
        # learns nothing about whether the key, the context or the bytes were wrong.
        if len(sealed) < 1 + _NONCE_BYTES + _TAG_BYTES or sealed[:1] != _VERSION:
            raise ValueError(_CANNOT_DECRYPT)
        nonce = sealed[1 : 1 + _NONCE_BYTES]
        try:
            plaintext = self._aead.decrypt(nonce, sealed[1 + _NONCE_BYTES :], context)
            return plaintext.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise ValueError(_CANNOT_DECRYPT) from None


def _decode_key_text(text: str) -> bytes | None:
    """32 bytes from standard or URL-safe base64 (padding optional), else None."""
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    compact += "=" * (-len(compact) % 4)
    try:
        key = base64.b64decode(compact.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def _read_or_create_key_file(key_file: Path) -> bytes:
    try:
        return _read_key_file(key_file)
    except FileNotFoundError:
        pass
    key = os.urandom(KEY_BYTES)
    if create_private_file(key_file, base64.b64encode(key) + b"\n"):
        return key
    # Another process created it first: use theirs, so both agree on one key.
    return _read_key_file(key_file)


def _read_key_file(key_file: Path) -> bytes:
    data = read_private_file(key_file, "master key file", 4096)
    if len(data) == KEY_BYTES:
        return data
    try:
        key = _decode_key_text(data.decode("ascii"))
    except UnicodeDecodeError:
        key = None
    if key is None:
        raise ValueError(
            f"master key file {key_file} must hold {KEY_BYTES} raw bytes or their base64"
        )
    return key

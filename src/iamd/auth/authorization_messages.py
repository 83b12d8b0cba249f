"""Encoded authorization failure messages: an AccessDenied's reasons, sealed.

The explanation of a refusal (which statements matched, the request's context) helps
whoever debugs a policy, and helps an attacker probe one; as AWS does, iamd hands it
out only sealed, to be opened by DecodeAuthorizationMessage for a principal allowed
``sts:DecodeAuthorizationMessage`` in the same account. The seal is the server's
``SecretBox`` (AES-256-GCM under the master key) with the account id as associated
data, so a message neither opens in another account nor survives a changed byte.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from typing import Any

from iamd.auth.secret_box import SecretBox

__all__ = ["MAX_ENCODED_CHARS", "AuthorizationMessages", "InvalidAuthorizationMessage"]

# The model's bound of EncodedMessage.
MAX_ENCODED_CHARS = 10_240
# A decompressed message larger than this was not sealed by iamd (zlib bomb guard).
_MAX_PLAIN_BYTES = 256 * 1024


class InvalidAuthorizationMessage(ValueError):
    """The message does not open in this account (forged, tampered, foreign)."""


class AuthorizationMessages:
    __slots__ = ("_box",)

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def seal(self, account_id: str, explanation: Mapping[str, Any]) -> str:
        text = json.dumps(explanation, separators=(",", ":"), ensure_ascii=False)
        packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
        sealed = self._box.seal(packed, _context(account_id))
        return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")

    def open(self, account_id: str, encoded: str) -> str:
        """The JSON text of the explanation; InvalidAuthorizationMessage otherwise."""
        if not encoded or len(encoded) > MAX_ENCODED_CHARS:
            raise InvalidAuthorizationMessage()
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            packed = self._box.open(raw, _context(account_id))
            inflater = zlib.decompressobj()
            plain = inflater.decompress(base64.b64decode(packed, validate=True), _MAX_PLAIN_BYTES)
            if inflater.unconsumed_tail:
                raise InvalidAuthorizationMessage()
            return plain.decode("utf-8")
        except (binascii.Error, ValueError, zlib.error, UnicodeError):
            raise InvalidAuthorizationMessage() from None


def _context(account_id: str) -> bytes:
    return b"authorization-message:" + account_id.encode("ascii", "replace")

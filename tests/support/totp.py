"""TOTP codes computed by the tests themselves (RFC 6238: HMAC-SHA-1, 6 digits, 30 s),
independently of iamd's implementation, from the seed CreateVirtualMFADevice returns."""

from __future__ import annotations

import base64
import hashlib
import hmac


def code_at(seed_base32: str, unix_time: float) -> str:
    key = base64.b32decode(seed_base32 + "=" * (-len(seed_base32) % 8))
    counter = int(unix_time // 30).to_bytes(8, "big")
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"

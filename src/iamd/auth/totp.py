"""Time-based one-time passwords (RFC 6238) as virtual MFA devices use them.

AWS's virtual MFA devices are authenticator apps: HMAC-SHA-1, six digits, 30-second
steps, a seed shown once as base32. This module is pure (no clock read, no I/O): callers
pass the time step, and the functions answer which step a code belongs to, so the caller
can refuse a step already used (a code is accepted once) and record the new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6
# AWS's seeds are 40 random bytes: 64 base32 characters, no padding.
SEED_BYTES = 40
# One step either side of the server's: a phone clock a little off still works.
DRIFT_STEPS = 1
# ISSUER names the account in authenticator apps, as AWS's QR codes do.
ISSUER = "Amazon Web Services"


def new_seed() -> bytes:
    return os.urandom(SEED_BYTES)


def seed_base32(seed: bytes) -> str:
    return base64.b32encode(seed).decode("ascii").rstrip("=")


def seed_of_base32(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 8)
    return base64.b32decode(padded.encode("ascii"))


def time_step(when: datetime | float) -> int:
    """The RFC 6238 time counter T for a moment (T0 = 0, X = 30 s)."""
    seconds = when.timestamp() if isinstance(when, datetime) else when
    return int(seconds // STEP_SECONDS)


def code_at(seed: bytes, step: int, digits: int = DIGITS) -> str:
    """The HOTP value (RFC 4226, SHA-1, dynamic truncation) of counter `step`."""
    digest = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))


def _candidates(center: int, window: int, after: int | None) -> Iterable[int]:
    # Nearest steps first, so the most likely match is found with the fewest HMACs.
    for distance in range(window + 1):
        for step in {center - distance, center + distance}:
            if after is None or step > after:
                yield step


def matching_step(
    seed: bytes,
    code: str,
    current_step: int,
    *,
    window: int = DRIFT_STEPS,
    after: int | None = None,
) -> int | None:
    """The step within `window` of `current_step` whose code is `code`, else None.

    Steps at or before `after` (the last step the device accepted) never match: a code
    is good once.
    """
    if len(code) != DIGITS or not code.isdigit():
        return None
    for step in _candidates(current_step, window, after):
        if _equal(code_at(seed, step), code):
            return step
    return None


def matching_consecutive_steps(
    seed: bytes,
    first_code: str,
    second_code: str,
    current_step: int,
    *,
    window: int = DRIFT_STEPS,
    after: int | None = None,
) -> int | None:
    """The step of `second_code` when the two codes are consecutive, else None.

    EnableMFADevice and ResyncMFADevice take two codes in a row, as AWS asks: the
    second must belong to a step within `window` of `current_step`, the first to the
    step before it, and both must be later than `after`.
    """
    codes = (first_code, second_code)
    if any(len(c) != DIGITS or not c.isdigit() for c in codes):
        return None
    floor = after + 1 if after is not None else None
    for step in _candidates(current_step, window, floor):
        if _equal(code_at(seed, step), second_code) and _equal(code_at(seed, step - 1), first_code):
            return step
    return None


def otpauth_uri(device_name: str, account_name: str, base32_seed: str) -> str:
    """The key URI authenticator apps read from a QR code, in AWS's form.

    AWS's QR codes decode to ``otpauth://totp/Amazon%20Web%20Services:<device name>@
    <account alias or id>?secret=<base32>&issuer=Amazon%20Web%20Services``.
    """
    issuer = quote(ISSUER, safe="")
    label = f"{issuer}:{quote(device_name, safe='@')}@{quote(account_name, safe='')}"
    return f"otpauth://totp/{label}?secret={base32_seed}&issuer={issuer}"

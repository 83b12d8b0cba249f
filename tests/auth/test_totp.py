"""TOTP against RFC 6238's SHA-1 test vectors, and the window and replay rules."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamd.auth import totp

# RFC 6238 appendix B: the SHA-1 seed is the ASCII "12345678901234567890", 8 digits.
RFC_SEED = b"12345678901234567890"
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "expected"), RFC_VECTORS)
def test_rfc6238_sha1_vectors(unix_time: int, expected: str) -> None:
    assert totp.code_at(RFC_SEED, totp.time_step(unix_time), digits=8) == expected


@pytest.mark.parametrize(("unix_time", "expected"), RFC_VECTORS)
def test_six_digit_codes_are_the_last_six_digits(unix_time: int, expected: str) -> None:
    assert totp.code_at(RFC_SEED, totp.time_step(unix_time)) == expected[-6:]


def test_seed_is_forty_bytes_and_sixty_four_base32_characters() -> None:
    seed = totp.new_seed()
    text = totp.seed_base32(seed)
    assert len(seed) == 40
    assert len(text) == 64
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert totp.seed_of_base32(text) == seed
    assert base64.b32decode(text) == seed


def test_a_code_matches_its_step_and_one_step_either_side_only() -> None:
    seed = totp.new_seed()
    now = 1_800_000_000 // 30
    for drift in (-1, 0, 1):
        code = totp.code_at(seed, now + drift)
        assert totp.matching_step(seed, code, now) == now + drift
    for drift in (-3, -2, 2, 3):
        code = totp.code_at(seed, now + drift)
        # A far code could collide by chance (1 in 10^6 per step); this seed is random.
        if all(code != totp.code_at(seed, now + d) for d in (-1, 0, 1)):
            assert totp.matching_step(seed, code, now) is None


def test_a_used_step_and_older_ones_never_match_again() -> None:
    seed = totp.new_seed()
    now = 60_000_000
    code = totp.code_at(seed, now)
    assert totp.matching_step(seed, code, now, after=now - 1) == now
    assert totp.matching_step(seed, code, now, after=now) is None
    previous = totp.code_at(seed, now - 1)
    if previous != code:
        assert totp.matching_step(seed, previous, now, after=now) is None


def test_consecutive_codes_name_the_step_of_the_second() -> None:
    seed = totp.new_seed()
    now = 60_000_000
    first, second = totp.code_at(seed, now - 1), totp.code_at(seed, now)
    assert totp.matching_consecutive_steps(seed, first, second, now) == now
    # The same code twice, or the codes swapped, are not consecutive codes.
    if first != second:
        assert totp.matching_consecutive_steps(seed, second, second, now) is None
        assert totp.matching_consecutive_steps(seed, second, first, now) is None
    # The first code's step must be newer than the last step used.
    assert totp.matching_consecutive_steps(seed, first, second, now, after=now - 1) is None
    assert totp.matching_consecutive_steps(seed, first, second, now, after=now - 2) == now
    # A wider window (ResyncMFADevice) finds codes ten minutes away.
    late = totp.code_at(seed, now + 19), totp.code_at(seed, now + 20)
    assert totp.matching_consecutive_steps(seed, *late, now) is None
    assert totp.matching_consecutive_steps(seed, *late, now, window=20) == now + 20


@given(st.text(max_size=12))
def test_anything_that_is_not_six_digits_never_matches(code: str) -> None:
    seed = b"\x01" * 40
    if len(code) == 6 and code.isdigit() and code.isascii():
        return
    assert totp.matching_step(seed, code, 1000) is None
    assert totp.matching_consecutive_steps(seed, code, code, 1000) is None


def test_otpauth_uri_has_aws_form() -> None:
    uri = totp.otpauth_uri("phone", "123456789012", "ABC234")
    assert uri == (
        "otpauth://totp/Amazon%20Web%20Services:phone@123456789012"
        "?secret=ABC234&issuer=Amazon%20Web%20Services"
    )

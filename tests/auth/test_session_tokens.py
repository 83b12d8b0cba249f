"""Sealed session tokens: they open only with their key id and this server's master key."""

from __future__ import annotations

import base64
import os

import pytest

from iamd.auth.secret_box import SecretBox
from iamd.auth.session_tokens import InvalidSessionToken, SessionClaims, SessionKind, SessionTokens

CLAIMS = SessionClaims(
    access_key_id="ASIAEXAMPLEEXAMPLE22",
    secret_access_key="s" * 40,
    kind=SessionKind.ROLE,
    principal_id="AROAEXAMPLEEXAMPLE222",
    issued=1_800_000_000,
    expires=1_800_003_600,
    mfa_authenticated=1_799_999_990,
    session_name="build-42",
    source_identity="alice",
    session_policy='{"Version":"2012-10-17","Statement":[]}',
    policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",),
    tags=(("team", "blue"),),
    transitive_tag_keys=("team",),
    chained=True,
    delegation_request="dr-0661d51261cbca00e3b9922f88a94b0dcb",
)


def test_claims_survive_the_round_trip() -> None:
    tokens = SessionTokens(SecretBox(os.urandom(32)))
    token = tokens.seal(CLAIMS)
    assert tokens.open(token, CLAIMS.access_key_id) == CLAIMS
    # Nothing of the claims is readable in the token.
    raw = base64.b64decode(token)
    for secret in (b"s" * 40, b"build-42", b"alice", b"AROA"):
        assert secret not in raw


def test_a_root_session_keeps_its_account_and_task_policy() -> None:
    tokens = SessionTokens(SecretBox(os.urandom(32)))
    root = SessionClaims(
        access_key_id="ASIAEXAMPLEEXAMPLE33",
        secret_access_key="r" * 40,
        kind=SessionKind.ROOT,
        principal_id="210987654321",
        issued=1_800_000_000,
        expires=1_800_000_900,
        policy_arns=("arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",),
    )
    opened = tokens.open(tokens.seal(root), root.access_key_id)
    assert opened == root
    assert opened.kind is SessionKind.ROOT


def test_token_opens_only_with_its_key_id_and_master_key() -> None:
    box = SecretBox(os.urandom(32))
    token = SessionTokens(box).seal(CLAIMS)
    with pytest.raises(InvalidSessionToken):
        SessionTokens(box).open(token, "ASIAOTHEROTHEROTHER2")
    with pytest.raises(InvalidSessionToken):
        SessionTokens(SecretBox(os.urandom(32))).open(token, CLAIMS.access_key_id)


@pytest.mark.parametrize("position", [0, 1, 20, -3])
def test_any_altered_byte_is_refused(position: int) -> None:
    tokens = SessionTokens(SecretBox(os.urandom(32)))
    raw = bytearray(base64.b64decode(tokens.seal(CLAIMS)))
    raw[position] ^= 0x01
    with pytest.raises(InvalidSessionToken):
        tokens.open(base64.b64encode(bytes(raw)).decode(), CLAIMS.access_key_id)


@pytest.mark.parametrize("token", ["", "!!!", "A" * 20_000, "QUJD"])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(InvalidSessionToken):
        SessionTokens(SecretBox(os.urandom(32))).open(token, CLAIMS.access_key_id)

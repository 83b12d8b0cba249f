"""The console's session store (http/console/sessions.py): ids are kept only as their
hashes, sessions end when idle, at their absolute end and at sign-out, the store is
bounded, and a pending MFA sign-in takes only a few codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from iamd.auth.session_tokens import SessionClaims, SessionKind
from iamd.http.console.sessions import (
    PENDING_ATTEMPTS,
    ConsoleSession,
    ConsoleSessions,
    PendingSignIn,
)

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _session(expires_in: int = 12 * 3600) -> ConsoleSession:
    issued = int(START.timestamp())
    claims = SessionClaims(
        access_key_id="ASIAEXAMPLECONSOLE01",
        secret_access_key="",
        kind=SessionKind.CONSOLE,
        principal_id="AIDAEXAMPLE",
        issued=issued,
        expires=issued + expires_in,
    )
    return ConsoleSession("123456789012", "jdoe", claims, csrf="token")


def test_a_session_is_found_by_its_cookie_only_and_its_id_is_not_stored() -> None:
    store = ConsoleSessions()
    token = store.open(_session(), START)
    assert store.find(token, START) is not None
    assert store.find(token[:-1] + ("A" if token[-1] != "A" else "B"), START) is None
    assert store.find("", START) is None
    assert store.find("x" * 10_000, START) is None
    assert token.encode() not in repr(vars(store)).encode()
    assert all(len(key) == 32 for key in store._sessions)


def test_idle_absolute_and_sign_out_end_a_session() -> None:
    store = ConsoleSessions(idle_seconds=600, absolute_seconds=3600)
    token = store.open(_session(expires_in=3600), START)
    # Each request moves the idle deadline on, never the absolute one.
    for minutes in (9, 18, 27, 36, 45, 54):
        assert store.find(token, START + timedelta(minutes=minutes)) is not None
    assert store.find(token, START + timedelta(minutes=60)) is None
    idle = store.open(_session(), START)
    assert store.find(idle, START + timedelta(seconds=600)) is None
    ended = store.open(_session(), START)
    store.end(ended)
    assert store.find(ended, START) is None


def test_the_store_is_bounded_oldest_first() -> None:
    store = ConsoleSessions(max_sessions=3)
    tokens = [store.open(_session(), START) for _ in range(4)]
    assert store.find(tokens[0], START) is None
    assert all(store.find(t, START) is not None for t in tokens[1:])


def test_a_pending_sign_in_takes_a_few_codes_for_a_few_minutes() -> None:
    store = ConsoleSessions()
    pending = PendingSignIn("123456789012", "123456789012", "jdoe", "AIDA", "arn", 0)
    pending.started = int(START.timestamp())
    ticket = store.begin_pending(pending)
    for _ in range(PENDING_ATTEMPTS):
        assert store.pending(ticket, START) is pending
    assert store.pending(ticket, START) is None
    late = store.begin_pending(PendingSignIn("a", "a", "u", "i", "arn", int(START.timestamp())))
    assert store.pending(late, START + timedelta(minutes=5)) is None

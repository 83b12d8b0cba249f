"""The console's sessions on a real database (services/console_sessions.py): ids are
stored only as their hashes, sessions end when idle, at their absolute end and at
sign-out, every node (another service instance on the same database) sees them, and a
pending MFA sign-in takes only a few codes for a few minutes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.local_services import MovableClock, local_services

from iamd.services.console_sessions import PENDING_ATTEMPTS, ConsoleSessions, handle_of
from iamd.services.container import Services

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with local_services(tmp_path, MovableClock(START)) as made:
        yield made


def _open(store: ConsoleSessions, when: datetime = START, mfa: int | None = None) -> str:
    token, _ = store.open("123456789012", "jdoe", "AIDAEXAMPLE", "ASIAEXAMPLE", mfa, when)
    return token


def test_a_session_is_found_by_its_cookie_only_and_its_id_is_not_stored(
    services: Services, tmp_path: Path
) -> None:
    store = ConsoleSessions(services.tx)
    token = _open(store, mfa=1700)
    found = store.find(token, START)
    assert found is not None
    assert found.user_name == "jdoe"
    assert found.claims.mfa_authenticated == 1700
    assert store.find(token[:-1] + ("A" if token[-1] != "A" else "B"), START) is None
    assert store.find("", START) is None
    assert store.find("x" * 10_000, START) is None
    with sqlite3.connect(tmp_path / "iamd.sqlite3") as conn:
        stored = conn.execute("SELECT token_hash FROM console_sessions").fetchall()
    assert len(stored) == 1
    assert len(stored[0][0]) == 32
    assert token.encode() not in stored[0][0]
    # Another node on the same database: the same session.
    assert ConsoleSessions(services.tx).find(token, START) is not None


def test_idle_absolute_and_sign_out_end_a_session(services: Services) -> None:
    store = ConsoleSessions(services.tx, idle_seconds=600, absolute_seconds=3600)
    token = _open(store)
    # Each request moves the idle deadline on, never the absolute one.
    for minutes in (9, 18, 27, 36, 45, 54):
        assert store.find(token, START + timedelta(minutes=minutes)) is not None
    assert store.find(token, START + timedelta(minutes=60)) is None
    idle = _open(store)
    assert store.find(idle, START + timedelta(seconds=600)) is None
    ended = _open(store)
    store.end(ended)
    assert store.find(ended, START) is None


def test_sign_ins_sweep_ended_sessions(services: Services, tmp_path: Path) -> None:
    store = ConsoleSessions(services.tx, idle_seconds=600)
    for _ in range(3):
        _open(store)
    _open(store, START + timedelta(hours=1))
    with sqlite3.connect(tmp_path / "iamd.sqlite3") as conn:
        (count,) = conn.execute("SELECT count(*) FROM console_sessions").fetchone()
    assert count == 1


def test_a_pending_sign_in_takes_a_few_codes_for_a_few_minutes(services: Services) -> None:
    store = ConsoleSessions(services.tx)
    ticket = store.begin_pending("corp", "123456789012", "jdoe", "AIDA", "arn:x", START)
    for _ in range(PENDING_ATTEMPTS):
        found = store.pending(ticket, START)
        assert found is not None
        assert found.account == "corp"
    assert store.pending(ticket, START) is None
    late = store.begin_pending("corp", "123456789012", "jdoe", "AIDA", "arn:x", START)
    assert store.pending(late, START + timedelta(minutes=5)) is None
    done = store.begin_pending("corp", "123456789012", "jdoe", "AIDA", "arn:x", START)
    store.end_pending(done)
    assert store.pending(done, START) is None


def test_a_switched_role_is_kept_with_the_session_until_switching_back(
    services: Services,
) -> None:
    store = ConsoleSessions(services.tx)
    token = _open(store)
    store.switch_role(token, "ASIAROLE", "sealed-token", "arn:aws:iam::1:role/R", "R", "red")
    found = store.find(token, START)
    assert found is not None
    assert found.role is not None
    assert (found.role.access_key_id, found.role.label, found.role.color) == (
        "ASIAROLE",
        "R",
        "red",
    )
    assert "sealed-token" not in repr(found)
    store.switch_back(token)
    again = store.find(token, START)
    assert again is not None
    assert again.role is None


def test_a_users_sessions_are_listed_and_ended_one_or_all_but_this_one(
    services: Services,
) -> None:
    store = ConsoleSessions(services.tx, idle_seconds=600)
    first, _ = store.open(
        "123456789012", "jdoe", "AIDAEXAMPLE", "ASIA1", None, START, "192.0.2.1", "Firefox"
    )
    later = START + timedelta(minutes=1)
    second, _ = store.open(
        "123456789012", "jdoe", "AIDAEXAMPLE", "ASIA2", 1700, later, "192.0.2.2", "Chromium"
    )
    third, _ = store.open("123456789012", "jdoe", "AIDAEXAMPLE", "ASIA3", None, later, "", "")
    other, _ = store.open("123456789012", "kdoe", "AIDAOTHER", "ASIA4", None, later, "", "")
    found = store.of_user("123456789012", "AIDAEXAMPLE", later)
    assert [(s.source_ip, s.user_agent, s.mfa) for s in found] == [
        ("192.0.2.1", "Firefox", False),
        ("192.0.2.2", "Chromium", True),
        ("", "", False),
    ]
    # The handle names a session in a form: neither the cookie nor the stored hash.
    assert found[0].handle == handle_of(first)
    assert first not in found[0].handle
    # One by its handle; a handle of another user's session ends nothing of this one.
    assert store.end_of_user("123456789012", "AIDAEXAMPLE", handle=handle_of(other)) == 0
    assert store.end_of_user("123456789012", "AIDAEXAMPLE", handle=found[1].handle) == 1
    assert store.find(second, later) is None
    # All but this one; another user's stay.
    assert store.end_of_user("123456789012", "AIDAEXAMPLE", keep=third) == 1
    assert store.find(first, later) is None
    assert store.find(third, later) is not None
    assert store.find(other, later) is not None
    # An idle session is not listed.
    assert store.of_user("123456789012", "AIDAEXAMPLE", later + timedelta(minutes=11)) == []

"""The sign-in failure ledger's bookkeeping at its edges (the server tests drive it whole)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from iamd.services.throttle import Backoff, FailureLedger

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ACCOUNT = "123456789012"


def _fail(ledger: FailureLedger, name: str, times: int, start: datetime = NOW) -> datetime:
    """Fail ``name`` ``times`` times, each just after its window; the last time used."""
    when = start
    for _ in range(times):
        retry = ledger.admit(ACCOUNT, name, when)
        if retry is not None:
            when = retry + timedelta(milliseconds=1)
            assert ledger.admit(ACCOUNT, name, when) is None
    return when


def test_a_name_arriving_at_a_full_table_of_back_offs_is_still_counted() -> None:
    ledger = FailureLedger(Backoff(), max_names=5)
    for index in range(5):
        _fail(ledger, f"guessed-{index}", 3)
    last = _fail(ledger, "newcomer", 3)
    assert ledger.admit(ACCOUNT, "newcomer", last) is not None
    assert len(ledger) == 5


def test_case_does_not_make_another_name() -> None:
    ledger = FailureLedger(Backoff())
    last = _fail(ledger, "Alice", 2)
    _fail(ledger, "ALICE", 1, last)
    assert ledger.waiting(ACCOUNT, "alice", last)
    ledger.forgive(ACCOUNT, "aLiCe")
    assert not ledger.waiting(ACCOUNT, "alice", last)
    assert len(ledger) == 0


def test_racing_attempts_cannot_share_a_window() -> None:
    ledger = FailureLedger(Backoff())
    _fail(ledger, "target", 3)
    later = NOW + timedelta(seconds=5)
    with ThreadPoolExecutor(8) as pool:
        admitted = list(
            pool.map(lambda _: ledger.admit(ACCOUNT, "target", later) is None, range(64))
        )
    assert admitted.count(True) == 1


def test_the_window_doubles_up_to_fifteen_minutes() -> None:
    ledger = FailureLedger(Backoff())
    when = NOW
    windows = []
    for _ in range(16):
        retry = ledger.admit(ACCOUNT, "target", when)
        if retry is not None:
            windows.append(round((retry - when).total_seconds()))
            when = retry
            assert ledger.admit(ACCOUNT, "target", when) is None
    assert windows == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]


def test_the_same_name_in_another_account_is_counted_apart() -> None:
    ledger = FailureLedger(Backoff())
    last = _fail(ledger, "bob", 3)
    assert ledger.waiting(ACCOUNT, "bob", last)
    assert not ledger.waiting("210987654321", "bob", last)
    assert ledger.admit("210987654321", "bob", last) is None

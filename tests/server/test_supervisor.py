"""The supervisor of `serve --workers` with stand-in workers (forked for real): what it
does when they die at start or exit for a configuration problem. A worker replaced
after it served, and SIGTERM: tests/e2e/test_serve_workers.py, on a real server."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from iamd.server.supervisor import (
    CONFIGURATION_STATUS,
    Supervisor,
    WorkerIdentity,
    WorkersFailed,
    worker_count,
)


def test_workers_keep_dying_at_start_stop_the_supervisor_with_status_1(tmp_path: Path) -> None:
    starts = tmp_path / "starts"

    def crash(worker: WorkerIdentity, _ready: Callable[[], None]) -> int:
        with starts.open("a") as out:
            out.write(f"{worker.index}\n")
        return 1

    with pytest.raises(WorkersFailed) as failed:
        Supervisor(2, crash, grace_seconds=5).run()
    assert failed.value.status == 1
    assert "died 5 times in a row before it was ready" in str(failed.value)
    # Worker 1 never started: worker 0 was never ready.
    assert starts.read_text().split() == ["0"] * 5


def test_a_configuration_problem_stops_at_once_with_status_2(tmp_path: Path) -> None:
    def refuse(_worker: WorkerIdentity, _ready: Callable[[], None]) -> int:
        return CONFIGURATION_STATUS

    with pytest.raises(WorkersFailed) as failed:
        Supervisor(3, refuse, grace_seconds=5).run()
    assert failed.value.status == CONFIGURATION_STATUS


@pytest.mark.parametrize(("value", "count"), [("1", 1), ("4", 4), (" auto ", 3), ("AUTO", 3)])
def test_worker_count(value: str, count: int) -> None:
    assert worker_count(value, cores=3) == count


@pytest.mark.parametrize("value", ["0", "257", "two", ""])
def test_worker_count_refuses(value: str) -> None:
    with pytest.raises(ValueError, match="--workers"):
        worker_count(value)


def test_a_configuration_exit_after_the_first_start_is_retried_then_status_1(
    tmp_path: Path,
) -> None:
    """Say the database restarts while worker 1 is replaced: not a reason for status 2,
    which systemd would not restart."""
    starts = tmp_path / "starts"

    def one_refuses(worker: WorkerIdentity, ready: Callable[[], None]) -> int:
        with starts.open("a") as out:
            out.write(f"{worker.index}\n")
        if worker.index == 1:
            return CONFIGURATION_STATUS
        ready()
        time.sleep(120)  # worker 0 serves until the supervisor stops it
        return 0

    with pytest.raises(WorkersFailed) as failed:
        Supervisor(2, one_refuses, grace_seconds=5).run()
    assert failed.value.status == 1
    assert starts.read_text().split() == ["0"] + ["1"] * 5

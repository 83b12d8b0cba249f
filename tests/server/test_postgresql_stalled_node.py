"""A node stopped in the middle of a write delays other nodes' writes by a bounded time,
and a key deactivation by none.

Three nodes share one database. Node A is stopped (SIGSTOP) in the middle of a
CreateUser, holding the users quota lock, its connection "idle in transaction"; a test
connection also holds a change slot, as a writer stopped just before its commit would.
Before the fix every write of every node queued behind A (the account row's change
counter), UpdateAccessKey Inactive included, for as long as A was stopped.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError
from tests.support.servers import RunningServer, start_server

from iamd.store.sql.account import quota_lock_keys

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ACCOUNT = "123456789012"
MASTER_KEY = "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="
# The documented defaults, which nodes B and C run with.
LOCK_TIMEOUT = 2.0
IDLE_IN_TRANSACTION_TIMEOUT = 5.0


@pytest.fixture
def nodes(fresh_postgres_url: str, tmp_path: Path) -> Iterator[list[RunningServer]]:
    env = {"IAMD_MASTER_KEY": MASTER_KEY}
    # A waits long for locks, so the test can stop it while it waits for the users lock.
    started = [
        start_server(
            tmp_path / "a",
            database_url=fresh_postgres_url,
            extra_env=env,
            extra_args=["--db-lock-timeout", "60"],
        )
    ]
    try:
        for name in ("b", "c"):
            started.append(
                start_server(tmp_path / name, database_url=fresh_postgres_url, extra_env=env)
            )
        yield started
    finally:
        for node in started:
            if node.process.poll() is None:
                os.kill(node.process.pid, signal.SIGCONT)
            node.stop()


def _sessions(url: str, node: RunningServer) -> list[tuple[str, str | None]]:
    """(state, wait_event_type) of each database session of `node`."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT state, wait_event_type FROM pg_stat_activity WHERE application_name = %s",
            (f"iamd 127.0.0.1:{node.port}",),
        ).fetchall()
    return [(str(state), wait) for state, wait in rows]


def _wait_for(condition: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"condition not reached in time ({condition})")
        time.sleep(0.02)
    return time.monotonic() - started


def _timed(call: Callable[[], Any]) -> tuple[float, str]:
    started = time.monotonic()
    try:
        call()
        outcome = "ok"
    except ClientError as error:
        outcome = str(error.response["Error"]["Code"])
    return time.monotonic() - started, outcome


def test_a_stopped_node_does_not_stop_the_others(
    nodes: list[RunningServer], fresh_postgres_url: str
) -> None:
    node_a, node_b, node_c = nodes
    iam_b, iam_c = node_b.client("iam"), node_c.client("iam")
    iam_b.create_user(UserName="victim")
    key = iam_b.create_access_key(UserName="victim")["AccessKey"]
    sts_c = node_c.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts_c.get_caller_identity()["Arn"].endswith(":user/victim")

    # Hold the users lock, start a CreateUser on A, which waits for it inside its write
    # transaction; stop A; then let the lock go: A's session takes it and sits idle in
    # transaction behind a stopped client, exactly as a node stopped mid-write.
    holder = psycopg.connect(fresh_postgres_url)
    holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", quota_lock_keys(ACCOUNT, "users"))
    outcome_a: list[str] = []

    def create_on_a() -> None:
        outcome_a.append(_timed(lambda: node_a.client("iam").create_user(UserName="stalled"))[1])

    thread_a = threading.Thread(target=create_on_a)
    thread_a.start()
    _wait_for(lambda: ("active", "Lock") in _sessions(fresh_postgres_url, node_a), 10)
    os.kill(node_a.process.pid, signal.SIGSTOP)
    holder.commit()
    _wait_for(lambda: ("idle in transaction", "Client") in _sessions(fresh_postgres_url, node_a), 5)
    stalled_at = time.monotonic()
    # A writer stopped between its change-signal bump and its commit holds a slot.
    slot_holder = psycopg.connect(fresh_postgres_url)
    slot_holder.execute("SELECT slot FROM change_slots WHERE slot = 0 FOR UPDATE")
    try:
        deactivation = _timed(
            lambda: iam_b.update_access_key(
                UserName="victim", AccessKeyId=key["AccessKeyId"], Status="Inactive"
            )
        )

        def refused_on_c() -> bool:
            try:
                sts_c.get_caller_identity()
            except ClientError as error:
                return bool(error.response["Error"]["Code"] == "InvalidClientTokenId")
            return False

        refusal = _wait_for(refused_on_c, 1.5)
        other_write = _timed(lambda: iam_c.create_group(GroupName="unrelated"))
        writes_on_b = 0
        until = time.monotonic() + 1.0
        while time.monotonic() < until:
            iam_b.tag_user(UserName="victim", Tags=[{"Key": "n", "Value": str(writes_on_b)}])
            writes_on_b += 1
        quota_write = _timed(lambda: iam_c.create_user(UserName="queued"))
        print(
            f"\nA stopped mid-CreateUser: UpdateAccessKey Inactive on B {deactivation[0]:.3f} s "
            f"({deactivation[1]}); refused on C after {refusal:.3f} s; CreateGroup on C "
            f"{other_write[0]:.3f} s ({other_write[1]}); {writes_on_b} TagUser on B in 1 s; "
            f"CreateUser on C (same quota lock) {quota_write[0]:.3f} s ({quota_write[1]})"
        )
        assert deactivation[1] == "ok"
        assert deactivation[0] < 1.0, "the deactivation queued behind the stopped node"
        assert other_write[1] == "ok"
        assert other_write[0] < 1.0
        assert writes_on_b >= 5
        # The one write that needs A's lock waits no longer than lock_timeout, and says
        # so with the error the SDKs retry.
        assert quota_write[1] == "ServiceUnavailable"
        assert quota_write[0] < LOCK_TIMEOUT + 2.0

        # PostgreSQL ends A's stalled session after idle_in_transaction_session_timeout,
        # which frees the lock: the quota write then goes through.
        freed = _wait_for(
            lambda: ("idle in transaction", "Client") not in _sessions(fresh_postgres_url, node_a),
            IDLE_IN_TRANSACTION_TIMEOUT + 5,
        )
        after = _timed(lambda: iam_c.create_user(UserName="queued"))
        print(
            f"A's session ended {time.monotonic() - stalled_at:.1f} s after it stalled "
            f"(waited {freed:.1f} s here); CreateUser on C then {after[0]:.3f} s ({after[1]})"
        )
        assert after[1] == "ok"
    finally:
        slot_holder.close()
        holder.close()
        os.kill(node_a.process.pid, signal.SIGCONT)
    thread_a.join(timeout=30)
    # A's write was cut off whole: nothing of it was saved, and A serves again.
    assert outcome_a == ["ServiceUnavailable"]
    users = {u["UserName"] for u in iam_b.list_users()["Users"]}
    assert "stalled" not in users
    assert {"victim", "queued"} <= users
    deadline = time.monotonic() + 10
    while True:
        try:
            assert node_a.client().get_user(UserName="queued")["User"]["UserName"] == "queued"
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    for node in nodes:
        assert "Traceback" not in node.log_text()

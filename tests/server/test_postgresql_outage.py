"""PostgreSQL going away and coming back, under a real server; nodes starting together.

While the database is unreachable every request answers AWS's retryable
ServiceUnavailable (503), which the SDKs retry, and the log says so once (it used to
answer InternalFailure with 7.5 KB of chained tracebacks per request); once it is back
the log says so once and requests succeed again. Three nodes started at the same moment
on an empty database all come up (two used to crash creating `alembic_version`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.support.postgres import PostgresCluster, controlled_postgres_cluster
from tests.support.servers import (
    RunningServer,
    start_server,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MASTER_KEY = "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    with controlled_postgres_cluster() as running:
        yield running


def test_an_outage_is_retryable_and_logged_once(cluster: PostgresCluster, tmp_path: Path) -> None:
    node = start_server(
        tmp_path / "node", database_url=cluster.url, extra_env={"IAMD_MASTER_KEY": MASTER_KEY}
    )
    try:
        iam = node.client()
        iam.create_user(UserName="steady")
        assert iam.get_user(UserName="steady")["User"]["UserName"] == "steady"
        cluster.stop()
        log_before = len(node.log_text())
        answers = []
        for n in range(40):
            call = iam.get_user if n % 2 else iam.create_user
            try:
                call(UserName=f"during{n}")
                answers.append((200, "-"))
            except ClientError as error:
                answers.append(
                    (
                        error.response["ResponseMetadata"]["HTTPStatusCode"],
                        error.response["Error"]["Code"],
                    )
                )
        assert set(answers) == {(503, "ServiceUnavailable")}
        time.sleep(1.5)  # the change watcher and last-used flusher meet the outage too
        during = node.log_text()[log_before:]
        assert during.count("database unreachable") == 1
        assert "Traceback" not in during
        # One access-log line per request and the outage line: no traceback per request.
        assert len(during) < 40 * 400, f"{len(during)} bytes of log for 40 requests"

        # A client that retries, as the SDKs do by default, rides over a restart.
        restart = threading.Timer(1.0, cluster.start)
        restart.start()
        try:
            retrying = node.client("iam", attempts=10)
            assert retrying.get_user(UserName="steady")["User"]["UserName"] == "steady"
        finally:
            restart.join()
        iam.create_user(UserName="after")
        assert iam.get_user(UserName="after")["User"]["UserName"] == "after"
        log = node.log_text()[log_before:]
        assert log.count("database reachable again") == 1
        assert "Traceback" not in log
    finally:
        node.stop()


def test_three_nodes_started_together_on_an_empty_database_all_come_up(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    started: dict[int, RunningServer] = {}
    failures: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start(n: int) -> None:
        barrier.wait()
        try:
            started[n] = start_server(
                tmp_path / f"node{n}",
                database_url=cluster.url,
                extra_env={"IAMD_MASTER_KEY": MASTER_KEY},
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert failures == []
        assert len(started) == 3
        # One account, one admin, seen alike by every node.
        for node in started.values():
            users = node.client().list_users()["Users"]
            assert [u["UserName"] for u in users] == ["admin"]
            assert "Traceback" not in node.log_text()
        created = [n for n in started.values() if "created account" in n.log_text()]
        assert len(created) == 1
    finally:
        for node in started.values():
            node.stop()

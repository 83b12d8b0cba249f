"""The audit trail over time and across nodes: the retention sweep drops the events
older than `--trail-retention-days` (on the server's own clock, moved by the test
clock), and two nodes on one PostgreSQL database write one trail that either answers
in one `lookup-events`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.auth
import pytest
from tests.support.clock import ServerClock
from tests.support.servers import start_server
from tests.support.trail_store import stored_records

pytestmark = pytest.mark.slow


@contextmanager
def shifted(
    clock: ServerClock, shift: timedelta, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The server and this process's request signing both moved by `shift`."""
    clock.set_offset(shift.total_seconds())
    with monkeypatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", lambda: datetime.now(UTC) + shift)
        yield


def _stored_users(data_dir: Path) -> set[str]:
    """The user names of the stored CreateUser events."""
    records = stored_records(data_dir / "iamd.sqlite3")
    return {r["requestParameters"]["userName"] for r in records if r["eventName"] == "CreateUser"}


def _wait_for(probe: Any, predicate: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if predicate(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_events_older_than_the_retention_period_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ServerClock(tmp_path / "clock")
    clock.set_offset(0)
    data = tmp_path / "data"
    server = start_server(
        data,
        extra_args=["--audit-trail", "--trail-retention-days", "30"],
        test_clock_file=clock.path,
    )
    try:
        with shifted(clock, timedelta(days=-40), monkeypatch):
            server.client("iam").create_user(UserName="forty-days-ago")
            stored = _wait_for(lambda: _stored_users(data), lambda s: "forty-days-ago" in s)
            assert "forty-days-ago" in stored
        with shifted(clock, timedelta(days=-20), monkeypatch):
            server.client("iam").create_user(UserName="twenty-days-ago")
            stored = _wait_for(lambda: _stored_users(data), lambda s: "twenty-days-ago" in s)
            assert stored == {"forty-days-ago", "twenty-days-ago"}
            # The first sweep (due at once) ran or runs now, on the server's time: 40
            # days ago is 20 days before it, inside the 30 days, so nothing goes.
            time.sleep(2.5)
            assert _stored_users(data) == {"forty-days-ago", "twenty-days-ago"}
        # The sweep runs once an hour of the server's time: two hours on, it is due.
        with shifted(clock, timedelta(hours=2), monkeypatch):
            server.client("iam").create_user(UserName="now")
            stored = _wait_for(
                lambda: _stored_users(data),
                lambda s: "now" in s and "forty-days-ago" not in s,
            )
    finally:
        server.stop()

    assert stored == {"twenty-days-ago", "now"}


@pytest.mark.postgres
def test_two_nodes_on_one_postgresql_write_one_trail(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    env = {"IAMD_MASTER_KEY": "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="}
    args = ["--audit-trail"]
    node_a = start_server(
        tmp_path / "a", database_url=fresh_postgres_url, extra_env=env, extra_args=args
    )
    node_b = start_server(
        tmp_path / "b", database_url=fresh_postgres_url, extra_env=env, extra_args=args
    )
    try:
        node_a.client("iam").create_user(UserName="made-on-a")
        node_b.client("iam").create_user(UserName="made-on-b")
        node_b.client("iam").get_user(UserName="made-on-a")  # a read: through b's batch
        node_a.client("iam").get_user(UserName="made-on-b")  # a read: through a's batch

        def names(node: Any) -> list[tuple[str, str]]:
            events = node.client("cloudtrail").lookup_events(
                LookupAttributes=[
                    {"AttributeKey": "ResourceType", "AttributeValue": "AWS::IAM::User"}
                ]
            )["Events"]
            return sorted(
                (e["EventName"], r["ResourceName"]) for e in events for r in e.get("Resources", [])
            )

        expected = [
            ("CreateUser", "made-on-a"),
            ("CreateUser", "made-on-b"),
            ("GetUser", "made-on-a"),
            ("GetUser", "made-on-b"),
        ]
        from_a = _wait_for(lambda: names(node_a), lambda n: n == expected)
        from_b = names(node_b)
    finally:
        node_a.stop()
        node_b.stop()

    assert from_a == expected
    assert from_b == expected


def test_a_request_over_tls_has_its_tls_details(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, tls=True, extra_args=["--audit-trail"])
    try:
        server.client("iam").create_user(UserName="over-tls")
        (details,) = [
            r["tlsDetails"]
            for r in stored_records(data / "iamd.sqlite3")
            if r["eventName"] == "CreateUser"
        ]
    finally:
        server.stop()

    # Python's client and server both speak TLS 1.3; its suites are named as CloudTrail
    # names them.
    assert details["tlsVersion"] == "TLSv1.3"
    assert details["cipherSuite"] in {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    }
    assert details["clientProvidedHostHeader"] == server.endpoint.split("://", 1)[1]

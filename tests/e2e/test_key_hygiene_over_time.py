"""Keys that grow old and idle: `iamd audit` and the server-side guard, with a moved clock.

The server runs with `--test-clock-file`; while the test sets the server's clock back, it
signs its own requests at the same moved time (botocore's signing clock), so history
is written through the API as it would have happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.auth
import pytest
from tests.support.clock import ServerClock
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

pytestmark = pytest.mark.slow
DAY = 86_400


@contextmanager
def days_ago(clock: ServerClock, days: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server and this process's request signing both `days` in the past."""
    shift = timedelta(days=-days)
    clock.set_offset(shift.total_seconds())
    with monkeypatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", lambda: datetime.now(UTC) + shift)
        yield
    clock.set_offset(0)


@pytest.fixture
def clocked(tmp_path: Path) -> tuple[ServerClock, Path]:
    return ServerClock(tmp_path / "clock"), tmp_path


def run_audit(server: RunningServer) -> list[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env.update(
        AWS_ACCESS_KEY_ID=ADMIN_KEY_ID,
        AWS_SECRET_ACCESS_KEY=ADMIN_SECRET,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "iamd"),
            *("audit", "--endpoint-url", server.endpoint, "--format", "json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    records: list[dict[str, str]] = json.loads(done.stdout)
    return records


def make_history(server: RunningServer, clock: ServerClock, monkeypatch: Any) -> dict[str, str]:
    """old: a key created 100 days ago, never used; idle: a key last used 95 days ago."""
    iam = server.client()
    keys = {}
    with days_ago(clock, 100, monkeypatch):
        iam.create_user(UserName="old")
        keys["old"] = iam.create_access_key(UserName="old")["AccessKey"]["AccessKeyId"]
    with days_ago(clock, 96, monkeypatch):
        iam.create_user(UserName="idle")
        iam.attach_user_policy(
            UserName="idle", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
        )
        created = iam.create_access_key(UserName="idle")["AccessKey"]
        keys["idle"] = created["AccessKeyId"]
    with days_ago(clock, 95, monkeypatch):
        server.client("iam", created["AccessKeyId"], created["SecretAccessKey"]).list_users()
    iam.create_user(UserName="busy")
    busy = iam.create_access_key(UserName="busy")["AccessKey"]
    iam.attach_user_policy(UserName="busy", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    server.client("iam", busy["AccessKeyId"], busy["SecretAccessKey"]).list_users()
    keys["busy"] = busy["AccessKeyId"]
    return keys


def test_audit_flags_a_key_100_days_old_and_a_key_unused_for_95_days(
    clocked: tuple[ServerClock, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, tmp_path = clocked
    server = start_server(tmp_path / "data", test_clock_file=clock.path)
    try:
        keys = make_history(server, clock, monkeypatch)

        found = {
            (r["check"], r["subject"], r["access_key_id"]): r["detail"] for r in run_audit(server)
        }
    finally:
        server.stop()

    assert found == {
        ("old-access-key", "old", keys["old"]): "created 100 days ago (limit 90 days)",
        ("unused-access-key", "old", keys["old"]): "never used in 100 days",
        ("old-access-key", "idle", keys["idle"]): "created 96 days ago (limit 90 days)",
        ("unused-access-key", "idle", keys["idle"]): "last used 95 days ago (limit 90 days)",
        # IAMReadOnlyAccess grants iam, last used by idle 95 days ago (the access advisor)
        (
            "unused-service-permission",
            "user idle",
            "",
        ): "iam: last used 95 days ago (limit 90 days)",
    }


def test_the_guard_deactivates_keys_unused_past_its_limit(
    clocked: tuple[ServerClock, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, tmp_path = clocked
    server = start_server(
        tmp_path / "data",
        test_clock_file=clock.path,
        extra_args=["--deactivate-unused-keys-after", "90", "--unused-key-sweep-interval", "1"],
    )
    try:
        keys = make_history(server, clock, monkeypatch)
        iam = server.client()
        statuses: dict[str, str] = {}
        for _ in range(50):
            statuses = {
                name: iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"]
                for name in keys
            }
            if statuses["old"] == statuses["idle"] == "Inactive":
                break
            time.sleep(0.2)
        log = server.log_text()
    finally:
        server.stop()

    assert statuses == {"old": "Inactive", "idle": "Inactive", "busy": "Active"}
    assert f"set access key {keys['old']} of user old Inactive (never used" in log
    assert f"set access key {keys['idle']} of user idle Inactive (last used" in log
    assert keys["busy"] not in log.split("unused-key guard on")[1].split("Inactive")[0]

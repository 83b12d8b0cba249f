"""`--log-format json`: every line the server writes is one JSON object; `--version`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.support.servers import ADMIN_SECRET, start_server

from iamd import __version__


def test_every_line_is_json_with_the_access_log_fields(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", extra_args=["--log-format", "json"])
    try:
        iam = server.client()
        iam.get_user()
        with pytest.raises(ClientError):
            iam.get_user(UserName="nobody")
        deadline = time.monotonic() + 10
        while "NoSuchEntity" not in server.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        assert server.stop() == 0
    records = [json.loads(line) for line in server.log_text().splitlines() if line.strip()]
    assert records
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys()
        assert record["time"].endswith("Z")
    access = [r for r in records if r["logger"] == "iamd.access"]
    assert [r["operation"] for r in access] == ["GetUser", "GetUser"]
    ok, missing = access
    assert ok["status"] == 200
    assert ok["error_code"] == "-"
    assert ok["principal"] == "arn:aws:iam::123456789012:user/admin"
    assert ok["client_ip"] == "127.0.0.1"
    assert isinstance(ok["latency_ms"], float)
    assert len(ok["request_id"]) == 36
    assert missing["status"] == 404
    assert missing["error_code"] == "NoSuchEntity"
    assert any(r["message"].startswith("iamd listening on http://") for r in records)
    assert any(r["message"] == "iamd stopped" for r in records)
    # uvicorn's lines are the HTTP server's own: iamd's logger names, never uvicorn's.
    assert not any(r["logger"].startswith("uvicorn") for r in records)
    assert ADMIN_SECRET not in server.log_text()


def test_text_stays_the_default(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        server.client().get_user()
    finally:
        server.stop()
    assert " INFO iamd.access " in server.log_text()
    assert not server.log_text().lstrip().startswith("{")


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "iamd", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == f"iamd, version {__version__}"

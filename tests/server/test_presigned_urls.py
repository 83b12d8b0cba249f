"""Presigned URLs against a real server: honoured for 15 minutes at most (a setting).

A presigned URL is a bearer credential: whoever holds it can replay its request. AWS's
STS honours its presigned URLs for 15 minutes whatever X-Amz-Expires says; iamd caps
every presigned request at `--presigned-url-max-age` (900 s by default) and refuses an
older one with IAM's "Signature expired" SignatureDoesNotMatch.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from tests.server.iam_helpers import error_of
from tests.support.clock import ServerClock
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server
from tests.support.signing import presigned_get, send_raw

WEEK = 7 * 24 * 3600


def _presigned_at(endpoint: str, query: str, when: datetime, expires: int) -> str:
    request = AWSRequest(method="GET", url=f"{endpoint}/?{query}")
    signer = SigV4QueryAuth(Credentials(ADMIN_KEY_ID, ADMIN_SECRET), "iam", "us-east-1", expires)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        signer.add_auth(request)
    return str(request.url)


@pytest.fixture
def clocked_server(tmp_path: Path) -> Iterator[tuple[RunningServer, ServerClock]]:
    clock = ServerClock(tmp_path / "clock")
    running = start_server(tmp_path / "data", test_clock_file=clock.path)
    yield running, clock
    running.stop()


def _assert_expired(response: Any, minutes: str = "15 min.") -> None:
    assert (response.status, response.error_code) == (403, "SignatureDoesNotMatch")
    assert response.error_message.startswith("Signature expired: ")
    assert response.error_message.endswith(f" - {minutes})")


def test_a_week_long_url_signed_six_days_ago_is_refused(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-late"
    signed = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=6)
    url = _presigned_at(
        server.endpoint, f"Action=CreateUser&Version=2010-05-08&UserName={name}", signed, WEEK
    )
    _assert_expired(send_raw(url))
    status, code, _ = error_of(iam.get_user, UserName=name)
    assert (status, code) == (404, "NoSuchEntity")


def test_a_long_x_amz_expires_is_honoured_for_fifteen_minutes_only(
    clocked_server: tuple[RunningServer, ServerClock],
) -> None:
    server, clock = clocked_server
    iam = server.client("iam")
    iam.create_user(UserName="leaky")
    # The URL asks for an hour; the server honours it for 15 minutes, as AWS's STS does.
    url = presigned_get(
        server.endpoint,
        "Action=CreateAccessKey&Version=2010-05-08&UserName=leaky",
        ADMIN_KEY_ID,
        ADMIN_SECRET,
        expires=3600,
    )
    clock.set_offset(14 * 60)
    first = send_raw(url)
    assert first.status == 200, first.body
    assert "<SecretAccessKey>" in first.body
    clock.set_offset(16 * 60)
    _assert_expired(send_raw(url))
    # The refused replay minted nothing.
    clock.set_offset(0)
    assert len(iam.list_access_keys(UserName="leaky")["AccessKeyMetadata"]) == 1


def test_reads_are_capped_like_writes(clocked_server: tuple[RunningServer, ServerClock]) -> None:
    server, clock = clocked_server
    url = presigned_get(
        server.endpoint,
        "Action=ListUsers&Version=2010-05-08",
        ADMIN_KEY_ID,
        ADMIN_SECRET,
        expires=WEEK,
    )
    assert send_raw(url).status == 200
    clock.set_offset(24 * 3600)
    _assert_expired(send_raw(url))


def test_the_cap_is_a_setting(tmp_path: Path) -> None:
    clock = ServerClock(tmp_path / "clock")
    server = start_server(
        tmp_path / "data",
        test_clock_file=clock.path,
        extra_args=["--presigned-url-max-age", "60"],
    )
    try:
        url = presigned_get(
            server.endpoint, "Action=GetUser&Version=2010-05-08", ADMIN_KEY_ID, ADMIN_SECRET
        )
        clock.set_offset(50)
        assert send_raw(url).status == 200
        clock.set_offset(70)
        _assert_expired(send_raw(url), "1 min.")
        # Requests signed in their headers keep the ±15 minutes of clock skew.
        clock.set_offset(10 * 60)
        assert server.client("iam").get_user()["User"]["UserName"] == "admin"
    finally:
        server.stop()


@pytest.mark.parametrize("value", ["0", "604801", "soon"])
def test_an_impossible_cap_is_a_usage_error(tmp_path: Path, value: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "iamd",
            "serve",
            "--data-dir",
            str(tmp_path / "data"),
            "--presigned-url-max-age",
            value,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--presigned-url-max-age" in result.stderr
    assert "Traceback" not in result.stderr

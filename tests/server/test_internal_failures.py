"""One error path for the unexpected: InternalFailure with a request id, never a bare 500.

A failure injected outside the pipeline (hidden `--test-fail-path`, before the body is
read) and the crafted requests issue 10 found answering uvicorn's "Internal Server
Error" are answered AWS's InternalFailure envelope with the request id, get an
access-log line, and log their traceback once however often they repeat.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

from iamd.http.failure_log import FailureLog

FAIL_PATH = "/_iamd/test-failure"


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("iamd-failing"), extra_args=["--test-fail-path", FAIL_PATH]
    )
    yield running
    running.stop()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _wait_for_log(server: RunningServer, text: str) -> str:
    deadline = time.monotonic() + 10
    while text not in (log := server.log_text()):
        assert time.monotonic() < deadline, f"not logged: {text}"
        time.sleep(0.1)
    return log


def test_a_failure_outside_the_pipeline_is_an_internal_failure_envelope(
    failing: RunningServer,
) -> None:
    status, headers, body = _post(
        failing.endpoint + FAIL_PATH,
        b"Action=GetUser&Version=2010-05-08",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 500
    request_id = _lower(headers)["x-amzn-requestid"]
    assert _lower(headers)["content-type"] == "text/xml"
    text = body.decode()
    assert "<Code>InternalFailure</Code>" in text
    assert f"<RequestId>{request_id}</RequestId>" in text
    assert "Internal Server Error" not in text
    _wait_for_log(failing, f"{request_id} 127.0.0.1 - - 500 InternalFailure")


def test_a_json_protocol_request_gets_the_json_envelope(failing: RunningServer) -> None:
    status, headers, body = _post(
        failing.endpoint + FAIL_PATH,
        b"{}",
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "CodeCommit_20150413.ListRepositories",
        },
    )
    assert status == 500
    assert json.loads(body)["__type"] == "InternalFailure"
    assert _lower(headers)["x-amzn-requestid"]


def test_a_repeated_failure_logs_one_traceback(failing: RunningServer) -> None:
    ids = []
    for _ in range(30):
        status, headers, _ = _post(failing.endpoint + FAIL_PATH, b"", {})
        assert status == 500
        ids.append(_lower(headers)["x-amzn-requestid"])
    log = _wait_for_log(failing, f"{ids[-1]} 127.0.0.1 - - 500 InternalFailure")
    for request_id in ids:
        assert f"{request_id} 127.0.0.1 - - 500 InternalFailure" in log
    # Other tests of this module inject the same failure: one traceback for all of them.
    assert log.count("RuntimeError: failure injected by --test-fail-path") == 1
    assert "Exception in ASGI application" not in log


def test_a_lone_surrogate_in_codecommit_json_is_not_a_bare_500(failing: RunningServer) -> None:
    # Issue 10: this answered uvicorn's plain "Internal Server Error" with no access-log
    # line. Whatever the codec answers now, it is an AWS envelope with a request id.
    body = b'{"repositoryName": "\\ud800"}'
    request = AWSRequest(
        method="POST",
        url=failing.endpoint + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "CodeCommit_20150413.GetRepository",
        },
    )
    SigV4Auth(Credentials(ADMIN_KEY_ID, ADMIN_SECRET), "codecommit", "us-east-1").add_auth(request)
    prepared = request.prepare()
    status, headers, answer = _post(prepared.url, body, dict(prepared.headers.items()))
    request_id = _lower(headers)["x-amzn-requestid"]
    assert status in (400, 500)
    assert "__type" in json.loads(answer)
    assert b"Internal Server Error" not in answer
    _wait_for_log(failing, request_id)


def test_failure_log_tells_repeats_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    failures = FailureLog(logging.getLogger("test.failures"), clock=lambda: now[0])

    def fail(request_id: str) -> None:
        try:
            raise ValueError("boom")  # the same line every time: one kind of failure
        except ValueError as exc:
            failures.exception(exc, "request %s failed", request_id)

    with caplog.at_level(logging.ERROR, logger="test.failures"):
        for i in range(100):
            now[0] = i * 0.5  # 50 s
            fail(f"r{i}")
        now[0] = 61.0
        fail("last")
    records = caplog.records
    assert len(records) == 2
    assert records[0].exc_info is not None
    assert records[0].getMessage().startswith("request r0 failed")
    assert records[1].exc_info is None
    assert re.search(
        r"request last failed: ValueError at .*:\d+, 100 times", records[1].getMessage()
    )

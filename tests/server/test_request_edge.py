"""The request content edge, against a real server: what used to freeze the server or
answer 500 is now bounded and answered with AWS's errors.

Each case reproduces a finding of issue 10: a simulation of a million pairs by a read-only
user, a repeated or percent-encoded `Action`, list indexes past Python's digit limit, lone
surrogates and NaN in JSON, huge numbers in policy documents and sign-in bodies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from tests.server.iam_helpers import error_of
from tests.support import raw_requests
from tests.support.servers import RunningServer, start_server

IAM_READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
ALLOW_S3 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
)
HUGE = "1" * 5000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own: its log must hold no traceback at the end (of
    whichever of these tests ran on it)."""
    running = start_server(tmp_path_factory.mktemp("iamd-edge"))
    yield running
    try:
        assert "Traceback" not in running.log_text()
    finally:
        running.stop()


@pytest.fixture
def iam(server: RunningServer) -> Any:
    return server.client("iam")


def _read_only_client(server: RunningServer, iam: Any, name: str) -> Any:
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=IAM_READ_ONLY)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


# Probes the health check from a process of its own, so that the test's own work
# (boto3 building and parsing big bodies) cannot delay the probe: prints the worst latency.
_PROBE = """
import sys, time, urllib.request
url, worst = sys.argv[1] + "/_iamd/health", 0.0
sys.stdout.write("ready\\n"); sys.stdout.flush()
while sys.stdin.readline().strip() != "stop":
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200
    worst = max(worst, time.perf_counter() - started)
    sys.stdout.write("ok\\n"); sys.stdout.flush()
print(worst)
"""


class HealthProbe:
    """Health checks, one per `tick`, from another process, while the test works."""

    def __init__(self, server: RunningServer) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _PROBE, server.endpoint],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._read() == "ready"
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _read(self) -> str:
        assert self._process.stdout is not None
        return self._process.stdout.readline().strip()

    def _run(self) -> None:
        assert self._process.stdin is not None
        while not self._stop.is_set():
            self._process.stdin.write("go\n")
            self._process.stdin.flush()
            assert self._read() == "ok"
            self.count += 1
            time.sleep(0.005)

    def worst_seconds(self) -> float:
        self._stop.set()
        self._thread.join()
        out, _ = self._process.communicate("stop\n", timeout=30)
        return float(out.strip())


def test_a_million_pair_simulation_answers_one_page_and_never_blocks_the_server(
    server: RunningServer, iam: Any, unique: str
) -> None:
    reader = _read_only_client(server, iam, f"{unique}-reader")
    actions = [f"s3:GetObject{n}" for n in range(1, 1001)]
    resources = [f"arn:aws:s3:::bucket/{n}" for n in range(1, 1001)]
    probe = HealthProbe(server)
    try:
        started = time.perf_counter()
        first = reader.simulate_custom_policy(
            PolicyInputList=[ALLOW_S3], ActionNames=actions, ResourceArns=resources
        )
        elapsed = time.perf_counter() - started
        # The largest page, twice: each costs its own 1,000 evaluations only.
        for _ in range(2):
            big = reader.simulate_custom_policy(
                PolicyInputList=[ALLOW_S3],
                ActionNames=actions,
                ResourceArns=resources,
                MaxItems=1000,
            )
            assert len(big["EvaluationResults"]) == 1000
    finally:
        worst = probe.worst_seconds()
    # The finding: 9 s for the request, and the health check blocked as long; a health
    # check takes about a millisecond.
    assert elapsed < 3
    assert probe.count > 0
    assert worst < 1
    results = first["EvaluationResults"]
    assert len(results) == 100  # MaxItems' default
    assert first["IsTruncated"] is True
    assert [(r["EvalActionName"], r["EvalResourceName"]) for r in results[:2]] == [
        ("s3:GetObject1", "arn:aws:s3:::bucket/1"),
        ("s3:GetObject1", "arn:aws:s3:::bucket/2"),
    ]
    assert {r["EvalDecision"] for r in results} == {"allowed"}
    # The marker goes on where the page stopped: actions outer, resources inner.
    second = reader.simulate_custom_policy(
        PolicyInputList=[ALLOW_S3],
        ActionNames=actions,
        ResourceArns=resources,
        Marker=first["Marker"],
        MaxItems=1000,
    )
    pairs = [(r["EvalActionName"], r["EvalResourceName"]) for r in second["EvaluationResults"]]
    assert pairs[0] == ("s3:GetObject1", "arn:aws:s3:::bucket/101")
    assert pairs[-1] == ("s3:GetObject2", "arn:aws:s3:::bucket/100")


def test_the_last_page_of_a_simulation_ends_the_pagination(iam: Any) -> None:
    actions = [f"iam:Get{n}" for n in range(1, 8)]
    resources = ["arn:aws:iam::123456789012:user/a", "arn:aws:iam::123456789012:user/b"]
    pages = iam.get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[ALLOW_S3],
        ActionNames=actions,
        ResourceArns=resources,
        PaginationConfig={"PageSize": 3},
    )
    seen = [
        (r["EvalActionName"], r["EvalResourceName"])
        for page in pages
        for r in page["EvaluationResults"]
    ]
    assert seen == [(a, r) for a in actions for r in resources]


def test_simulation_lists_longer_than_a_thousand_are_refused_before_any_work(
    iam: Any,
) -> None:
    status, code, message = error_of(
        iam.simulate_custom_policy,
        PolicyInputList=[ALLOW_S3],
        ActionNames=[f"s3:Get{n}" for n in range(1001)],
    )
    assert (status, code) == (400, "ValidationError")
    assert message == (
        "1 validation error detected: Value '[...]' at 'actionNames' failed to satisfy "
        "constraint: Member must have length less than or equal to 1000"
    )
    status, code, _ = error_of(
        iam.simulate_principal_policy,
        PolicySourceArn="arn:aws:iam::123456789012:user/admin",
        ActionNames=["s3:GetObject"],
        ResourceArns=[f"arn:aws:s3:::b/{n}" for n in range(1001)],
    )
    assert (status, code) == (400, "ValidationError")


def test_a_marker_past_the_results_is_invalid_input(iam: Any) -> None:
    first = iam.simulate_custom_policy(
        PolicyInputList=[ALLOW_S3], ActionNames=["s3:A", "s3:B"], MaxItems=1
    )
    assert first["IsTruncated"] is True
    status, code, _ = error_of(
        iam.simulate_custom_policy,
        PolicyInputList=[ALLOW_S3],
        ActionNames=["s3:A"],
        Marker="c2ltdWxhdGlvbjo5OTk=",  # base64 of "simulation:999"
    )
    assert (status, code) == (400, "InvalidInput")


def test_a_repeated_action_is_invalid_query_parameter(server: RunningServer) -> None:
    # Was: the last Action decided "read" and the request ran argon2 on the event loop.
    answer = raw_requests.post(
        server.endpoint,
        b"Action=GetUser&Action=ChangePassword&OldPassword=a&NewPassword=b&Version=2010-05-08",
    )
    assert (answer.status, answer.code) == (400, "InvalidQueryParameter")
    assert "Action" in answer.message
    # Any other repeated parameter too, and a key both in the query string and the body.
    answer = raw_requests.post(
        server.endpoint, b"Action=GetUser&UserName=admin&UserName=other&Version=2010-05-08"
    )
    assert (answer.status, answer.code) == (400, "InvalidQueryParameter")
    answer = raw_requests.post(
        server.endpoint,
        b"Action=GetUser&Version=2010-05-08",
        path="/?Action=ListUsers",
    )
    assert (answer.status, answer.code) == (400, "InvalidQueryParameter")


def test_a_percent_encoded_action_is_the_operation_it_decodes_to(
    server: RunningServer,
) -> None:
    answer = raw_requests.post(
        server.endpoint, b"Action=GetSession%54oken&Version=2011-06-15", service="sts"
    )
    assert answer.status == 200
    assert b"<GetSessionTokenResponse" in answer.body
    answer = raw_requests.post(server.endpoint, b"Action=Get%55ser&Version=2010-05-08")
    assert answer.status == 200
    assert b"<UserName>admin</UserName>" in answer.body


def test_list_indexes_past_any_list_are_a_validation_error(
    server: RunningServer, iam: Any, unique: str
) -> None:
    iam.create_user(UserName=f"{unique}-tagged")
    for digits in (11, 4301, 20000):
        body = f"Action=TagUser&Version=2010-05-08&UserName={unique}-tagged&Tags.member."
        answer = raw_requests.post(server.endpoint, (body + "1" * digits + ".Key=c").encode())
        assert (answer.status, answer.code) == (400, "ValidationError"), answer.body
        assert "Member must have length less than or equal to 50" in answer.message
    # Nothing was tagged by the refused requests; a dense list still works.
    assert iam.list_user_tags(UserName=f"{unique}-tagged")["Tags"] == []
    iam.tag_user(UserName=f"{unique}-tagged", Tags=[{"Key": "k", "Value": "v"}])


def test_lone_surrogates_in_codecommit_json_are_a_serialization_error(
    server: RunningServer, unique: str
) -> None:
    for document in (
        {"repositoryName": "\ud800"},
        {"repositoryName": f"{unique}-repo", "repositoryDescription": "a\udfffb"},
        {"repositoryName": f"{unique}-repo", "tags": {"\ud800": "v"}},
    ):
        answer = raw_requests.codecommit(
            server.endpoint, "CreateRepository", json.dumps(document).encode()
        )
        assert (answer.status, answer.code) == (400, "SerializationException"), answer.body
    # No repository was created along the way.
    answer = raw_requests.codecommit(
        server.endpoint, "GetRepository", json.dumps({"repositoryName": f"{unique}-repo"}).encode()
    )
    assert (answer.status, answer.code) == (400, "RepositoryDoesNotExistException")


@pytest.mark.parametrize(
    "body",
    [
        b'{"repositoryName": NaN}',
        b'{"repositoryName": "x", "repositoryDescription": Infinity}',
        b'{"repositoryName": "x", "maxResults": -Infinity}',
        b'{"repositoryName": "x", "maxResults": ' + HUGE.encode() + b"}",
        b'{"repositoryName": "x", "maxResults": 1e999}',
    ],
)
def test_json_takes_no_nan_infinity_or_huge_numbers(server: RunningServer, body: bytes) -> None:
    # ListPullRequests' maxResults is an integer (the request fails while being read,
    # before the operation, which iamd does not serve, could answer NotImplemented).
    operation = "ListPullRequests" if b"maxResults" in body else "CreateRepository"
    answer = raw_requests.codecommit(server.endpoint, operation, body)
    assert (answer.status, answer.code) == (400, "SerializationException"), answer.body


def _policy_with_number(number: str) -> str:
    return (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
        '"Resource":"*","Condition":{"NumericEquals":{"aws:EpochTime":' + number + "}}}]}"
    )


def test_a_policy_with_a_huge_number_is_malformed(iam: Any, unique: str) -> None:
    status, code, message = error_of(
        iam.create_policy, PolicyName=f"{unique}-huge", PolicyDocument=_policy_with_number(HUGE)
    )
    assert (status, code, message) == (400, "MalformedPolicyDocument", "Syntax errors in policy.")
    arn = iam.create_policy(
        PolicyName=f"{unique}-small", PolicyDocument=_policy_with_number("1700000000")
    )["Policy"]["Arn"]
    status, code, _ = error_of(
        iam.create_policy_version, PolicyArn=arn, PolicyDocument=_policy_with_number(HUGE)
    )
    assert (status, code) == (400, "MalformedPolicyDocument")
    # Dates compare the same huge epoch value: refused as well, never a 500.
    date_policy = _policy_with_number("1" * 900).replace("NumericEquals", "DateEquals")
    status, code, _ = error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=date_policy)
    assert (status, code) == (400, "MalformedPolicyDocument")
    status, code, _ = error_of(
        iam.simulate_custom_policy,
        PolicyInputList=[_policy_with_number(HUGE)],
        ActionNames=["s3:GetObject"],
    )
    assert (status, code) == (400, "MalformedPolicyDocument")


def test_a_huge_epoch_context_value_is_no_date(iam: Any) -> None:
    policy = _policy_with_number('"1700000000"').replace("NumericEquals", "DateGreaterThan")
    [result] = iam.simulate_custom_policy(
        PolicyInputList=[policy],
        ActionNames=["s3:GetObject"],
        ContextEntries=[
            {
                "ContextKeyName": "aws:EpochTime",
                "ContextKeyValues": [HUGE],
                "ContextKeyType": "string",
            }
        ],
    )["EvaluationResults"]
    assert result["EvalDecision"] == "implicitDeny"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b'{"account": ' + HUGE.encode() + b', "userName": "a", "password": "b"}',
            "application/json",
        ),
        (b'{"account": NaN, "userName": "a", "password": "b"}', "application/json"),
        (
            b'{"account": "' + HUGE.encode() + b'", "userName": "a", "password": "b"}',
            "application/json",
        ),
        (
            b'{"account": "123456789012", "userName": "\\ud800", "password": "b"}',
            "application/json",
        ),
        (
            b'{"account": "123456789012", "userName": "a", "password": "b", "x": "'
            + b"y" * 9000
            + b'"}',
            "application/json",
        ),
        (
            b"account=123456789012&account=1&userName=a&password=b",
            "application/x-www-form-urlencoded",
        ),
        (b"account=123456789012&userName=%ff&password=b", "application/x-www-form-urlencoded"),
        (b"[" * 100000, "application/json"),
    ],
)
def test_bad_sign_in_bodies_are_bad_requests_without_a_traceback(
    server: RunningServer, body: bytes, content_type: str
) -> None:
    answer = raw_requests.sign_in(server.endpoint, body, content_type)
    assert answer.status == 400, answer.body
    assert json.loads(answer.body)["outcome"] == "bad_request"
    assert "Traceback" not in server.log_text()


def test_a_query_form_that_is_not_utf8_is_a_validation_error(server: RunningServer) -> None:
    answer = raw_requests.post(
        server.endpoint, b"Action=GetUser&UserName=%ff%fe&Version=2010-05-08"
    )
    assert (answer.status, answer.code) == (400, "ValidationError")


def test_costly_operations_run_a_few_at_a_time_and_the_rest_are_throttled(
    tmp_path: Path,
) -> None:
    # Two worker threads: one simulation at a time; the others answer Throttling at once
    # (botocore retries it), and never wait on a thread the API's writes need.
    running = start_server(tmp_path / "data", extra_args=["--worker-threads", "2"])
    try:
        statements = [
            {
                "Effect": "Allow",
                "Action": f"s3:Get{n}*",
                "Resource": f"arn:aws:s3:::bucket-{n}/*",
                "Condition": {"StringLike": {"aws:username": f"user-{n}-*"}},
            }
            for n in range(20)
        ]
        heavy = json.dumps({"Version": "2012-10-17", "Statement": statements})
        form = {"Action": "SimulateCustomPolicy", "Version": "2010-05-08", "MaxItems": "1000"}
        form["PolicyInputList.member.1"] = heavy
        form.update({f"ActionNames.member.{n}": f"s3:GetObject{n}" for n in range(1, 1001)})
        body = urlencode(form).encode()
        # Signed and built beforehand: the six arrive together, whatever the client costs.
        requests = [raw_requests.signed(running.endpoint, body) for _ in range(6)]
        barrier = threading.Barrier(len(requests))
        outcomes: list[str] = []

        def simulate(request: raw_requests.Signed) -> None:
            barrier.wait()
            answer = request.send()
            outcomes.append("ok" if answer.status == 200 else str(answer.code))

        threads = [threading.Thread(target=simulate, args=(r,)) for r in requests]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(outcomes) == {"ok", "Throttling"}, outcomes
        # Writes still go through meanwhile, and nothing was logged as a failure.
        running.client("iam").create_user(UserName="after-the-flood")
        assert "Traceback" not in running.log_text()
    finally:
        running.stop()

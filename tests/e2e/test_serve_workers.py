"""`iamd serve --workers 2` as a real process on SQLite (and once on PostgreSQL): both
workers serve one port, a write through one is seen through the other, a deactivated
key is refused by both, a worker killed with SIGKILL is replaced without losing an
acknowledged write, SIGTERM stops everything, and a SAML response or a TOTP code used
through one worker is refused through the other.

A request reaches a chosen worker over a kept-alive connection whose health answer
named that worker (`X-Iamd-Worker: <index> <pid>`, on /_iamd/health only).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from tests.server.test_sts_mfa import Device
from tests.support.saml_idp import SamlIdp
from tests.support.servers import (
    ADMIN_KEY_ID,
    ADMIN_SECRET,
    RunningServer,
    free_port,
    start_server,
)
from tests.support.signing import FORM, RawResponse, signed_post

pytestmark = pytest.mark.slow

ROLE_ATTR = "https://aws.amazon.com/SAML/Attributes/Role"
NAME_ATTR = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
# Allowed to every caller without a policy: a key's own test.
WHO_AM_I = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("workers") / "data", extra_args=["--workers", "2"]
    )
    yield running
    running.stop()


class Pinned:
    """A kept-alive connection to one worker of the server."""

    def __init__(self, server: RunningServer, index: int) -> None:
        self.server = server
        self.index = index
        # Worker 1 starts once worker 0 is ready (and a killed one after a back-off).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                worker = _health_worker(conn)
            except (OSError, http.client.HTTPException):
                # Queued on the socket of a worker that was just killed: reset with it.
                conn.close()
                time.sleep(0.05)
                continue
            if worker[0] == index:
                self.conn, self.pid = conn, worker[1]
                return
            conn.close()
        raise AssertionError(f"no connection reached worker {index} in 60 s")

    def post(
        self, body: dict[str, str], key: str | None, secret: str = "", **kw: Any
    ) -> RawResponse:
        text = urlencode(body)
        if key is None:
            headers = {"Content-Type": FORM}
        else:
            request = signed_post(self.server.endpoint, text, key, secret, **kw).prepare()
            headers = dict(request.headers.items())
        self.conn.request("POST", "/", body=text.encode(), headers=headers)
        response = self.conn.getresponse()
        answer = RawResponse(response.status, response.read().decode())
        # Still the same worker: the answer came over the same connection.
        assert _health_worker(self.conn) == (self.index, self.pid)
        return answer

    def close(self) -> None:
        self.conn.close()


def _health_worker(conn: http.client.HTTPConnection) -> tuple[int, int]:
    conn.request("GET", "/_iamd/health")
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    index, pid = (response.getheader("X-Iamd-Worker") or "").split()
    return int(index), int(pid)


def _both(server: RunningServer) -> tuple[Pinned, Pinned]:
    return Pinned(server, 0), Pinned(server, 1)


def _iam(action: str, **params: str) -> dict[str, str]:
    return {"Action": action, "Version": "2010-05-08", **params}


def test_both_workers_serve_the_port_and_only_health_names_them(workers: RunningServer) -> None:
    zero, one = _both(workers)
    assert zero.pid != one.pid
    assert workers.process.pid not in (zero.pid, one.pid)
    iam = workers.client()
    got = iam.get_user()
    assert "x-iamd-worker" not in got["ResponseMetadata"]["HTTPHeaders"]
    answer = zero.post(_iam("GetUser"), ADMIN_KEY_ID, ADMIN_SECRET)
    assert answer.status == 200
    assert "<UserName>admin</UserName>" in answer.body
    # Each worker's /metrics names it.
    for pinned in (zero, one):
        pinned.conn.request("GET", "/metrics")
        text = pinned.conn.getresponse().read().decode()
        assert f'iamd_worker_info{{worker="{pinned.index}",pid="{pinned.pid}"}} 1' in text
        pinned.close()
    # The account was bootstrapped once.
    assert workers.log_text().count("created account") == 1


def test_a_key_made_through_one_worker_works_through_the_other_until_deactivated(
    workers: RunningServer,
) -> None:
    zero, one = _both(workers)
    assert (
        zero.post(_iam("CreateUser", UserName="w-keys"), ADMIN_KEY_ID, ADMIN_SECRET).status == 200
    )
    made = zero.post(_iam("CreateAccessKey", UserName="w-keys"), ADMIN_KEY_ID, ADMIN_SECRET)
    assert made.status == 200
    key = made.body.split("<AccessKeyId>")[1].split("<")[0]
    secret = made.body.split("<SecretAccessKey>")[1].split("<")[0]
    # At once, through the other worker (its caches never held this key).
    answer = one.post(WHO_AM_I, key, secret, service="sts")
    assert answer.status == 200, answer.body
    assert ":user/w-keys</Arn>" in answer.body

    update = _iam("UpdateAccessKey", UserName="w-keys", AccessKeyId=key, Status="Inactive")
    assert zero.post(update, ADMIN_KEY_ID, ADMIN_SECRET).status == 200
    assert zero.post(WHO_AM_I, key, secret, service="sts").error_code == "InvalidClientTokenId"
    # The other worker had the key cached: its change watcher drops it within
    # --change-poll-seconds (0.5 s); the deadline here is only a hang guard.
    deadline = time.monotonic() + 15
    while (answer := one.post(WHO_AM_I, key, secret, service="sts")).status == 200:
        assert time.monotonic() < deadline, "worker 1 still accepts a deactivated key"
        time.sleep(0.05)
    assert answer.error_code == "InvalidClientTokenId"


def test_a_totp_code_used_through_one_worker_is_refused_through_the_other(
    workers: RunningServer,
) -> None:
    iam = workers.client()
    iam.create_user(UserName="w-mfa")
    made = iam.create_access_key(UserName="w-mfa")["AccessKey"]
    key, secret = made["AccessKeyId"], made["SecretAccessKey"]
    device = Device(iam, "w-mfa")
    zero, one = _both(workers)
    code = device.next_code()
    body = {
        "Action": "GetSessionToken",
        "Version": "2011-06-15",
        "SerialNumber": device.serial,
        "TokenCode": code,
    }
    first = zero.post(body, key, secret, service="sts")
    assert first.status == 200, first.body
    again = one.post(body, key, secret, service="sts")
    assert (again.status, again.error_code) == (403, "AccessDenied")


def test_a_saml_response_used_through_one_worker_is_refused_through_the_other(
    workers: RunningServer, tmp_path: Path
) -> None:
    idp = SamlIdp(tmp_path / "idp")
    iam = workers.client()
    provider = iam.create_saml_provider(Name="w-saml", SAMLMetadataDocument=idp.metadata)[
        "SAMLProviderArn"
    ]
    trust = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    }
    role = iam.create_role(
        RoleName="w-saml",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )["Role"]["Arn"]
    response = idp.response(
        "alice", {ROLE_ATTR: [f"{role},{provider}"], NAME_ATTR: ["alice@example.test"]}
    )
    body = {
        "Action": "AssumeRoleWithSAML",
        "Version": "2011-06-15",
        "RoleArn": role,
        "PrincipalArn": provider,
        "SAMLAssertion": response,
    }
    zero, one = _both(workers)
    first = zero.post(body, None)
    assert first.status == 200, first.body
    again = one.post(body, None)
    assert (again.status, again.error_code) == (400, "InvalidIdentityToken")
    assert "already been used" in (again.error_message or "")


def test_a_killed_worker_is_replaced_and_no_acknowledged_write_is_lost(
    workers: RunningServer,
) -> None:
    victim = Pinned(workers, 1)
    victim.close()
    acknowledged: list[str] = []
    failed: list[str] = []
    stop = threading.Event()

    def write() -> None:
        iam = workers.client()
        n = 0
        while not stop.is_set():
            n += 1
            name = f"w-kill-{n}"
            try:
                iam.create_user(UserName=name)
            except (BotoCoreError, ClientError):
                # The connection the killed worker held was reset: not acknowledged.
                failed.append(name)
            else:
                acknowledged.append(name)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(acknowledged) < 20:
            time.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        replaced = Pinned(workers, 1)  # waits for a connection that worker 1 answers
        assert replaced.pid != victim.pid
        replaced.close()
        count = len(acknowledged)
        while len(acknowledged) < count + 20:
            time.sleep(0.02)
    finally:
        stop.set()
        writer.join()
    iam = workers.client()
    paginator = iam.get_paginator("list_users")
    names = {u["UserName"] for page in paginator.paginate() for u in page["Users"]}
    assert set(acknowledged) <= names
    assert "worker 1 died (signal 9)" in workers.log_text()


def test_sigterm_stops_every_worker(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", extra_args=["--workers", "2"])
    try:
        zero, one = _both(running)
        zero.close()
        one.close()
    finally:
        status = running.stop()
    assert status == 0
    for pid in (zero.pid, one.pid):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    log = running.log_text()
    assert "worker 0 stopped" in log
    assert "worker 1 stopped" in log
    assert log.rstrip().endswith("iamd stopped")


def test_a_configuration_problem_stops_the_workers_with_status_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env["IAMD_MASTER_KEY"] = "not base64 of 32 bytes"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "iamd", "serve", "--workers", "2", "--no-git-ssh"),
            *("--port", str(free_port()), "--data-dir", str(tmp_path / "data")),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    # Told once, by worker 0, the only one started before it is ready.
    assert result.stderr.count("IAMD_MASTER_KEY") == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_workers_must_be_a_number_or_auto(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "iamd", "serve", "--workers", "0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--workers must be between 1 and 256" in result.stderr


def test_two_workers_on_postgresql_share_writes_and_deactivations(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    running = start_server(
        tmp_path / "data", database_url=fresh_postgres_url, extra_args=["--workers", "2"]
    )
    try:
        zero, one = _both(running)
        made = zero.post(_iam("CreateUser", UserName="w-pg"), ADMIN_KEY_ID, ADMIN_SECRET)
        assert made.status == 200, made.body
        made = zero.post(_iam("CreateAccessKey", UserName="w-pg"), ADMIN_KEY_ID, ADMIN_SECRET)
        key = made.body.split("<AccessKeyId>")[1].split("<")[0]
        secret = made.body.split("<SecretAccessKey>")[1].split("<")[0]
        assert one.post(WHO_AM_I, key, secret, service="sts").status == 200
        update = _iam("UpdateAccessKey", UserName="w-pg", AccessKeyId=key, Status="Inactive")
        assert one.post(update, ADMIN_KEY_ID, ADMIN_SECRET).status == 200
        deadline = time.monotonic() + 15
        while (answer := zero.post(WHO_AM_I, key, secret, service="sts")).status == 200:
            assert time.monotonic() < deadline, "worker 0 still accepts a deactivated key"
            time.sleep(0.05)
        assert answer.error_code == "InvalidClientTokenId"
        assert running.log_text().count("created account") == 1
    finally:
        assert running.stop() == 0


def test_worker_0_alone_delivers_the_trail_files_with_every_workers_events_once(
    tmp_path: Path,
) -> None:
    trail = tmp_path / "trail"
    fast = ["--audit-trail", "--trail-file-seconds", "0.3", "--db-statement-timeout", "1"]
    running = start_server(
        tmp_path / "data", extra_args=["--workers", "2", *fast, "--trail-dir", str(trail)]
    )
    try:
        zero, one = _both(running)
        for pinned in (zero, one):
            name = f"w-trail-{pinned.index}"
            made = pinned.post(_iam("CreateUser", UserName=name), ADMIN_KEY_ID, ADMIN_SECRET)
            assert made.status == 200, made.body
        # Events are recorded by the worker that served them, delivered by worker 0.
        deadline = time.monotonic() + 60
        while len(_created_in_files(trail)) < 2:
            assert time.monotonic() < deadline, "the trail files never held both events"
            time.sleep(0.3)
    finally:
        assert running.stop() == 0
    assert sorted(_created_in_files(trail)) == ["w-trail-0", "w-trail-1"]
    assert running.log_text().count("audit trail log files are delivered to") == 1


def _created_in_files(trail: Path) -> list[str]:
    names = []
    for path in trail.glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"):
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            if record["eventName"] == "CreateUser":
                names.append(record["requestParameters"]["userName"])
    return names


def test_a_second_server_with_workers_cannot_join_the_port(
    workers: RunningServer, tmp_path: Path
) -> None:
    # SO_REUSEPORT alone would let it share the port (same user) and split the traffic.
    result = subprocess.run(
        [
            *(sys.executable, "-m", "iamd", "serve", "--workers", "2", "--no-git-ssh"),
            *("--port", str(workers.port), "--data-dir", str(tmp_path / "other")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"127.0.0.1:{workers.port}: the port is already in use" in result.stderr


def test_two_workers_serve_https_with_the_one_self_signed_certificate(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", tls=True, extra_args=["--workers", "2"])
    try:
        iam = running.client()
        # Fresh connections, so that both workers answer some of them.
        answered = {iam.get_user()["User"]["UserName"] for _ in range(20)}
        assert answered == {"admin"}
        assert running.endpoint.startswith("https://")
    finally:
        assert running.stop() == 0
    # Made (and told) once, by the supervisor, before the workers start.
    assert running.log_text().count("generated a self-signed TLS certificate") == 1
    assert len(list((tmp_path / "data").glob("tls-self-signed.*"))) == 2

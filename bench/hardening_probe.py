"""The hardening checks of issue 10, run against real `iamd serve` processes on loopback.

Four probes, each on a server of its own, each bounded in requests and time:

- ``fuzz``: `--requests` generated bad requests (signed Query calls of every IAM and STS
  operation with hostile parameter values, the same mis-signed or unsigned, CodeCommit
  JSON with hostile bodies, sign-in bodies, odd paths and methods) over keep-alive
  connections; counts the answers by status and lists every 5xx other than 501
  (NotImplemented) and 503 (ServiceUnavailable).
- ``simulate``: a user with only IAMReadOnlyAccess sends SimulateCustomPolicy with 1,000
  actions x 1,000 resources while another thread polls the health check; prints the
  request's time and answer, and the health check's worst latency meanwhile.
- ``slow``: a server limited to 1,024 open files; 1,100 connections send half a request
  head and stall; meanwhile signed GetUser calls from a new client must succeed.
- ``presigned``: a CreateUser URL presigned for 7 days is used after the server's clock
  moved one day on (the hidden test clock): it must be refused, and create nothing.

    .venv/bin/python -m bench.hardening_probe [--requests 200000] [--only fuzz,slow]

A probe, not a test: it prints what it saw and exits 1 if a check failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import resource
import socket
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session
from bench.iamd_process import free_port, start_iamd
from botocore.config import Config
from botocore.exceptions import ClientError

KEY_ID = "AKIAIAMDHARDENPROBE1"
SECRET = "iamdHardeningProbeSecretKey0000000000000"
# Values that broke parsers before, or might: huge numbers, surrogates, escapes, NaN,
# long strings, control characters, JSON and XML fragments, policy-like documents.
HOSTILE = [
    "",
    "0",
    "-1",
    "9" * 5000,
    "1e309",
    "NaN",
    "Infinity",
    "%ED%A0%80",
    "\ud800",
    "\x00",
    "\u202e",
    "a" * 70_000,
    "../../etc/passwd",
    "<x>&amp;</x>",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",'
    '"Condition":{"NumericEquals":{"aws:EpochTime":' + "9" * 5000 + "}}}]}",
    '{"Version":"2012-10-17","Statement":' + "[" * 5000 + "]" * 5000 + "}",
    "arn:aws:iam::123456789012:user/" + "x" * 3000,
    "Active",
    "Inactive",
    "true",
    "2012-10-17T00:00:00Z",
    "arn:aws:iam::aws:policy/AdministratorAccess",
]
KEY_SUFFIXES = [
    "",
    ".member.1",
    ".member." + "1" * 4301,
    ".member.0",
    ".member.1.Key",
    ".member.99999999999.Value",
    ".entry.1.key",
]


class Failed(Exception):
    """A check that did not hold."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="fuzz,simulate,slow,presigned")
    args = parser.parse_args()
    # 1,100 sockets of our own in the slow-client probe.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    probes: dict[str, Callable[[], None]] = {
        "fuzz": lambda: fuzz(args.requests, args.threads, args.seed),
        "simulate": simulate,
        "slow": slow_clients,
        "presigned": presigned_from_yesterday,
    }
    failed = []
    for name in args.only.split(","):
        print(f"== {name}", flush=True)
        try:
            probes[name]()
            print(f"{name}: held", flush=True)
        except Failed as exc:
            print(f"{name}: FAILED: {exc}", flush=True)
            failed.append(name)
    raise SystemExit(1 if failed else 0)


# -- fuzz ---------------------------------------------------------------------------------


class _Generator:
    def __init__(self, port: int, seed: int) -> None:
        self._rng = random.Random(seed)
        self._port = port
        session = botocore.session.get_session()
        self._models = {name: session.get_service_model(name) for name in ("iam", "sts")}
        self._codecommit = session.get_service_model("codecommit")
        self._credentials = botocore.credentials.Credentials(KEY_ID, SECRET)

    def request(self) -> tuple[str, str, dict[str, str], bytes]:
        """method, path, headers, body"""
        kind = self._rng.random()
        if kind < 0.55:
            return self._query(sign=True)
        if kind < 0.70:
            return self._query(sign=False)
        if kind < 0.85:
            return self._json()
        if kind < 0.95:
            return self._sign_in()
        return self._odd()

    def _value(self) -> str:
        if self._rng.random() < 0.7:
            return self._rng.choice(HOSTILE)
        return "".join(chr(self._rng.randrange(1, 0x10FFFF)) for _ in range(self._rng.randrange(8)))

    def _query(self, *, sign: bool) -> tuple[str, str, dict[str, str], bytes]:
        service = self._rng.choice(("iam", "sts"))
        model = self._models[service]
        operation = model.operation_model(self._rng.choice(model.operation_names))
        pairs: list[tuple[str, str]] = [("Action", operation.name), ("Version", model.api_version)]
        members = list(operation.input_shape.members) if operation.input_shape else []
        for _ in range(self._rng.randrange(1, 5)):
            name = self._rng.choice(members) if members and self._rng.random() < 0.8 else "X"
            pairs.append((name + self._rng.choice(KEY_SUFFIXES), self._value()))
        if self._rng.random() < 0.05:
            pairs.append(("Action", "ChangePassword"))
        body = "&".join(_quote(k) + "=" + _quote(v) for k, v in pairs).encode(
            "utf-8", "surrogatepass"
        )
        if self._rng.random() < 0.05:
            body = body.replace(b"Action=Get", b"Action=%47et", 1)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        return "POST", "/", self._signed(service, body, headers, sign), body

    def _json(self) -> tuple[str, str, dict[str, str], bytes]:
        operation = self._rng.choice(self._codecommit.operation_names)
        choice = self._rng.random()
        if choice < 0.3:
            body = json.dumps({"repositoryName": self._value()}).encode("utf-8", "surrogatepass")
        elif choice < 0.5:
            body = ("[" * self._rng.randrange(1, 100_000)).encode()
        elif choice < 0.7:
            body = b'{"repositoryName": "\\ud800", "repositoryDescription": NaN}'
        else:
            body = json.dumps({self._value(): self._value()}).encode("utf-8", "surrogatepass")
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"CodeCommit_20150413.{operation}",
        }
        return "POST", "/", self._signed("codecommit", body, headers, True), body

    def _sign_in(self) -> tuple[str, str, dict[str, str], bytes]:
        fields = {
            "account": self._rng.choice(["123456789012", "9" * 5000, self._value()]),
            "userName": self._rng.choice(["admin", self._value()]),
            "password": self._value(),
        }
        if self._rng.random() < 0.5:
            body = json.dumps(fields).encode("utf-8", "surrogatepass")
            return "POST", "/_iamd/signin", {"Content-Type": "application/json"}, body
        body = "&".join(f"{k}={_quote(v)}" for k, v in fields.items())
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        return "POST", "/_iamd/signin", form, body.encode("utf-8", "surrogatepass")

    def _odd(self) -> tuple[str, str, dict[str, str], bytes]:
        method = self._rng.choice(["GET", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"])
        path = self._rng.choice(
            ["/", "/_iamd/health", "/metrics", "/token", "/%ff", "/?Action=GetUser&Action=X"]
        )
        headers = {"Authorization": self._value()[:200].encode("ascii", "ignore").decode()}
        if self._rng.random() < 0.3:
            headers |= {"Upgrade": "websocket", "Connection": "Upgrade"}
        return method, path, headers, b""

    def _signed(
        self, service: str, body: bytes, headers: dict[str, str], sign: bool
    ) -> dict[str, str]:
        url = f"http://127.0.0.1:{self._port}/"
        request = botocore.awsrequest.AWSRequest("POST", url, data=body, headers=dict(headers))
        if sign:
            botocore.auth.SigV4Auth(self._credentials, service, "us-east-1").add_auth(request)
        out = dict(request.headers.items())
        if not sign and self._rng.random() < 0.5:
            out["Authorization"] = (
                ("AWS4-HMAC-SHA256 Credential=" + self._value()[:100] + ", Signature=00")
                .encode("ascii", "ignore")
                .decode()
            )
        return out


def _quote(text: str) -> str:
    return urllib.request.quote(text.encode("utf-8", "surrogatepass"), safe="")


def fuzz(total: int, threads: int, seed: int) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data, open(Path(data).parent / "fuzz.log", "wb") as log:
        server = start_iamd(port, data, KEY_ID, SECRET, ["--no-git-ssh"], log=log)
        statuses: Counter[int] = Counter()
        bad: list[str] = []
        lock = threading.Lock()
        per_thread = total // threads
        started = time.monotonic()

        def work(index: int) -> None:
            generator = _Generator(port, seed * 1000 + index)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(per_thread):
                method, path, headers, body = generator.request()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    if response.getheader("connection", "").lower() == "close":
                        conn.close()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    status = 0  # the server closed the connection (a refused request)
                with lock:
                    statuses[status] += 1
                    if status >= 500 and status not in (501, 503) and len(bad) < 20:
                        bad.append(f"{status} {method} {path} {body[:160]!r}")

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
        server.terminate()
        server.wait(timeout=60)
        log_text = (Path(data).parent / "fuzz.log").read_text(errors="replace")
    sent = sum(statuses.values())
    print(f"{sent} requests in {elapsed:.0f} s ({sent / elapsed:.0f}/s); statuses {dict(statuses)}")
    tracebacks = log_text.count("Traceback")
    print(f"server log: {len(log_text)} bytes, {tracebacks} tracebacks")
    for line in bad:
        print("  ", line)
    server_errors = sum(n for s, n in statuses.items() if s >= 500 and s not in (501, 503))
    if server_errors or tracebacks:
        raise Failed(f"{server_errors} answers 5xx (not 501/503), {tracebacks} tracebacks")


# -- simulation ---------------------------------------------------------------------------


def _health_latencies(port: int, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_iamd/health", timeout=30).read()
        out.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)


def _client(port: int, key: str, secret: str, service: str = "iam") -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120),
    )


def simulate() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = start_iamd(port, data, KEY_ID, SECRET, ["--no-git-ssh", "--no-access-log"])
        try:
            admin = _client(port, KEY_ID, SECRET)
            admin.create_user(UserName="reader")
            admin.attach_user_policy(
                UserName="reader", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
            )
            key = admin.create_access_key(UserName="reader")["AccessKey"]
            reader = _client(port, key["AccessKeyId"], key["SecretAccessKey"])
            policy = json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}],
                }
            )
            actions = [f"iam:GetUser{i}" for i in range(1000)]
            resources = [f"arn:aws:iam::123456789012:user/u{i}" for i in range(1000)]
            stop, health = threading.Event(), []
            poller = threading.Thread(target=_health_latencies, args=(port, stop, health))
            poller.start()
            time.sleep(0.3)
            started = time.perf_counter()
            try:
                page = reader.simulate_custom_policy(
                    PolicyInputList=[policy], ActionNames=actions, ResourceArns=resources
                )
                answer = (
                    f"{len(page['EvaluationResults'])} results, IsTruncated={page['IsTruncated']}"
                )
            except ClientError as error:
                answer = error.response["Error"]["Code"]
            took = (time.perf_counter() - started) * 1000
            time.sleep(0.3)
            stop.set()
            poller.join()
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(
        f"SimulateCustomPolicy 1,000 x 1,000 as IAMReadOnlyAccess: {answer} in {took:.0f} ms; "
        f"health check during it: {len(health)} probes, median "
        f"{statistics.median(health):.1f} ms, worst {max(health):.1f} ms"
    )
    if max(health) >= 50 or took > 5000:
        raise Failed("the health check waited 50 ms or more, or the request took over 5 s")


# -- slow clients -------------------------------------------------------------------------


def _limit_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def slow_clients() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = start_iamd(
            port,
            data,
            KEY_ID,
            SECRET,
            ["--no-git-ssh", "--no-access-log"],
            preexec_fn=_limit_open_files,
        )
        sockets: list[socket.socket] = []
        try:
            for _ in range(1100):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: app")
                sockets.append(sock)
            iam = _client(port, KEY_ID, SECRET)
            latencies, errors = [], 0
            until = time.monotonic() + 20
            while time.monotonic() < until:
                started = time.perf_counter()
                try:
                    iam.get_user()
                    latencies.append((time.perf_counter() - started) * 1000)
                except Exception:
                    errors += 1
                time.sleep(0.2)
            still_waiting = sum(1 for s in sockets if _unanswered(s))
        finally:
            for sock in sockets:
                sock.close()
            server.terminate()
            server.wait(timeout=60)
    print(
        f"1,100 stalled connections, server limited to 1,024 files: {len(latencies)} GetUser "
        f"ok, {errors} failed, median {statistics.median(latencies):.1f} ms, worst "
        f"{max(latencies):.1f} ms; after 20 s {still_waiting} stalled connections had no answer"
    )
    if errors or not latencies:
        raise Failed("a signed GetUser failed while slow connections were open")


def _unanswered(sock: socket.socket) -> bool:
    """Still open with nothing received: neither answered (408) nor closed by the server."""
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


# -- presigned URLs -----------------------------------------------------------------------


def presigned_from_yesterday() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        clock = Path(data) / "clock"
        clock.write_text("0")
        server = start_iamd(
            port,
            str(Path(data) / "d"),
            KEY_ID,
            SECRET,
            ["--no-git-ssh", "--no-access-log", "--test-clock-file", str(clock)],
        )
        try:
            iam = _client(port, KEY_ID, SECRET)
            week = 7 * 24 * 3600
            fresh = iam.generate_presigned_url(
                "create_user", Params={"UserName": "today"}, ExpiresIn=week, HttpMethod="GET"
            )
            old = iam.generate_presigned_url(
                "create_user", Params={"UserName": "yesterday"}, ExpiresIn=week, HttpMethod="GET"
            )
            fresh_status = urllib.request.urlopen(fresh, timeout=30).status  # noqa: S310
            clock.write_text(str(24 * 3600))
            try:
                old_status = urllib.request.urlopen(old, timeout=30).status  # noqa: S310
                old_body = ""
            except urllib.error.HTTPError as error:
                old_status, old_body = error.code, error.read().decode()
            clock.write_text("0")
            names = {u["UserName"] for u in iam.list_users()["Users"]}
        finally:
            server.terminate()
            server.wait(timeout=60)
    code = old_body.split("<Code>")[1].split("</Code>")[0] if "<Code>" in old_body else "-"
    print(
        f"presigned CreateUser used at once: {fresh_status}; one signed a day earlier "
        f"(X-Amz-Expires 7 days): {old_status} {code}; users now {sorted(names)}"
    )
    if fresh_status != 200 or old_status != 403 or "yesterday" in names:
        raise Failed("the day-old presigned URL was honoured")


if __name__ == "__main__":
    main()

"""HTTP benchmark: iamd against moto_server, in the same run, on loopback only.

    python bench/run.py [--quick] [--runs N] [--duration S] [--connections 16]
                        [--users-memory 100000] [--skip-memory] [--only moto|iamd]

Both servers are started on free loopback ports, seeded through boto3, and loaded with requests
pre-signed by botocore (SigV4, service ``iam``, us-east-1) and replayed by ``wrk`` (or by
bench/loadgen.py when wrk is unavailable). See bench/README.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import loadgen  # noqa: E402
import procstat  # noqa: E402
import wrkdriver  # noqa: E402
from signer import IamSigner, tamper  # noqa: E402

HOST = "127.0.0.1"
SERVERS = ("moto", "iamd")
BENCH_USER = "bench-user"
LIST_USERS = 1000
PAIRS = "CreateAccessKey+DeleteAccessKey"
# operation label -> (IAM action, parameters, element a correct answer contains)
REPLAY_OPS: dict[str, tuple[str, dict[str, Any], bytes]] = {
    "GetUser": ("GetUser", {"UserName": BENCH_USER}, b"<GetUserResult>"),
    "ListAccessKeys": ("ListAccessKeys", {"UserName": BENCH_USER}, b"<ListAccessKeysResult>"),
    "ListUsers": ("ListUsers", {"MaxItems": 100}, b"<ListUsersResult>"),
}
OP_ORDER = ("GetUser", "ListAccessKeys", PAIRS, "ListUsers")
OP_LABELS = {
    "GetUser": "GetUser",
    "ListAccessKeys": "ListAccessKeys",
    PAIRS: "Create+DeleteAccessKey (pairs)",
    "ListUsers": "ListUsers MaxItems=100 (1k users)",
    "mem:GetUser": "GetUser, 5k distinct users",
    "mem:ListUsers": "ListUsers MaxItems=100",
}
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- configuration -----------------------------------------------------------------------------


@dataclasses.dataclass
class Config:
    runs: int
    duration: float
    warmup: float
    connections: int
    pair_connections: int
    wrk_threads: int
    users_memory: int
    memory_distinct_users: int
    skip_memory: bool
    servers: tuple[str, ...]
    loadgen: str  # "wrk" or "python"
    wrk: str | None
    seed_concurrency: int
    ready_timeout: float
    keep_tmp: bool
    output: Path | None
    quick: bool


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        description="Compare iamd with moto_server over HTTP on loopback.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 3 s per test, 1 run, 2,000 users for memory (explicit options win)",
    )
    parser.add_argument("--runs", type=int, default=None, help="repeats per test (default 3)")
    parser.add_argument("--duration", type=float, default=None, help="seconds (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each test")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--pair-connections",
        type=int,
        default=4,
        help="connections for CreateAccessKey+DeleteAccessKey (one user each)",
    )
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--users-memory", type=int, default=None, help="default 100000")
    parser.add_argument("--memory-distinct-users", type=int, default=5000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--only", choices=SERVERS, default=None)
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--seed-concurrency", type=int, default=16)
    parser.add_argument("--ready-timeout", type=float, default=90.0)
    parser.add_argument("--keep-tmp", action="store_true", help="keep data dirs and server logs")
    parser.add_argument("--output", type=Path, default=None, help="JSON results path")
    args = parser.parse_args(argv)

    quick: bool = args.quick
    runs = args.runs if args.runs is not None else (1 if quick else 3)
    duration = args.duration if args.duration is not None else (3.0 if quick else 10.0)
    users_memory = (
        args.users_memory if args.users_memory is not None else (2000 if quick else 100_000)
    )
    if runs < 1 or duration <= 0 or args.connections < 1 or args.pair_connections < 1:
        parser.error("--runs, --duration, --connections and --pair-connections must be positive")

    wrk: str | None = None
    mode = args.loadgen
    if mode in ("auto", "wrk"):
        wrk = wrkdriver.wrk_path(install=True)
        if wrk is None:
            if mode == "wrk":
                parser.error("wrk is not installed and could not be installed")
            log("wrk unavailable: falling back to bench/loadgen.py (Python asyncio)")
    return Config(
        runs=runs,
        duration=duration,
        warmup=max(0.0, args.warmup),
        connections=args.connections,
        pair_connections=args.pair_connections,
        wrk_threads=args.wrk_threads,
        users_memory=users_memory,
        memory_distinct_users=args.memory_distinct_users,
        skip_memory=args.skip_memory,
        servers=(args.only,) if args.only else SERVERS,
        loadgen="wrk" if wrk else "python",
        wrk=wrk,
        seed_concurrency=args.seed_concurrency,
        ready_timeout=args.ready_timeout,
        keep_tmp=args.keep_tmp,
        output=args.output,
        quick=quick,
    )


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def venv_bin(name: str) -> str:
    for candidate in (Path(sys.executable).parent / name, REPO_DIR / ".venv" / "bin" / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: run `make bench` (pip install -e '.[bench]')")
    return found


def bootstrap_credentials() -> tuple[str, str]:
    key_id = "AKIA" + "".join(secrets.choice(_B32) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_CHARS) for _ in range(40))
    return key_id, secret


@dataclasses.dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL after 10 s."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop within 10 s of SIGTERM: SIGKILL")
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            self.proc.wait(timeout=10)


def start_server(name: str, cmd: list[str], env: dict[str, str], port: int, tmp: Path) -> Server:
    log_path = tmp / f"{name}.log"
    with open(log_path, "wb") as handle:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(tmp),
            start_new_session=True,  # its own process group: Ctrl-C reaches us, we stop it
        )
    return Server(name, port, proc, log_path)


def http_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", method="GET")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(request, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def wait_ready(server: Server, path: str, want: Callable[[int], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: int | None = None
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(
                f"{server.name} exited with code {server.proc.returncode} before it was ready:\n"
                + server.log_tail()
            )
        last = http_status(server.port, path)
        if last is not None and want(last):
            return
        time.sleep(0.2)
    raise RuntimeError(
        f"{server.name} not ready after {timeout:.0f} s (last GET {path}: {last}):\n"
        + server.log_tail()
    )


def start_moto(tmp: Path, timeout: float, registry: dict[str, Server]) -> Server:
    port = free_port()
    env = dict(os.environ)
    server = start_server(
        "moto", [venv_bin("moto_server"), "-H", HOST, "-p", str(port)], env, port, tmp
    )
    registry[server.name] = server  # registered first, so that it is stopped whatever happens
    # Any HTTP answer means the server loop is up.
    wait_ready(server, "/moto-api/", lambda status: status < 500, timeout)
    return server


def serve_help(iamd: str) -> str:
    proc = subprocess.run(
        [iamd, "serve", "--help"], check=False, capture_output=True, text=True, timeout=60
    )
    return proc.stdout


def start_iamd(
    tmp: Path,
    key_id: str,
    secret: str,
    timeout: float,
    registry: dict[str, Server],
    users_quota: int,
) -> Server:
    port = free_port()
    data_dir = tmp / "iamd-data"
    data_dir.mkdir(exist_ok=True)  # an existing one is served as it is
    env = dict(
        os.environ,
        IAMD_BOOTSTRAP_ACCESS_KEY_ID=key_id,
        IAMD_BOOTSTRAP_SECRET_ACCESS_KEY=secret,
    )
    iamd = venv_bin("iamd")
    cmd = [iamd, "serve", "--host", HOST, "--port", str(port), "--data-dir", str(data_dir)]
    # iamd enforces AWS's 5,000-users quota by default; the memory phase needs more.
    if users_quota > 5000 and "--users-quota" in serve_help(iamd):
        cmd += ["--users-quota", str(users_quota)]
    server = start_server("iamd", cmd, env, port, tmp)
    registry[server.name] = server
    wait_ready(server, "/_iamd/health", lambda status: status == 200, timeout)
    return server


# --- seeding through boto3 ---------------------------------------------------------------------


def boto_client(port: int, key_id: str, secret: str) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.client(
        "iam",
        endpoint_url=f"http://{HOST}:{port}",
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=BotoConfig(
            retries={"max_attempts": 4, "mode": "standard"},
            max_pool_connections=16,
            proxies={},
        ),
    )


def pair_user(k: int) -> str:
    return f"bench-keys-{k:02d}"


def list_user(i: int) -> str:
    return f"bench-list-{i:04d}"


def mem_user(i: int) -> str:
    return f"bench-mem-{i:06d}"


def seed_basic(client: Any, pair_connections: int) -> dict[str, Any]:
    """bench-user with 2 access keys, one user per pair connection, and 1,000 users."""
    started = time.perf_counter()
    client.create_user(UserName=BENCH_USER)
    for _ in range(2):
        client.create_access_key(UserName=BENCH_USER)
    for k in range(pair_connections):
        client.create_user(UserName=pair_user(k))
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: client.create_user(UserName=list_user(i)), range(LIST_USERS)))
    keys = client.list_access_keys(UserName=BENCH_USER)["AccessKeyMetadata"]
    listed = client.list_users(MaxItems=100)
    if len(keys) != 2 or len(listed["Users"]) < 100:
        raise RuntimeError(
            f"seeding check failed: {len(keys)} keys, {len(listed['Users'])} users listed"
        )
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "users_created": LIST_USERS + 1 + pair_connections,
        # moto 5 ignores MaxItems on ListUsers: it answers every user, untruncated.
        "list_users_max_items_100_returned": len(listed["Users"]),
        "list_users_is_truncated": bool(listed.get("IsTruncated")),
    }


# --- measurements ------------------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    name: str
    server: Server
    signer: IamSigner
    verifies_signatures: bool | None = None
    failed_ops: dict[str, str] = dataclasses.field(default_factory=dict)
    runs: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def check_request(target: Target, raw: bytes, expect: bytes) -> str | None:
    """None when one request is answered 200 with the expected element, else why not."""
    try:
        response = loadgen.run_async(loadgen.one(HOST, target.server.port, raw))
    except (OSError, loadgen.HttpError) as exc:
        return f"transport error: {exc!r}"
    if response.status != 200 or expect not in response.body:
        return f"HTTP {response.status}: {response.body[:400]!r}"
    return None


def quiesce(target: Target) -> None:
    waited = procstat.wait_idle(target.server.pid)
    if waited > 2.0:
        log(f"{target.name}: waited {waited:.1f} s for the server to finish in-flight work")


def with_cpu(target: Target, cfg: Config, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    quiesce(target)
    server0, client0 = procstat.cpu_seconds(target.server.pid), children_cpu() + self_cpu()
    summary = measure()
    server_cpu = procstat.cpu_seconds(target.server.pid) - server0
    client_cpu = children_cpu() + self_cpu() - client0
    duration = summary["duration_s"] or cfg.duration
    summary["server_cpu_cores"] = round(server_cpu / duration, 3)
    summary["loadgen_cpu_cores"] = round(client_cpu / duration, 3)
    units = summary["units"]
    summary["server_cpu_ms_per_unit"] = round(server_cpu * 1000 / units, 4) if units else None
    return summary


def replay(target: Target, requests: list[bytes], cfg: Config, tmp: Path) -> dict[str, Any]:
    port = target.server.port
    if cfg.wrk is not None:
        wrk = cfg.wrk
        script = wrkdriver.write_script(requests, str(tmp))
        try:

            def go(seconds: float) -> dict[str, Any]:
                raw = wrkdriver.run_wrk(
                    wrk,
                    HOST,
                    port,
                    script,
                    connections=cfg.connections,
                    threads=cfg.wrk_threads,
                    seconds=seconds,
                )
                return wrkdriver.summarize(raw)

            if cfg.warmup > 0:
                quiesce(target)
                go(cfg.warmup)
            return with_cpu(target, cfg, lambda: go(cfg.duration))
        finally:
            os.unlink(script)

    def py(seconds: float) -> dict[str, Any]:
        coro = loadgen.replay(
            HOST, port, requests, connections=cfg.connections, duration=seconds, warmup=0.0
        )
        return loadgen.run_async(coro).summary()

    if cfg.warmup > 0:
        quiesce(target)
        py(cfg.warmup)
    return with_cpu(target, cfg, lambda: py(cfg.duration))


def key_pairs(target: Target, cfg: Config) -> dict[str, Any]:
    signer = target.signer
    creates = [
        signer.sign_raw("CreateAccessKey", {"UserName": pair_user(k)})
        for k in range(cfg.pair_connections)
    ]

    def sign_delete(k: int, key_id: str) -> bytes:
        return signer.sign_raw("DeleteAccessKey", {"UserName": pair_user(k), "AccessKeyId": key_id})

    def go(seconds: float) -> dict[str, Any]:
        coro = loadgen.key_pairs(
            HOST, target.server.port, creates, sign_delete, duration=seconds, warmup=0.0
        )
        return loadgen.run_async(coro).summary()

    if cfg.warmup > 0:
        quiesce(target)
        go(cfg.warmup)
    return with_cpu(target, cfg, lambda: go(cfg.duration))


def signed_pool(signer: IamSigner, action: str, params: dict[str, Any], n: int = 64) -> list[bytes]:
    return [signer.sign_raw(action, params) for _ in range(n)]


def preflight(target: Target) -> None:
    """Each replayed request must work once; a tampered signature must be refused."""
    for op, (action, params, expect) in REPLAY_OPS.items():
        problem = check_request(target, target.signer.sign_raw(action, params), expect)
        if problem:
            target.failed_ops[op] = problem
            log(f"{target.name}: {op} does not work, it will be skipped: {problem}")
    bad = tamper(target.signer.sign("GetUser", {"UserName": BENCH_USER})).raw()
    response = loadgen.run_async(loadgen.one(HOST, target.server.port, bad))
    target.verifies_signatures = response.status == 403
    log(f"{target.name}: tampered signature -> HTTP {response.status}")


def measure_all(targets: list[Target], cfg: Config, tmp: Path) -> None:
    for run in range(cfg.runs):
        for op in OP_ORDER:
            for target in targets:
                if op in target.failed_ops or not target.server.alive():
                    continue
                try:
                    if op == PAIRS:
                        summary = key_pairs(target, cfg)
                    else:
                        action, params, _ = REPLAY_OPS[op]
                        pool = signed_pool(target.signer, action, params)
                        summary = replay(target, pool, cfg, tmp)
                except (RuntimeError, loadgen.HttpError, subprocess.TimeoutExpired) as exc:
                    target.failed_ops[op] = f"run {run + 1}: {exc}"
                    log(f"{target.name}: {op} failed, no further runs of it: {exc}")
                    continue
                target.runs.setdefault(op, []).append(summary)
                log(
                    f"run {run + 1}/{cfg.runs} {target.name:4} {OP_LABELS[op]:34} "
                    f"{summary['rate']:9.1f}/s p50 {summary['p50_ms']:7.2f} ms "
                    f"p99 {summary['p99_ms']:7.2f} ms  non-2xx {summary['non_2xx']} "
                    f"errors {summary['transport_errors'] + summary['bad_responses']}  "
                    f"server CPU {summary['server_cpu_cores']:.2f} cores"
                )


def median_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("rate", "p50_ms", "p90_ms", "p99_ms", "server_cpu_ms_per_unit", "server_cpu_cores")
    out: dict[str, Any] = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        out[key] = round(statistics.median(values), 4) if values else None
    out["non_2xx"] = sum(r["non_2xx"] for r in runs)
    out["errors"] = sum(r["transport_errors"] + r["bad_responses"] for r in runs)
    out["runs"] = len(runs)
    return out


# --- memory phase ------------------------------------------------------------------------------


def memory_phase(
    target: Target, cfg: Config, tmp: Path, sampler: procstat.RssSampler, client: Any
) -> dict[str, Any]:
    pid = target.server.pid
    signer = target.signer
    n = cfg.users_memory
    rss_before = procstat.tree_kib(pid, "VmRSS")
    log(
        f"memory: seeding {n:,} users x 2 access keys into {target.name} "
        f"({cfg.seed_concurrency} connections, botocore-signed)"
    )

    def make_job(i: int) -> list[Callable[[], bytes]]:
        name = mem_user(i)
        return [
            lambda: signer.sign_raw("CreateUser", {"UserName": name}),
            lambda: signer.sign_raw("CreateAccessKey", {"UserName": name}),
            lambda: signer.sign_raw("CreateAccessKey", {"UserName": name}),
        ]

    def progress(stats: loadgen.BulkStats, elapsed: float) -> None:
        rate = stats.jobs_done / elapsed if elapsed else 0.0
        eta = (n - stats.jobs_done) / rate if rate else float("inf")
        rss = procstat.tree_kib(pid, "VmRSS") / 1024
        log(
            f"memory: {stats.jobs_done:,}/{n:,} users ({rate:,.0f} users/s, "
            f"{stats.requests / elapsed:,.0f} req/s, ETA {eta:,.0f} s), RSS {rss:,.0f} MiB"
        )

    started = time.perf_counter()
    stats = loadgen.run_async(
        loadgen.bulk(
            HOST,
            target.server.port,
            n,
            make_job,
            concurrency=cfg.seed_concurrency,
            progress=progress,
        )
    )
    seed_s = time.perf_counter() - started
    log(
        f"memory: seeded {stats.jobs_done:,} users in {seed_s:,.0f} s "
        f"({stats.requests / seed_s:,.0f} req/s, {stats.retries} retries, "
        f"{stats.failures} failures)"
    )
    rng = random.Random(20240601)
    sample = rng.sample(range(n), min(3, n))
    for i in sample:
        keys = client.list_access_keys(UserName=mem_user(i))["AccessKeyMetadata"]
        if len(keys) != 2:
            log(f"memory: WARNING {mem_user(i)} has {len(keys)} access keys, expected 2")
    time.sleep(1.0)
    rss_idle = procstat.tree_kib(pid, "VmRSS")

    distinct = min(cfg.memory_distinct_users, n)
    get_requests = [
        signer.sign_raw("GetUser", {"UserName": mem_user(i)})
        for i in rng.sample(range(n), distinct)
    ]
    problem = check_request(target, get_requests[0], b"<GetUserResult>")
    loads: dict[str, dict[str, Any]] = {}
    sampler.reset_window()
    if problem is None:
        loads["mem:GetUser"] = replay(target, get_requests, cfg, tmp)
    else:
        log(f"memory: GetUser check failed: {problem}")
    action, params, expect = REPLAY_OPS["ListUsers"]
    list_requests = signed_pool(signer, action, params)
    problem = check_request(target, list_requests[0], expect)
    if problem is None:
        loads["mem:ListUsers"] = replay(target, list_requests, cfg, tmp)
    else:
        log(f"memory: ListUsers check failed: {problem}")
    sampler.sample()
    peak_during = sampler.window_peak_kib.get(target.name, 0)
    for op, summary in loads.items():
        log(
            f"memory: {target.name} {OP_LABELS[op]:34} {summary['rate']:9.1f}/s "
            f"p50 {summary['p50_ms']:7.2f} ms p99 {summary['p99_ms']:7.2f} ms "
            f"non-2xx {summary['non_2xx']}"
        )
    time.sleep(1.0)
    return {
        "server": target.name,
        "users_added": stats.jobs_done,
        "access_keys_added": 2 * stats.jobs_done,
        "seed_seconds": round(seed_s, 1),
        "seed_requests": stats.requests,
        "seed_retries": stats.retries,
        "seed_failures": stats.failures,
        "seed_failure_samples": stats.failure_samples,
        "rss_mib_before_seeding": round(rss_before / 1024, 1),
        "rss_mib_idle_after_seeding": round(rss_idle / 1024, 1),
        "rss_mib_peak_during_load": round(peak_during / 1024, 1),
        "rss_mib_after_load": round(procstat.tree_kib(pid, "VmRSS") / 1024, 1),
        "vmhwm_mib": round(procstat.tree_kib(pid, "VmHWM") / 1024, 1),
        "loads": loads,
    }


# --- report ------------------------------------------------------------------------------------


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(medians: dict[str, dict[str, dict[str, Any]]], servers: Sequence[str]) -> None:
    header = (
        f"{'operation':35} {'moto req/s':>10} {'p50 ms':>7} {'p99 ms':>7}   "
        f"{'iamd req/s':>10} {'p50 ms':>7} {'p99 ms':>7}   {'iamd/moto':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for op, by_server in medians.items():
        cells: list[str] = []
        for name in SERVERS:
            m = by_server.get(name)
            if m is None:
                cells.append(f"{'-':>10} {'-':>7} {'-':>7}")
            else:
                cells.append(
                    f"{fmt(m['rate'], ',.1f'):>10} {fmt(m['p50_ms'], '.2f'):>7} "
                    f"{fmt(m['p99_ms'], '.2f'):>7}"
                )
        moto, iamd = by_server.get("moto"), by_server.get("iamd")
        ratio = (
            f"{iamd['rate'] / moto['rate']:.2f}x"
            if moto and iamd and moto["rate"] and iamd["rate"] is not None
            else "-"
        )
        print(f"{OP_LABELS[op]:35} {cells[0]}   {cells[1]}   {ratio:>9}")
    print()
    cpu_header = f"{'server CPU ms per request or pair':35} " + " ".join(
        f"{name + ' ms':>10}" for name in servers
    )
    print(cpu_header)
    for op, by_server in medians.items():
        cells = [
            f"{fmt(by_server.get(name, {}).get('server_cpu_ms_per_unit'), '.3f'):>10}"
            for name in servers
        ]
        print(f"{OP_LABELS[op]:35} " + " ".join(cells))


def machine_info(cfg: Config) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadgen": cfg.loadgen,
    }
    if cfg.wrk:
        info["wrk"] = wrkdriver.wrk_version(cfg.wrk)
    for module in ("moto", "botocore", "boto3"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    commit = subprocess.run(
        ["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    )
    info["iamd_commit"] = commit.stdout.strip() or None
    dirty = subprocess.run(
        ["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "src"],
        check=False,
        capture_output=True,
        text=True,
    )
    info["iamd_src_modified"] = bool(dirty.stdout.strip())
    return info


# --- main --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    cfg: Config
    tmp: Path
    key_id: str
    secret: str
    servers: dict[str, Server] = dataclasses.field(default_factory=dict)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@dataclasses.dataclass
class Interrupts:
    previous: dict[int, Any] = dataclasses.field(default_factory=dict)

    def __enter__(self) -> Interrupts:
        # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then keeps
        # ignoring it; Ctrl-C and `kill -INT` must always stop the servers cleanly.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self.previous[sig] = signal.signal(sig, _raise_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def iter_targets(run: Run) -> Iterator[Target]:
    for name in run.cfg.servers:
        server = run.servers.get(name)
        if server is None or not server.alive():
            continue
        yield Target(name, server, IamSigner(HOST, server.port, run.key_id, run.secret))


def benchmark(run: Run) -> dict[str, Any]:
    cfg, tmp = run.cfg, run.tmp
    machine = machine_info(cfg)  # before the servers start: the commit they run
    start_errors: dict[str, str] = {}
    for name in cfg.servers:
        log(f"starting {name}...")
        try:
            if name == "moto":
                server = start_moto(tmp, cfg.ready_timeout, run.servers)
            else:
                quota = LIST_USERS + cfg.pair_connections + 10
                if not cfg.skip_memory:
                    quota += cfg.users_memory
                server = start_iamd(
                    tmp, run.key_id, run.secret, cfg.ready_timeout, run.servers, quota
                )
        except RuntimeError as exc:
            # Benchmark whatever does start; the failure is reported with the results.
            start_errors[name] = str(exc)
            log(f"{name} failed to start: {exc}")
            continue
        log(f"{name} ready on {HOST}:{server.port} (pid {server.pid})")
    if not any(name in run.servers and run.servers[name].alive() for name in cfg.servers):
        raise RuntimeError(f"no server started: {start_errors}")

    sampler = procstat.RssSampler(lambda: {n: s.pid for n, s in run.servers.items() if s.alive()})
    sampler.start()
    try:
        targets = list(iter_targets(run))
        clients = {t.name: boto_client(t.server.port, run.key_id, run.secret) for t in targets}
        rss_start = {t.name: procstat.tree_kib(t.server.pid, "VmRSS") for t in targets}
        seeding: dict[str, Any] = {}
        for target in targets:
            log(f"seeding {target.name} through boto3...")
            seeding[target.name] = seed_basic(clients[target.name], cfg.pair_connections)
            log(f"seeded {target.name} in {seeding[target.name]['seconds']} s")
            preflight(target)
        measure_all(targets, cfg, tmp)
        rss_after = {t.name: procstat.tree_kib(t.server.pid, "VmRSS") for t in targets}

        memory: dict[str, Any] | None = None
        if not cfg.skip_memory:
            target = next((t for t in targets if t.name == "iamd"), targets[0])
            if target.server.alive():
                memory = memory_phase(target, cfg, tmp, sampler, clients[target.name])
    finally:
        sampler.stop()

    medians: dict[str, dict[str, dict[str, Any]]] = {}
    for op in OP_ORDER:
        for target in targets:
            if target.runs.get(op):
                medians.setdefault(op, {})[target.name] = median_summary(target.runs[op])
    if memory:
        for op, summary in memory["loads"].items():
            medians.setdefault(op, {})[memory["server"]] = median_summary([summary])

    print_table(medians, cfg.servers)
    print()
    for target in targets:
        print(
            f"{target.name}: RSS {rss_start[target.name] / 1024:,.0f} MiB after start, "
            f"{rss_after[target.name] / 1024:,.0f} MiB after the throughput runs, peak "
            f"{sampler.peak_kib.get(target.name, 0) / 1024:,.0f} MiB; "
            f"tampered signature refused: {target.verifies_signatures}"
        )
        for op, why in target.failed_ops.items():
            print(f"{target.name}: {op} skipped: {why}")
        seeded = seeding.get(target.name, {})
        if seeded.get("list_users_max_items_100_returned", 100) != 100:
            print(
                f"{target.name}: NOTE ListUsers MaxItems=100 answers "
                f"{seeded['list_users_max_items_100_returned']:,} users "
                f"(IsTruncated={seeded['list_users_is_truncated']}): "
                "it ignores MaxItems, so its ListUsers row does more work per request"
            )
    if memory:
        print(
            f"RSS {memory['server']} with +{memory['users_added']:,} users / "
            f"{memory['access_keys_added']:,} keys: idle {memory['rss_mib_idle_after_seeding']:,} "
            f"MiB, peak during load {memory['rss_mib_peak_during_load']:,} MiB "
            f"(VmHWM {memory['vmhwm_mib']:,} MiB), after load {memory['rss_mib_after_load']:,} "
            f"MiB; seeding took {memory['seed_seconds']:,} s"
        )
    return {
        "start_errors": start_errors,
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in dataclasses.asdict(cfg).items()
            if k not in ("keep_tmp", "output")
        },
        "machine": machine,
        "seeding": seeding,
        "servers": {
            t.name: {
                "verifies_signatures": t.verifies_signatures,
                "failed_ops": t.failed_ops,
                "rss_mib_after_start": round(rss_start[t.name] / 1024, 1),
                "rss_mib_after_throughput": round(rss_after[t.name] / 1024, 1),
                "rss_mib_peak": round(sampler.peak_kib.get(t.name, 0) / 1024, 1),
                "runs": t.runs,
            }
            for t in targets
        },
        "medians": medians,
        "memory": memory,
    }


def main(argv: Sequence[str] | None = None) -> int:
    # Loopback only: never let a proxy setting route benchmark traffic elsewhere.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    cfg = parse_args(argv)
    key_id, secret = bootstrap_credentials()
    tmp = Path(tempfile.mkdtemp(prefix="iamd-bench-"))
    run = Run(cfg, tmp, key_id, secret)
    log(
        f"loadgen={cfg.loadgen} runs={cfg.runs} duration={cfg.duration}s warmup={cfg.warmup}s "
        f"connections={cfg.connections} servers={','.join(cfg.servers)} tmp={tmp}"
    )
    results: dict[str, Any] | None = None
    try:
        with Interrupts():
            results = benchmark(run)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except Exception:
        for server in run.servers.values():
            log(f"--- {server.name} log tail ---\n{server.log_tail()}")
        raise
    finally:
        # A second Ctrl-C must not leave a server behind: stopping takes at most 10 s each.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for server in run.servers.values():
            server.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if cfg.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = cfg.output or BENCH_DIR / "results" / f"http-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    log(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

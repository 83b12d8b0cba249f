"""Three iamd nodes on one PostgreSQL behind nginx: mixed load, the revocation bound, faults.

    python bench/cluster.py [--quick] [--runs N] [--duration S] [--connections 16]
                            [--revocations 100] [--faults] [--keep-tmp]

Starts a throwaway PostgreSQL cluster (initdb in a temporary directory, on a free loopback
port; as root it runs as the `postgres` user, like tests/support/postgres.py), three
`iamd serve --database-url postgresql://...` nodes and Debian's nginx as a round-robin load
balancer in front of them (installed with apt-get when missing and root). Then:

1. the mixed load (80 % GetUser/ListAccessKeys, 20 % CreateAccessKey/DeleteAccessKey) against
   one node directly and against the three nodes through nginx, medians of ``--runs``;
2. the revocation bound under that load: a key created and deactivated through node A, used
   through B and C until both refuse it, ``--revocations`` times;
3. with ``--faults``: PostgreSQL restarted (``pg_ctl restart -m fast``) under load, then
   ``kill -9`` of one node under write load, every acknowledged write checked afterwards.

Requests are serialized and signed by botocore (bench/signer.py) and sent by
bench/loadgen.py; nothing leaves 127.0.0.1. See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import loadgen  # noqa: E402
import procstat  # noqa: E402
import run as bench  # noqa: E402
from signer import IamSigner  # noqa: E402

HOST = "127.0.0.1"
NODES = ("a", "b", "c")
READ_USER = "bench-user"
REVOKE_USER = "revoke-user"
_CODE = re.compile(rb"<Code>([^<]+)</Code>")
_KEY_ID = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
_SECRET = re.compile(rb"<SecretAccessKey>([^<]+)</SecretAccessKey>")
log = bench.log


# --- configuration -----------------------------------------------------------------------------


@dataclasses.dataclass
class Config:
    runs: int
    duration: float
    warmup: float
    connections: int
    write_share: float
    revocations: int
    faults: bool
    fault_duration: float
    fault_write_share: float
    ready_timeout: float
    keep_tmp: bool
    output: Path | None
    quick: bool


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: short and few")
    parser.add_argument("--runs", type=int, default=None, help="repeats (default 3; quick 1)")
    parser.add_argument("--duration", type=float, default=None, help="seconds (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--write-share", type=float, default=0.2, help="share of writes")
    parser.add_argument("--revocations", type=int, default=None, help="default 100; quick 20")
    parser.add_argument("--faults", action="store_true", help="PostgreSQL restart, kill -9")
    parser.add_argument("--fault-duration", type=float, default=None, help="default 15; quick 8")
    parser.add_argument("--fault-write-share", type=float, default=0.5)
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    parser.add_argument("--keep-tmp", action="store_true", help="keep data dirs and logs")
    parser.add_argument("--output", type=Path, default=None, help="JSON results path")
    args = parser.parse_args(argv)
    quick: bool = args.quick
    return Config(
        runs=args.runs if args.runs is not None else (1 if quick else 3),
        duration=args.duration if args.duration is not None else (3.0 if quick else 10.0),
        warmup=args.warmup,
        connections=args.connections,
        write_share=args.write_share,
        revocations=args.revocations if args.revocations is not None else (20 if quick else 100),
        faults=args.faults,
        fault_duration=(
            args.fault_duration if args.fault_duration is not None else (8.0 if quick else 15.0)
        ),
        fault_write_share=args.fault_write_share,
        ready_timeout=args.ready_timeout,
        keep_tmp=args.keep_tmp,
        output=args.output,
        quick=quick,
    )


# --- PostgreSQL --------------------------------------------------------------------------------


def postgres_bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        raise SystemExit("PostgreSQL is not installed (run `make system-deps`)")
    return found[-1].parent


def as_cluster_user(args: list[str]) -> list[str]:
    """initdb refuses root: as root the cluster is created and run as `postgres`."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class Postgres:
    """A throwaway cluster with database `iamd`, default durability (fsync, synchronous commit)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="iamd-cluster-pg-"))
        os.chmod(self.base, 0o755)  # noqa: S103 - the postgres user must enter it
        self.bin = postgres_bin_dir()
        self.data = self.base / "data"
        self.sockets = self.base / "sock"
        self.port = bench.free_port()
        self.url = f"postgresql://iamd@{HOST}:{self.port}/iamd"
        self.running = False

    def _run(self, args: list[str], *, check: bool = True) -> None:
        proc = subprocess.run(as_cluster_user(args), capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {proc.stderr or proc.stdout}")

    def _options(self) -> str:
        return (
            f"-c listen_addresses={HOST} -c port={self.port} "
            f"-c unix_socket_directories={self.sockets} -c max_connections=100"
        )

    def start(self) -> None:
        self.data.mkdir()
        self.sockets.mkdir()
        if os.geteuid() == 0:
            for path in (self.base, self.data, self.sockets):
                shutil.chown(path, "postgres")
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "iamd"]
        self._run([*initdb, "--auth=trust", "-E", "UTF8"])
        log_file = str(self.base / "pg.log")
        pg_ctl = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", log_file]
        self._run([*pg_ctl, "-o", self._options(), "-w", "start"])
        self.running = True
        createdb = [str(self.bin / "createdb"), "-h", HOST, "-p", str(self.port), "-U", "iamd"]
        self._run([*createdb, "iamd"])

    def restart(self) -> None:
        """A fast restart: sessions are ended at once, the cluster is back on the same port."""
        pg_ctl = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "pg.log")]
        self._run([*pg_ctl, "-o", self._options(), "-m", "fast", "-w", "restart"])

    def stop(self) -> None:
        if self.running:
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
            self.running = False

    def pid(self) -> int:
        """The postmaster's: its process tree holds every backend."""
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def version(self) -> str:
        proc = subprocess.run(
            [str(self.bin / "postgres"), "--version"], capture_output=True, text=True, check=False
        )
        return proc.stdout.strip()


# --- nginx -------------------------------------------------------------------------------------


def nginx_path() -> str:
    """Debian's nginx; installed with apt-get (no recommends) when missing and root."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit("nginx not found: apt-get install nginx (as root), then run again")
    log("nginx not found: installing the Debian package (apt-get install nginx)...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"]
    quiet: dict[str, Any] = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if subprocess.run(install, check=False, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
        subprocess.run(install, check=False, **quiet)
    if not os.access("/usr/sbin/nginx", os.X_OK):
        raise SystemExit("could not install nginx")
    return "/usr/sbin/nginx"


def nginx_config(prefix: Path, port: int, upstreams: Sequence[int]) -> str:
    """Round robin over the nodes with keep-alive upstream connections.

    - ``Host $http_host``: SigV4 signs the Host header as the client sent it, port included;
      ``$host`` would drop the port and every signature would fail.
    - ``max_fails=1 fail_timeout=3s``: one connection error takes a node out for 3 s.
    - ``proxy_next_upstream error timeout``: nginx's default, spelled out. nginx never passes a
      POST (every IAM Query request is one) to another node once it was sent to one, so only
      requests that never reached a node (connection refused) are retried, reads and writes
      alike: a write is never replayed blindly. A 503 from a node is passed to the client.
    - upstream ``keepalive_timeout 4s`` is below iamd's 5 s, so nginx never reuses a
      connection the node is closing.
    """
    servers = "\n".join(f"    server {HOST}:{p} max_fails=1 fail_timeout=3s;" for p in upstreams)
    temp = "\n".join(
        f"  {kind}_temp_path {prefix / (kind + '_temp')};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "nginx-error.log"} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temp}
  upstream iamd {{
{servers}
    keepalive 64;
    keepalive_timeout 4s;
  }}
  server {{
    listen {HOST}:{port};
    location / {{
      proxy_pass http://iamd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 1s;
      proxy_read_timeout 60s;
      proxy_buffering on;
    }}
  }}
}}
"""


# --- the cluster -------------------------------------------------------------------------------


@dataclasses.dataclass
class Cluster:
    cfg: Config
    tmp: Path
    key_id: str
    secret: str
    pg: Postgres | None = None
    nodes: dict[str, bench.Server] = dataclasses.field(default_factory=dict)
    nginx: bench.Server | None = None
    master_key: str = dataclasses.field(
        default_factory=lambda: base64.b64encode(os.urandom(32)).decode()
    )

    def start_node(self, name: str, port: int | None = None) -> bench.Server:
        assert self.pg is not None
        port = port or bench.free_port()
        data_dir = self.tmp / f"node-{name}"
        data_dir.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
        env |= {
            "IAMD_BOOTSTRAP_ACCESS_KEY_ID": self.key_id,
            "IAMD_BOOTSTRAP_SECRET_ACCESS_KEY": self.secret,
            "IAMD_MASTER_KEY": self.master_key,
        }
        cmd = [
            bench.venv_bin("iamd"),
            *("serve", "--host", HOST, "--port", str(port), "--data-dir", str(data_dir)),
            *("--database-url", self.pg.url, "--no-git-ssh", "--no-access-log"),
            # The fault case creates users by the thousand.
            *("--users-quota", "200000"),
        ]
        server = bench.start_server(f"node-{name}", cmd, env, port, self.tmp)
        self.nodes[name] = server
        bench.wait_ready(server, "/_iamd/health", lambda s: s == 200, self.cfg.ready_timeout)
        return server

    def start(self) -> None:
        self.pg = Postgres()
        self.pg.start()
        log(f"PostgreSQL on {HOST}:{self.pg.port} ({self.pg.version()})")
        # Node a first: it creates the schema and the account, the others find them.
        for name in NODES:
            server = self.start_node(name)
            log(f"node {name} on {HOST}:{server.port}")
        self.start_nginx()

    def start_nginx(self) -> None:
        nginx = nginx_path()
        prefix = self.tmp / "nginx"
        prefix.mkdir()
        port = bench.free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_config(prefix, port, [s.port for s in self.nodes.values()]))
        cmd = [nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
        self.nginx = bench.start_server("nginx", cmd, dict(os.environ), port, self.tmp)
        bench.wait_ready(self.nginx, "/_iamd/health", lambda s: s == 200, self.cfg.ready_timeout)
        version = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
        log(f"nginx on {HOST}:{port} ({version.stderr.strip()}), round robin over 3 nodes")

    def stop(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for server in [*([self.nginx] if self.nginx else []), *self.nodes.values()]:
                server.stop()
            if self.pg is not None:
                self.pg.stop()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if self.pg is not None and not self.cfg.keep_tmp:
                shutil.rmtree(self.pg.base, ignore_errors=True)

    def port(self, target: str) -> int:
        server = self.nginx if target == "nginx" else self.nodes[target]
        assert server is not None
        return server.port

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the nodes (together), nginx and PostgreSQL."""
        assert self.pg is not None
        assert self.nginx is not None
        nodes = sum(procstat.cpu_seconds(s.pid) for s in self.nodes.values() if s.alive())
        return {
            "iamd": nodes,
            "nginx": procstat.cpu_seconds(self.nginx.pid),
            "postgres": procstat.cpu_seconds(self.pg.pid()),
        }

    def signer(self, target: str) -> IamSigner:
        return IamSigner(HOST, self.port(target), self.key_id, self.secret)


def seed(cluster: Cluster, writers: int) -> None:
    """Through node a: the read user with 2 keys, one user per writing connection, and the
    user whose keys the revocation test creates and deactivates (allowed iam:GetUser)."""
    iam = bench.boto_client(cluster.port("a"), cluster.key_id, cluster.secret)
    iam.create_user(UserName=READ_USER)
    for _ in range(2):
        iam.create_access_key(UserName=READ_USER)
    for k in range(writers):
        iam.create_user(UserName=writer_user(k))
    iam.create_user(UserName=REVOKE_USER)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName=REVOKE_USER, PolicyName="get-user", PolicyDocument=json.dumps(policy)
    )


def writer_user(k: int) -> str:
    return f"mix-writer-{k:03d}"


def error_code(response: loadgen.Response) -> str:
    found = _CODE.search(response.body)
    return f"{response.status} {found.group(1).decode() if found else '(no AWS error)'}"


# --- the mixed load ----------------------------------------------------------------------------


class MixedScript:
    """One connection's share of the mixed load: reads of the read user, and writes that
    alternate CreateAccessKey and DeleteAccessKey on this connection's own user (so it never
    holds more than one key, under IAM's limit of two)."""

    def __init__(self, signer: IamSigner, user: str, write_share: float, seed: int) -> None:
        self._signer = signer
        self._user = user
        self._share = write_share
        self._rng = random.Random(seed)
        self._reads = [
            ("GetUser", signer.sign_raw("GetUser", {"UserName": READ_USER}), b"<GetUserResult>"),
            (
                "ListAccessKeys",
                signer.sign_raw("ListAccessKeys", {"UserName": READ_USER}),
                b"<ListAccessKeysResult>",
            ),
        ]
        self._create = signer.sign_raw("CreateAccessKey", {"UserName": user})
        self._pending: str | None = None  # the key this connection created and must delete
        # True when a create's fate is unknown: look at the user's keys. At the start too: a
        # previous run may have ended between a create and its delete.
        self._resync = True
        self._turn = 0
        self.codes: Counter[str] = Counter()

    def next_request(self) -> tuple[str, bytes]:
        if self._resync:
            return "resync", self._signer.sign_raw("ListAccessKeys", {"UserName": self._user})
        if self._rng.random() < self._share:
            if self._pending is not None:
                params = {"UserName": self._user, "AccessKeyId": self._pending}
                return "DeleteAccessKey", self._signer.sign_raw("DeleteAccessKey", params)
            return "CreateAccessKey", self._create
        self._turn ^= 1
        label, raw, _ = self._reads[self._turn]
        return label, raw

    def answered(self, label: str, response: loadgen.Response) -> bool:
        good = self._answered(label, response)
        if not good:
            self.codes[f"{label}: {error_code(response)}"] += 1
        return good

    def _answered(self, label: str, response: loadgen.Response) -> bool:
        if label == "resync":
            if response.status == 200:
                self._resync = False
                keys = _KEY_ID.findall(response.body)
                self._pending = keys[0].decode() if keys else None
            return response.status == 200
        if label == "CreateAccessKey":
            found = _KEY_ID.search(response.body)
            if response.status == 200 and found:
                self._pending = found.group(1).decode()
                return True
            # LimitExceeded: an earlier create whose answer was lost did create a key.
            self._resync = response.status == 409
            return False
        if label == "DeleteAccessKey":
            if response.status in (200, 404):
                self._pending = None
            return response.status == 200
        expect = next(element for name, _, element in self._reads if name == label)
        return response.status == 200 and expect in response.body

    def failed(self, label: str, error: BaseException) -> None:
        self.codes[f"{label}: {type(error).__name__}"] += 1
        if label in ("CreateAccessKey", "DeleteAccessKey"):
            self._resync = True


def mixed_scripts(cluster: Cluster, target: str, connections: int, share: float) -> list[Any]:
    signer = cluster.signer(target)
    return [
        MixedScript(signer, writer_user(k), share, seed=k + 1000 * int(time.time()))
        for k in range(connections)
    ]


def codes_of(scripts: Sequence[Any]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for script in scripts:
        total.update(script.codes)
    return dict(total.most_common())


def run_mixed(cluster: Cluster, target: str) -> dict[str, Any]:
    cfg = cluster.cfg
    scripts = mixed_scripts(cluster, target, cfg.connections, cfg.write_share)
    cpu0 = time.process_time()
    marks: dict[str, dict[str, float]] = {}

    async def mark(name: str) -> None:
        marks[name] = cluster.cpu()

    result = loadgen.run_async(
        loadgen.scripted(
            HOST,
            cluster.port(target),
            scripts,
            duration=cfg.duration,
            warmup=cfg.warmup,
            at=[(0.0, lambda: mark("from")), (cfg.duration, lambda: mark("to"))],
        )
    )
    summary = result.summary()
    # Server CPU per answered request over the window: the least noisy figure on a shared
    # machine (it hardly depends on what else competes for the cores).
    if "from" in marks and "to" in marks and summary["requests"]:
        summary["cpu_ms_per_request"] = {
            part: round((marks["to"][part] - marks["from"][part]) * 1000 / summary["requests"], 3)
            for part in marks["from"]
        }
    summary["loadgen_cpu_share"] = round(
        (time.process_time() - cpu0) / (cfg.duration + cfg.warmup), 3
    )
    summary["failures"] = codes_of(scripts)
    return summary


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(get: Callable[[dict[str, Any]], float]) -> float:
        return round(statistics.median(get(r) for r in runs), 3)

    labels = sorted({label for r in runs for label in r["labels"]})
    return {
        "rate": med(lambda r: r["rate"]),
        "p50_ms": med(lambda r: r["p50_ms"]),
        "p99_ms": med(lambda r: r["p99_ms"]),
        "failed": med(lambda r: r["requests"] - r["units"] + r["transport_errors"]),
        "loadgen_cpu_share": med(lambda r: r["loadgen_cpu_share"]),
        "cpu_ms_per_request": {
            part: round(statistics.median(r["cpu_ms_per_request"][part] for r in runs), 3)
            for part in runs[0].get("cpu_ms_per_request", {})
        },
        "labels": {label: label_medians(runs, label) for label in labels},
    }


def label_medians(runs: list[dict[str, Any]], label: str) -> dict[str, float]:
    rows = [r["labels"].get(label, {}) for r in runs]
    return {
        field: round(statistics.median(row.get(field, 0.0) for row in rows), 3)
        for field in ("rate", "p50_ms", "p99_ms")
    }


def mixed_phase(cluster: Cluster) -> dict[str, Any]:
    cfg = cluster.cfg
    targets = {"1 node (a), direct": "a", "3 nodes behind nginx": "nginx"}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    for n in range(cfg.runs):
        # Alternating targets: the machine's drift falls on both alike.
        for name, target in targets.items():
            summary = run_mixed(cluster, target)
            runs[name].append(summary)
            failed = summary["requests"] - summary["units"] + summary["transport_errors"]
            log(
                f"mixed run {n + 1}/{cfg.runs} {name}: {summary['rate']:.0f} req/s, "
                f"p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, "
                f"{failed} failed, load generator {summary['loadgen_cpu_share']:.0%} of a core, "
                f"server CPU ms/request {summary.get('cpu_ms_per_request')}"
            )
            if summary["failures"]:
                log(f"  failures: {summary['failures']}")
    medians = {name: median_of(r) for name, r in runs.items()}
    return {"runs": runs, "medians": medians}


# --- the revocation bound ----------------------------------------------------------------------


class BackgroundLoad:
    """The mixed load through nginx on a thread of its own, until stopped."""

    def __init__(self, cluster: Cluster, connections: int) -> None:
        self._stop = threading.Event()
        self.scripts = mixed_scripts(cluster, "nginx", connections, cluster.cfg.write_share)
        self.result: loadgen.ScriptedResult | None = None
        self._port = cluster.port("nginx")
        self._thread = threading.Thread(target=self._run, name="background-load", daemon=True)

    def _run(self) -> None:
        self.result = loadgen.run_async(
            loadgen.scripted(
                HOST, self._port, self.scripts, duration=3600.0, warmup=0.0, until=self._stop.is_set
            )
        )

    def __enter__(self) -> BackgroundLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)


async def until_status(
    conn: loadgen.Connection,
    raw: bytes,
    done: Callable[[loadgen.Response], bool],
    limit: float,
    seen: Counter[str],
) -> float:
    """Send ``raw`` every 10 ms until ``done``; the moment of the answer that was. The
    answers before it are counted in ``seen``."""
    deadline = time.perf_counter() + limit
    while True:
        try:
            response = await conn.request(raw)
        except (OSError, asyncio.IncompleteReadError, loadgen.HttpError) as error:
            seen[type(error).__name__] += 1
            response = None
        now = time.perf_counter()
        if response is not None and done(response):
            return now
        if response is not None:
            seen["200" if response.status == 200 else error_code(response)] += 1
        if now > deadline:
            raise RuntimeError(f"no expected answer within {limit} s (last: {response})")
        await asyncio.sleep(0.01)


def refused(response: loadgen.Response) -> bool:
    return response.status == 403 and b"<Code>InvalidClientTokenId</Code>" in response.body


def accepted(response: loadgen.Response) -> bool:
    return response.status == 200


async def revocations(cluster: Cluster, count: int) -> dict[str, Any]:
    admin = cluster.signer("a")
    a = loadgen.Connection(HOST, cluster.port("a"))
    others = {name: loadgen.Connection(HOST, cluster.port(name)) for name in ("b", "c")}
    bounds: list[float] = []
    first_use: list[float] = []
    before_use: Counter[str] = Counter()  # answers to the new key before b and c took it
    before_refusal: Counter[str] = Counter()
    try:
        for n in range(count):
            created = await a.request(admin.sign_raw("CreateAccessKey", {"UserName": REVOKE_USER}))
            key_id, secret = _KEY_ID.search(created.body), _SECRET.search(created.body)
            if created.status != 200 or key_id is None or secret is None:
                raise RuntimeError(f"CreateAccessKey via a: {error_code(created)}")
            kid = key_id.group(1).decode()
            created_at = time.perf_counter()
            probes = {
                name: IamSigner(HOST, cluster.port(name), kid, secret.group(1).decode()).sign_raw(
                    "GetUser"
                )
                for name in others
            }
            # The new key works through b and c (their caches now hold it).
            worked = await asyncio.gather(
                *(until_status(others[x], probes[x], accepted, 10.0, before_use) for x in others)
            )
            first_use.append(max(worked) - created_at)
            update = {"UserName": REVOKE_USER, "AccessKeyId": kid, "Status": "Inactive"}
            deactivated = await a.request(admin.sign_raw("UpdateAccessKey", update))
            acknowledged = time.perf_counter()
            if deactivated.status != 200:
                raise RuntimeError(f"UpdateAccessKey via a: {error_code(deactivated)}")
            gone = await asyncio.gather(
                *(until_status(others[x], probes[x], refused, 30.0, before_refusal) for x in others)
            )
            bounds.append(max(gone) - acknowledged)
            delete = {"UserName": REVOKE_USER, "AccessKeyId": kid}
            await a.request(admin.sign_raw("DeleteAccessKey", delete))
            if (n + 1) % 20 == 0:
                log(f"revocation {n + 1}/{count}: last {bounds[-1] * 1000:.0f} ms")
    finally:
        for conn in (a, *others.values()):
            await conn.close()
    return {
        "refused_after_s": distribution(bounds),
        "first_use_s": distribution(first_use),
        "answers_before_use": dict(before_use),
        "answers_before_refusal": dict(before_refusal),
    }


def distribution(values: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(loadgen.percentile(ordered, 50), 4),
        "p99": round(loadgen.percentile(ordered, 99), 4),
        "max": round(ordered[-1], 4) if ordered else 0.0,
        "mean": round(statistics.fmean(ordered), 4) if ordered else 0.0,
        "values": [round(v, 4) for v in values],
    }


def revocation_phase(cluster: Cluster) -> dict[str, Any]:
    cfg = cluster.cfg
    with BackgroundLoad(cluster, cfg.connections) as load:
        started = time.perf_counter()
        result = loadgen.run_async(revocations(cluster, cfg.revocations))
        elapsed = time.perf_counter() - started
    if load.result is not None:
        background = load.result.summary()
        result["background_load"] = {
            "rate": round(background["units"] / elapsed, 1),
            "p99_ms": background["p99_ms"],
            "failed": background["requests"] - background["units"] + background["transport_errors"],
            "failures": codes_of(load.scripts),
        }
    return result


# --- fault cases -------------------------------------------------------------------------------


@dataclasses.dataclass
class Ledger:
    """Every write the load got an answer to, and the ones whose fate it cannot know."""

    users: set[str] = dataclasses.field(default_factory=set)
    keys: dict[str, str] = dataclasses.field(default_factory=dict)  # key id -> user
    unknown_users: set[str] = dataclasses.field(default_factory=set)
    refused_users: set[str] = dataclasses.field(default_factory=set)


class WriteScript:
    """Reads of the read user, and writes: CreateUser with a name never used before, then
    CreateAccessKey for that user once it was acknowledged. Nothing is ever retried."""

    def __init__(self, signer: IamSigner, tag: str, share: float, ledger: Ledger) -> None:
        self._signer = signer
        self._tag = tag
        self._share = share
        self._ledger = ledger
        self._rng = random.Random(tag)
        self._n = 0
        self._key_for: str | None = None
        self._get = signer.sign_raw("GetUser", {"UserName": READ_USER})
        self._current = ""
        self.codes: Counter[str] = Counter()

    def next_request(self) -> tuple[str, bytes]:
        if self._rng.random() >= self._share:
            return "GetUser", self._get
        if self._key_for is not None:
            self._current = self._key_for
            self._key_for = None
            return "CreateAccessKey", self._signer.sign_raw(
                "CreateAccessKey", {"UserName": self._current}
            )
        self._n += 1
        self._current = f"fault-{self._tag}-{self._n:05d}"
        return "CreateUser", self._signer.sign_raw("CreateUser", {"UserName": self._current})

    def answered(self, label: str, response: loadgen.Response) -> bool:
        good = response.status == 200
        if label == "CreateUser":
            if good:
                self._ledger.users.add(self._current)
                self._key_for = self._current
            elif response.status >= 500:
                self._ledger.unknown_users.add(self._current)
            else:
                self._ledger.refused_users.add(self._current)
        elif label == "CreateAccessKey":
            found = _KEY_ID.search(response.body)
            if good and found:
                self._ledger.keys[found.group(1).decode()] = self._current
        if not good:
            self.codes[f"{label}: {error_code(response)}"] += 1
        return good

    def failed(self, label: str, error: BaseException) -> None:
        self.codes[f"{label}: {type(error).__name__}"] += 1
        if label == "CreateUser":
            self._ledger.unknown_users.add(self._current)


def verify(cluster: Cluster, ledger: Ledger, via: Sequence[str]) -> dict[str, Any]:
    """Each acknowledged user and key, looked up through every node in ``via``."""
    found: dict[str, Any] = {}
    for name in via:
        iam = bench.boto_client(cluster.port(name), cluster.key_id, cluster.secret)
        users: set[str] = set()
        for page in iam.get_paginator("list_users").paginate(PathPrefix="/"):
            users.update(u["UserName"] for u in page["Users"])
        keys: set[str] = set()
        for user in sorted(set(ledger.keys.values())):
            for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                keys.add(key["AccessKeyId"])
        found[name] = {
            "acknowledged_users_missing": sorted(ledger.users - users),
            "acknowledged_keys_missing": sorted(set(ledger.keys) - keys),
            "unacknowledged_users_that_exist": len(ledger.unknown_users & users),
        }
    return found


async def restart_postgres(cluster: Cluster, marks: dict[str, float]) -> None:
    assert cluster.pg is not None
    marks["restart_begun"] = time.perf_counter()
    await asyncio.to_thread(cluster.pg.restart)
    marks["restart_done"] = time.perf_counter()
    log(f"PostgreSQL restarted in {marks['restart_done'] - marks['restart_begun']:.2f} s")


async def kill_node(cluster: Cluster, name: str, marks: dict[str, float]) -> None:
    node = cluster.nodes[name]
    marks["killed"] = time.perf_counter()
    os.kill(node.pid, signal.SIGKILL)
    await asyncio.to_thread(node.proc.wait)
    log(f"node {name} killed (SIGKILL, pid {node.pid})")


def fault_run(
    cluster: Cluster, tag: str, inject: Callable[[dict[str, float]], Any]
) -> tuple[dict[str, Any], Ledger, dict[str, float]]:
    cfg = cluster.cfg
    ledger = Ledger()
    signer = cluster.signer("nginx")
    scripts = [
        WriteScript(signer, f"{tag}{k:02d}", cfg.fault_write_share, ledger)
        for k in range(cfg.connections)
    ]
    marks: dict[str, float] = {}
    at = cfg.fault_duration / 3

    async def action() -> None:
        await inject(marks)

    started = time.perf_counter() + 1.0
    result = loadgen.run_async(
        loadgen.scripted(
            HOST,
            cluster.port("nginx"),
            scripts,
            duration=cfg.fault_duration,
            warmup=1.0,
            request_timeout=120.0,
            at=[(at, action)],
        )
    )
    summary = result.summary()
    summary["fault_at_s"] = round(at, 2)
    summary["failures"] = codes_of(scripts)
    summary["marks_s"] = {k: round(v - started, 3) for k, v in marks.items()}
    return summary, ledger, marks


def postgres_restart_case(cluster: Cluster) -> dict[str, Any]:
    log("fault: PostgreSQL restarted (pg_ctl restart -m fast) under the load, through nginx")
    summary, ledger, _ = fault_run(cluster, "pg", lambda marks: restart_postgres(cluster, marks))
    health = {name: bench.http_status(s.port, "/_iamd/health") for name, s in cluster.nodes.items()}
    # Each node, asked directly, serves again (no restart of its own).
    served = {}
    for name in NODES:
        reply = loadgen.run_async(
            loadgen.one(
                HOST,
                cluster.port(name),
                cluster.signer(name).sign_raw("ListUsers", {"MaxItems": 1}),
            )
        )
        served[name] = reply.status
    summary["after"] = {"health": health, "ListUsers_direct": served}
    summary["verify"] = verify(cluster, ledger, NODES)
    summary["acknowledged"] = {"users": len(ledger.users), "keys": len(ledger.keys)}
    return summary


_NGINX_EVENTS = {
    "node taken out (upstream server temporarily disabled)": "temporarily disabled",
    "connection refused (request passed to another node)": "Connection refused",
    "connection reset or closed with a request on it (502)": "prematurely closed",
    "connection reset by peer (502)": "reset by peer",
}


def nginx_events(cluster: Cluster) -> dict[str, int]:
    """What nginx's error log says it did about the nodes (lines since the start)."""
    try:
        text = (cluster.tmp / "nginx" / "nginx-error.log").read_text(errors="replace")
    except OSError:
        return {}
    return {name: text.count(needle) for name, needle in _NGINX_EVENTS.items()}


def kill_case(cluster: Cluster) -> dict[str, Any]:
    log("fault: kill -9 of node c under write load, through nginx")
    before = nginx_events(cluster)
    summary, ledger, _ = fault_run(cluster, "kill", lambda marks: kill_node(cluster, "c", marks))
    after = nginx_events(cluster)
    summary["nginx_error_log"] = {name: after[name] - before.get(name, 0) for name in after}
    summary["verify"] = verify(cluster, ledger, ("a", "b"))
    summary["acknowledged"] = {
        "users": len(ledger.users),
        "keys": len(ledger.keys),
        "users_unknown_fate": len(ledger.unknown_users),
    }
    # The killed node started again on its port: it rejoins with nothing to recover (its
    # state is all in PostgreSQL), and nginx sends it requests again after fail_timeout.
    killed = cluster.nodes["c"]
    killed.log_path.rename(killed.log_path.with_suffix(".killed.log"))
    began = time.perf_counter()
    cluster.start_node("c", killed.port)
    summary["restarted_healthy_after_s"] = round(time.perf_counter() - began, 2)
    log(f"node c started again: healthy after {summary['restarted_healthy_after_s']} s")
    summary["verify"] |= verify(cluster, ledger, ("c",))
    return summary


def fault_phase(cluster: Cluster) -> dict[str, Any]:
    # The restart first: it needs all three nodes; the kill leaves two.
    return {"postgres_restart": postgres_restart_case(cluster), "kill_node": kill_case(cluster)}


# --- report ------------------------------------------------------------------------------------


def print_report(results: dict[str, Any]) -> None:
    mixed = results["mixed"]["medians"]
    print()
    print(f"mixed load: {int(results['config']['write_share'] * 100)} % writes, medians")
    print(f"{'target':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for name, m in mixed.items():
        line = f"{m['rate']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {m['failed']:7.0f}"
        print(f"{name:28} {line}")
        for label, lm in m["labels"].items():
            print(f"  {label:26} {lm['rate']:8.0f} {lm['p50_ms']:8.2f} {lm['p99_ms']:8.2f}")
    for name, m in mixed.items():
        print(f"server CPU ms per request, {name}: {m['cpu_ms_per_request']}")
    names = list(mixed)
    if len(names) == 2 and mixed[names[0]]["rate"]:
        print(f"3 nodes / 1 node: {mixed[names[1]]['rate'] / mixed[names[0]]['rate']:.2f}x")
    rev = results["revocation"]["refused_after_s"]
    print()
    print(
        f"revocation, deactivation acknowledged -> refused by b and c ({rev['n']} keys): "
        f"p50 {rev['p50'] * 1000:.0f} ms, p99 {rev['p99'] * 1000:.0f} ms, "
        f"max {rev['max'] * 1000:.0f} ms; target p99 <= 1 s: "
        + ("met" if rev["p99"] <= 1.0 else "NOT met")
    )
    first = results["revocation"]["first_use_s"]
    print(
        f"  new key accepted by b and c after: p50 {first['p50'] * 1000:.0f} ms, "
        f"max {first['max'] * 1000:.0f} ms; answers before: "
        f"{results['revocation']['answers_before_use']}"
    )
    print(f"  answers before the refusal: {results['revocation']['answers_before_refusal']}")
    background = results["revocation"].get("background_load")
    if background:
        print(f"  background load through nginx: {background['rate']:.0f} req/s")
    faults = results.get("faults")
    if not faults:
        return
    for name, case in faults.items():
        print()
        failed = case["requests"] - case["units"] + case["transport_errors"]
        print(
            f"{name}: {case['requests'] + case['transport_errors']} requests, {failed} failed, "
            f"longest {case['longest_request_ms']:.0f} ms, timeouts {case['timeouts']}, "
            f"marks {case['marks_s']}"
        )
        print(f"  failures: {case['failures']}")
        print(f"  acknowledged writes: {case['acknowledged']}; checked: {case['verify']}")
        print(f"  good answers per second: {case['timeline_ok']}")
        print(f"  failed answers per second: {case['timeline_bad']}")
        if "after" in case:
            print(f"  after: {case['after']}")
        if "nginx_error_log" in case:
            print(f"  nginx's error log: {case['nginx_error_log']}")
        if "restarted_healthy_after_s" in case:
            print(f"  node c started again, healthy after {case['restarted_healthy_after_s']} s")


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    key_id, secret = bench.bootstrap_credentials()
    tmp = Path(tempfile.mkdtemp(prefix="iamd-cluster-"))
    cluster = Cluster(cfg, tmp, key_id, secret)
    results: dict[str, Any] = {"config": dataclasses.asdict(cfg) | {"output": str(cfg.output)}}
    try:
        with bench.Interrupts():
            cluster.start()
            assert cluster.pg is not None
            results["versions"] = {
                "postgresql": cluster.pg.version(),
                "iamd_commit": subprocess.run(
                    ["git", "-C", str(BENCH_DIR), "rev-parse", "--short", "HEAD"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.strip(),
            }
            seed(cluster, cfg.connections)
            results["mixed"] = mixed_phase(cluster)
            log(f"revocation bound: {cfg.revocations} keys, under the mixed load through nginx")
            results["revocation"] = revocation_phase(cluster)
            if cfg.faults:
                results["faults"] = fault_phase(cluster)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except Exception:
        for server in [*cluster.nodes.values(), *([cluster.nginx] if cluster.nginx else [])]:
            log(f"--- {server.name} log tail ---\n{server.log_tail()}")
        raise
    finally:
        cluster.stop()
        if cfg.keep_tmp:
            log(f"kept {tmp}" + (f" and {cluster.pg.base}" if cluster.pg else ""))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print_report(results)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = cfg.output or BENCH_DIR / "results" / f"cluster-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    log(f"results written to {out}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())

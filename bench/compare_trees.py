"""GetUser throughput of two iamd source trees, served side by side, in alternating runs.

    python bench/compare_trees.py BEFORE_TREE AFTER_TREE [--rounds 12] [--seconds 5]
    python bench/compare_trees.py . . --after-flag=--audit-trail   # one tree, two settings
    python bench/compare_trees.py BEFORE AFTER --workload pairs    # the write path

For "does this change slow the hot path?" questions (an issue's "no more than 5 %"): both
servers run at once on loopback (each `python -m iamd serve` with PYTHONPATH=TREE/src),
each seeded with one user, and wrk replays one signed GetUser against them in turn,
BEFORE first in even rounds and AFTER first in odd ones, so drift in the machine's load
falls on both alike. Prints the median throughput and server CPU per request of each,
and their ratios. `--workload pairs` replays CreateAccessKey+DeleteAccessKey pairs over
`--connections` (default 4 for pairs) connections with bench/loadgen.py instead (one user
per connection, as bench/run.py's pair test), and prints pairs/s, p99 and CPU per pair.
Needs wrk and boto3 (`make bench` installs what bench/ needs). A
worktree of the earlier commit makes BEFORE: `git worktree add /tmp/before HEAD~1`.
`--before-flag`/`--after-flag` (repeatable) add `iamd serve` options to one side: the
same tree twice with `--after-flag=--audit-trail` is the audit trail's cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

import boto3

import loadgen
import procstat
import wrkdriver
from iamd_process import free_port
from signer import IamSigner

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _start(tree: Path, data_dir: Path, flags: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env |= {
        "IAMD_BOOTSTRAP_ACCESS_KEY_ID": KEY_ID,
        "IAMD_BOOTSTRAP_SECRET_ACCESS_KEY": SECRET,
        "PYTHONPATH": str(tree / "src"),
    }
    command = [sys.executable, "-m", "iamd", "serve", "--port", str(port), "--no-git-ssh"]
    server = subprocess.Popen(
        [*command, "--data-dir", str(data_dir), *flags],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_iamd/health", timeout=1)
            return server, port
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"iamd from {tree} exited with {server.returncode}") from None
            subprocess.run(["sleep", "0.1"], check=False)
    raise RuntimeError(f"iamd from {tree} did not become healthy")


def _getuser_round(
    wrk: str, port: int, iam: object, signer: IamSigner, work: Path, connections: int
) -> Callable[[float], tuple[int, float | None]]:
    """One seeded user's signed GetUser, replayed by wrk."""
    iam.create_user(UserName="bench-user")  # type: ignore[attr-defined]
    raw = signer.sign_raw("GetUser", {"UserName": "bench-user"})
    script = wrkdriver.write_script([raw], str(work))

    def run(seconds: float) -> tuple[int, float | None]:
        result = wrkdriver.run_wrk(
            wrk, "127.0.0.1", port, script, connections=connections, threads=1, seconds=seconds
        )
        return int(result["requests"]), None

    return run


def _pairs_round(
    port: int, iam: object, signer: IamSigner, connections: int
) -> Callable[[float], tuple[int, float | None]]:
    """CreateAccessKey+DeleteAccessKey pairs, one user per connection (bench/run.py's)."""
    users = [f"pair-{k}" for k in range(connections)]
    for user in users:
        iam.create_user(UserName=user)  # type: ignore[attr-defined]
    creates = [signer.sign_raw("CreateAccessKey", {"UserName": user}) for user in users]

    def sign_delete(k: int, key_id: str) -> bytes:
        return signer.sign_raw("DeleteAccessKey", {"UserName": users[k], "AccessKeyId": key_id})

    def run(seconds: float) -> tuple[int, float | None]:
        coro = loadgen.key_pairs(
            "127.0.0.1", port, creates, sign_delete, duration=seconds, warmup=0.0
        )
        summary = loadgen.run_async(coro).summary()
        return int(summary["units"]), float(summary["p99_ms"])

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workload", choices=("getuser", "pairs"), default="getuser")
    parser.add_argument("--connections", type=int, default=None, help="16 (GetUser), 4 (pairs)")
    parser.add_argument("--before-flag", action="append", default=[], metavar="FLAG")
    parser.add_argument("--after-flag", action="append", default=[], metavar="FLAG")
    args = parser.parse_args()
    pairs = args.workload == "pairs"
    connections = args.connections or (4 if pairs else 16)
    unit = "pairs" if pairs else "GetUser"
    per = "pair" if pairs else "request"
    flags = {"before": args.before_flag, "after": args.after_flag}
    wrk = None if pairs else wrkdriver.wrk_path(install=True)
    if not pairs and wrk is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    work = Path(tempfile.mkdtemp(prefix="iamd-compare-"))
    servers: dict[str, subprocess.Popen[bytes]] = {}
    rounds: dict[str, Callable[[float], tuple[int, float | None]]] = {}
    try:
        for name, tree in trees.items():
            servers[name], port = _start(tree, work / name, flags[name])
            iam = boto3.client(
                "iam",
                endpoint_url=f"http://127.0.0.1:{port}",
                aws_access_key_id=KEY_ID,
                aws_secret_access_key=SECRET,
                region_name="us-east-1",
            )
            signer = IamSigner("127.0.0.1", port, KEY_ID, SECRET)
            if pairs:
                rounds[name] = _pairs_round(port, iam, signer, connections)
            else:
                assert wrk is not None
                rounds[name] = _getuser_round(wrk, port, iam, signer, work, connections)
            rounds[name](2)  # warm-up: caches filled, code paths compiled
        rates: dict[str, list[float]] = {name: [] for name in trees}
        cpu_ms: dict[str, list[float]] = {name: [] for name in trees}
        p99s: dict[str, list[float]] = {name: [] for name in trees}
        for round_number in range(args.rounds):
            order = list(trees) if round_number % 2 == 0 else list(reversed(list(trees)))
            for name in order:
                before_cpu = procstat.cpu_seconds(servers[name].pid)
                units, p99 = rounds[name](args.seconds)
                rates[name].append(units / args.seconds)
                cpu = procstat.cpu_seconds(servers[name].pid) - before_cpu
                cpu_ms[name].append(cpu / max(units, 1) * 1e3)
                if p99 is not None:
                    p99s[name].append(p99)
        for name, tree in trees.items():
            p99_text = f", p99 median {statistics.median(p99s[name]):.1f} ms" if p99s[name] else ""
            print(
                f"{name:6} {tree} {' '.join(flags[name])}: "
                f"{unit} median {statistics.median(rates[name]):,.0f}/s "
                f"(runs {min(rates[name]):,.0f}-{max(rates[name]):,.0f}){p99_text}, "
                f"server CPU {statistics.median(cpu_ms[name]):.4f} ms/{per}"
            )
        throughput = statistics.median(rates["after"]) / statistics.median(rates["before"])
        cpu = statistics.median(cpu_ms["after"]) / statistics.median(cpu_ms["before"])
        print(f"after/before: throughput {throughput:.3f}, server CPU per unit {cpu:.3f}")
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()

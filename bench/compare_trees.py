"""GetUser throughput of two iamd source trees, served side by side, in alternating runs.

    python bench/compare_trees.py BEFORE_TREE AFTER_TREE [--rounds 12] [--seconds 5]
    python bench/compare_trees.py . . --after-flag=--audit-trail   # one tree, two settings

For "does this change slow the hot path?" questions (an issue's "no more than 5 %"): both
servers run at once on loopback (each `python -m iamd serve` with PYTHONPATH=TREE/src),
each seeded with one user, and wrk replays one signed GetUser against them in turn,
BEFORE first in even rounds and AFTER first in odd ones, so drift in the machine's load
falls on both alike. Prints the median throughput and server CPU per request of each,
and their ratios. Needs wrk and boto3 (`make bench` installs what bench/ needs). A
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
from pathlib import Path

import boto3

import wrkdriver
from iamd_process import free_port
from signer import IamSigner

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--before-flag", action="append", default=[], metavar="FLAG")
    parser.add_argument("--after-flag", action="append", default=[], metavar="FLAG")
    args = parser.parse_args()
    flags = {"before": args.before_flag, "after": args.after_flag}
    wrk = wrkdriver.wrk_path(install=True)
    if wrk is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    work = Path(tempfile.mkdtemp(prefix="iamd-compare-"))
    servers: dict[str, subprocess.Popen[bytes]] = {}
    ports: dict[str, int] = {}
    scripts: dict[str, str] = {}
    try:
        for name, tree in trees.items():
            servers[name], ports[name] = _start(tree, work / name, flags[name])
            endpoint = f"http://127.0.0.1:{ports[name]}"
            iam = boto3.client(
                "iam",
                endpoint_url=endpoint,
                aws_access_key_id=KEY_ID,
                aws_secret_access_key=SECRET,
                region_name="us-east-1",
            )
            iam.create_user(UserName="bench-user")
            signer = IamSigner("127.0.0.1", ports[name], KEY_ID, SECRET)
            raw = signer.sign_raw("GetUser", {"UserName": "bench-user"})
            scripts[name] = wrkdriver.write_script([raw], str(work))
            # Warm-up: caches filled, code paths compiled.
            wrkdriver.run_wrk(
                wrk, "127.0.0.1", ports[name], scripts[name], connections=16, threads=1, seconds=2
            )
        rates: dict[str, list[float]] = {name: [] for name in trees}
        cpu_ms: dict[str, list[float]] = {name: [] for name in trees}
        for round_number in range(args.rounds):
            order = list(trees) if round_number % 2 == 0 else list(reversed(list(trees)))
            for name in order:
                before_cpu = _cpu_seconds(servers[name].pid)
                result = wrkdriver.run_wrk(
                    wrk,
                    "127.0.0.1",
                    ports[name],
                    scripts[name],
                    connections=args.connections,
                    threads=1,
                    seconds=args.seconds,
                )
                requests = int(result["requests"])
                rates[name].append(requests / args.seconds)
                cpu_ms[name].append((_cpu_seconds(servers[name].pid) - before_cpu) / requests * 1e3)
        for name, tree in trees.items():
            print(
                f"{name:6} {tree} {' '.join(flags[name])}: "
                f"GetUser median {statistics.median(rates[name]):,.0f}/s "
                f"(runs {min(rates[name]):,.0f}-{max(rates[name]):,.0f}), "
                f"server CPU {statistics.median(cpu_ms[name]):.4f} ms/request"
            )
        throughput = statistics.median(rates["after"]) / statistics.median(rates["before"])
        cpu = statistics.median(cpu_ms["after"]) / statistics.median(cpu_ms["before"])
        print(f"after/before: throughput {throughput:.3f}, server CPU per request {cpu:.3f}")
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()

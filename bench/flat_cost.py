"""Whether a request costs the same in a small account and a large one (issue 19, goal 6).

For each account size (10, 1,000 and 100,000 users by default; all but a few written
straight into the database as bench/credential_report.py does, seeding that many
through the API takes long), one fresh iamd serves sequential boto3 requests: GetUser
and ListAccessKeys of users spread over the account, CreateAccessKey+DeleteAccessKey
pairs, and AssumeRole. Prints each operation's median and p99 latency and the server's
CPU per request at each size, and the largest size's median against the smallest's
(the goal: within 20 %).

Usage: .venv/bin/python bench/flat_cost.py [--sizes 10,1000,100000] [--requests 300]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
import procstat
import run
from credential_report import seed_database

_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)


def _timed(call: Callable[[], Any], n: int, server: run.Server) -> dict[str, float]:
    call()  # warm: caches filled, code paths taken once
    latencies = []
    before = procstat.cpu_seconds(server.pid)
    for _ in range(n):
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)
    cpu = (procstat.cpu_seconds(server.pid) - before) / n * 1000
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "cpu": cpu,
    }


def measure(tmp: Path, size: int, n: int) -> dict[str, dict[str, float]]:
    key_id, secret = run.bootstrap_credentials()
    registry: dict[str, run.Server] = {}
    where = tmp / f"size-{size}"
    where.mkdir()
    server = run.start_iamd(where, key_id, secret, 60, registry, users_quota=size + 10)
    server.stop()
    seeded = max(size - 2, 0)
    seed_database(where / "iamd-data", seeded)
    server = run.start_iamd(where, key_id, secret, 120, registry, users_quota=size + 10)
    try:
        iam = run.boto_client(server.port, key_id, secret)
        sts = boto3.client(
            "sts",
            endpoint_url=f"http://{run.HOST}:{server.port}",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            region_name="us-east-1",
        )
        iam.create_user(UserName="flat-keys")
        role_arn = iam.create_role(RoleName="flat-role", AssumeRolePolicyDocument=_TRUST)["Role"][
            "Arn"
        ]
        # Users spread over the account (S311: which users, not a secret).
        spread = [f"scale-{random.randrange(seeded):06d}" for _ in range(64)]
        names = spread if seeded else ["flat-keys"]
        picks = itertools.cycle(names)

        def pair() -> None:
            key = iam.create_access_key(UserName="flat-keys")["AccessKey"]["AccessKeyId"]
            iam.delete_access_key(UserName="flat-keys", AccessKeyId=key)

        return {
            "GetUser": _timed(lambda: iam.get_user(UserName=next(picks)), n, server),
            "ListAccessKeys": _timed(lambda: iam.list_access_keys(UserName=next(picks)), n, server),
            "CreateAccessKey+DeleteAccessKey": _timed(pair, n, server),
            "AssumeRole": _timed(
                lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="flat"), n, server
            ),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,100000")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="iamd-flat-") as tmp:
        for size in sizes:
            run.log(f"{size} users")
            results[size] = measure(Path(tmp), size, args.requests)
    operations = list(results[sizes[0]])
    print(
        f"{'operation':34}"
        + "".join(f"{f'{s:,} users p50/p99/cpu ms':>30}" for s in sizes)
        + f"{'largest/smallest p50':>22}"
    )
    for op in operations:
        cells = "".join(
            f"{results[s][op]['p50']:>12.2f}{results[s][op]['p99']:>9.2f}{results[s][op]['cpu']:>9.3f}"
            for s in sizes
        )
        ratio = results[sizes[-1]][op]["p50"] / results[sizes[0]][op]["p50"]
        print(f"{op:34}{cells}{ratio:>22.2f}")


if __name__ == "__main__":
    main()

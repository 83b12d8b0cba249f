"""Can the timing of `POST /_iamd/signin` tell an existing user from a name that is none?

Starts `iamd serve` on a loopback port with a throwaway data directory, creates
`--samples` users with a password, then sends one wrong-password attempt for each of
them and one for as many names that do not exist, interleaved in random order over one
keep-alive connection (every name is tried once, so no attempt is throttled): in pairs,
one known and one unknown name, in random order within the pair, so that a change of
the machine's load hits both alike. Prints the median and quartiles of both, the
difference of the medians with a bootstrap 95 % interval, the median of the paired
differences, and a two-sided Mann-Whitney U test (normal approximation): a p-value far
below 0.05 means the two can be told apart.

    .venv/bin/python -m bench.sign_in_timing [--samples 200] [--rounds 1] [--seed 1]
        [--fast-hashing]

`--fast-hashing` starts the server with argon2 at its cheapest (the hidden test option
`--test-fast-password-hashing`): the argon2 check costs the same on both paths, and
without its 25 ms, and the noise a loaded machine adds to it, any other difference of
work stands out.

This is a probe, not a test: it asserts nothing, and its numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence

import boto3
from bench.iamd_process import free_port, start_iamd

KEY_ID = "AKIAIAMDBENCHSIGNIN1"
SECRET = "iamdBenchSignInSecretKey00000000000000000"
ACCOUNT = "123456789012"
WRONG = "Not-The-Password-1"


def _start(port: int, data: str, *, fast_hashing: bool) -> subprocess.Popen[bytes]:
    args = ["--no-git-ssh", "--no-access-log"]
    return start_iamd(
        port,
        data,
        KEY_ID,
        SECRET,
        [*args, *(["--test-fast-password-hashing"] if fast_hashing else [])],
    )


def _attempt(conn: http.client.HTTPConnection, user: str) -> tuple[float, int]:
    body = json.dumps({"account": ACCOUNT, "userName": user, "password": WRONG})
    started = time.perf_counter()
    conn.request("POST", "/_iamd/signin", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return (time.perf_counter() - started) * 1000, response.status


def _mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test, normal approximation with ties."""
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    ranks = [0.0] * len(pooled)
    tie_term = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        size = j - i + 1
        tie_term += size**3 - size
        i = j + 1
    n1, n2 = len(a), len(b)
    r1 = sum(rank for rank, (_, group) in zip(ranks, pooled, strict=True) if group == 0)
    u = r1 - n1 * (n1 + 1) / 2
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    z = (u - n1 * n2 / 2) / sigma if sigma else 0.0
    return math.erfc(abs(z) / math.sqrt(2))


def _bootstrap_median_difference(
    a: Sequence[float], b: Sequence[float], rng: random.Random, rounds: int = 2000
) -> tuple[float, float]:
    differences = sorted(
        statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b)))
        for _ in range(rounds)
    )
    return differences[int(rounds * 0.025)], differences[int(rounds * 0.975)]


def _describe(name: str, samples: Sequence[float]) -> str:
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return f"{name:<10} n={len(samples):<4} median {median:7.3f} ms  (q1 {q1:.3f}, q3 {q3:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200, help="users, and unknown names")
    parser.add_argument("--rounds", type=int, default=1, help="repeat with fresh names")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fast-hashing", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = _start(port, data, fast_hashing=args.fast_hashing)
        try:
            iam = boto3.client(
                "iam",
                endpoint_url=f"http://127.0.0.1:{port}",
                region_name="us-east-1",
                aws_access_key_id=KEY_ID,
                aws_secret_access_key=SECRET,
            )
            for round_number in range(args.rounds):
                known_names = [f"known-{round_number}-{i}" for i in range(args.samples)]
                for name in known_names:
                    iam.create_user(UserName=name)
                    iam.create_login_profile(UserName=name, Password="Correct-Horse-9")
                rng.shuffle(known_names)
                plan = []
                for i, name in enumerate(known_names):
                    pair = [("known", name), ("unknown", f"nobody-{round_number}-{i}")]
                    rng.shuffle(pair)
                    plan += pair
                # Opened after the seeding: an idle keep-alive connection gets closed.
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for _ in range(20):  # warm-up on names used nowhere else
                    _attempt(conn, f"warmup-{round_number}-{rng.random()}")
                times: dict[str, list[float]] = {"known": [], "unknown": []}
                statuses: dict[str, set[int]] = {"known": set(), "unknown": set()}
                for kind, name in plan:
                    elapsed, status = _attempt(conn, name)
                    times[kind].append(elapsed)
                    statuses[kind].add(status)
                known, unknown = times["known"], times["unknown"]
                low, high = _bootstrap_median_difference(known, unknown, rng)
                print(f"round {round_number + 1}")
                print(" ", _describe("known", known), "statuses", sorted(statuses["known"]))
                print(" ", _describe("unknown", unknown), "statuses", sorted(statuses["unknown"]))
                difference = statistics.median(known) - statistics.median(unknown)
                print(
                    f"  median known - unknown: {difference:+.3f} ms "
                    f"(bootstrap 95% {low:+.3f} .. {high:+.3f})"
                )
                paired = statistics.median(k - u for k, u in zip(known, unknown, strict=True))
                print(f"  median of paired differences: {paired:+.3f} ms")
                print(f"  Mann-Whitney U two-sided p = {_mann_whitney_p(known, unknown):.3g}")
                conn.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()

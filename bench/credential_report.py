"""How long the credential report takes, and whether other requests wait for it.

Two phases, each repeated --runs times, medians printed:

1. Peer comparison: iamd and moto_server, each seeded through the API with the same
   --peer-users users (one access key each), time GenerateCredentialReport until
   COMPLETE plus GetCredentialReport, and print the ratio.
2. Scale: iamd with --users users (default 100,000) written straight into its database
   (seeding that many through the API takes half an hour), with access keys, passwords
   and MFA devices in the mix; time the report and, while it is being built, the latency
   of GetUser requests sent by another thread (against the same requests before).

Usage: .venv/bin/python bench/credential_report.py [--users N] [--peer-users N] [--runs N]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import select, update

import run
from iamd.store.database import Database
from iamd.store.schema import (
    access_keys,
    account,
    entity_counts,
    login_profiles,
    mfa_devices,
    users,
)


def timed_report(client: Any) -> tuple[float, int]:
    """Seconds from the first GenerateCredentialReport to the report in hand, its bytes."""
    started = time.perf_counter()
    while client.generate_credential_report()["State"] != "COMPLETE":
        time.sleep(0.005)
    complete = time.perf_counter()
    content = client.get_credential_report()["Content"]
    done = time.perf_counter()
    run.log(
        f"  generated in {(complete - started) * 1000:.0f} ms, "
        f"fetched ({len(content)} bytes) in {(done - complete) * 1000:.0f} ms"
    )
    return done - started, len(content)


def forget_report(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "iamd.sqlite3") as conn:
        conn.execute("DELETE FROM credential_reports")


def seed_api(client: Any, count: int) -> None:
    def one(i: int) -> None:
        name = f"report-{i:06d}"
        client.create_user(UserName=name)
        client.create_access_key(UserName=name)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(count)))


def seed_database(data_dir: Path, count: int) -> None:
    """`count` users: half with two keys (one used), a third with a password, some MFA."""
    database = Database(f"sqlite:///{data_dir / 'iamd.sqlite3'}")
    now = datetime.now(UTC)
    batch = 5000
    try:
        with database.read() as conn:
            # The account the server bootstrapped: every row belongs to one.
            account_id = str(conn.execute(select(account.c.account_id)).scalar_one())
        for start in range(0, count, batch):
            user_rows, key_rows, password_rows, mfa_rows = [], [], [], []
            for i in range(start, min(start + batch, count)):
                user_id = f"AIDA{i:016d}"
                name = f"scale-{i:06d}"
                created = now - timedelta(days=i % 400)
                user_rows.append(
                    {
                        "user_id": user_id,
                        "account_id": account_id,
                        "name": name,
                        "name_lower": name,
                        "path": "/",
                        "create_date": created,
                        "password_last_used": created if i % 3 == 0 else None,
                        "permissions_boundary_arn": None,
                    }
                )
                for slot in range(2 if i % 2 == 0 else 1):
                    key_rows.append(
                        {
                            "access_key_id": f"AKIA{slot}{i:015d}",
                            "user_id": user_id,
                            "account_id": account_id,
                            "secret_sealed": secrets.token_bytes(57),
                            "status": "Active" if slot == 0 else "Inactive",
                            "create_date": created,
                            "last_used_date": created if slot == 0 else None,
                            "last_used_service": "iam" if slot == 0 else None,
                            "last_used_region": "us-east-1" if slot == 0 else None,
                        }
                    )
                if i % 3 == 0:
                    password_rows.append(
                        {
                            "user_id": user_id,
                            "account_id": account_id,
                            "password_hash": "$argon2id$bench",
                            "password_reset_required": False,
                            "create_date": created,
                            "password_changed": created,
                            "failed_attempts": 0,
                            "last_failure": None,
                        }
                    )
                if i % 6 == 0:
                    mfa_rows.append(
                        {
                            "serial_number": f"arn:aws:iam::{account_id}:mfa/{name}",
                            "account_id": account_id,
                            "name": name,
                            "name_lower": name,
                            "path": "/",
                            "seed_sealed": secrets.token_bytes(60),
                            "create_date": created,
                            "user_id": user_id,
                            "enable_date": created,
                            "last_used_step": None,
                        }
                    )
            with database.write() as conn:
                conn.execute(users.insert(), user_rows)
                conn.execute(access_keys.insert(), key_rows)
                conn.execute(login_profiles.insert(), password_rows)
                conn.execute(mfa_devices.insert(), mfa_rows)
                # Rows written past the repositories: their count too (entity_counts).
                conn.execute(
                    update(entity_counts)
                    .where(
                        entity_counts.c.account_id == account_id, entity_counts.c.kind == "users"
                    )
                    .values(n=entity_counts.c.n + len(user_rows))
                )
    finally:
        database.dispose()


def latencies(client: Any, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        client.get_user(UserName="scale-000001")
        out.append((time.perf_counter() - started) * 1000)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def peer_phase(tmp: Path, count: int, runs: int, registry: dict[str, run.Server]) -> None:
    key_id, secret = run.bootstrap_credentials()
    iamd = run.start_iamd(tmp, key_id, secret, 60, registry, users_quota=max(5000, count + 10))
    moto = run.start_moto(tmp, 60, registry)
    clients = {
        "iamd": run.boto_client(iamd.port, key_id, secret),
        "moto": run.boto_client(moto.port, "AKIAIOSFODNN7EXAMPLE", "secret"),
    }
    medians: dict[str, float] = {}
    for name, client in clients.items():
        run.log(f"seeding {name} with {count} users through the API")
        seed_api(client, count)
        seconds = []
        for _ in range(runs):
            if name == "iamd":
                forget_report(tmp / "iamd-data")
                elapsed, size = timed_report(client)
            else:
                # moto regenerates on every GenerateCredentialReport call.
                elapsed, size = timed_report(client)
            seconds.append(elapsed)
        medians[name] = statistics.median(seconds)
        run.log(f"{name}: report of {count} users in {medians[name] * 1000:.0f} ms, {size} bytes")
    print(
        f"peer, {count} users: iamd {medians['iamd'] * 1000:.0f} ms, "
        f"moto {medians['moto'] * 1000:.0f} ms, moto/iamd {medians['moto'] / medians['iamd']:.1f}x"
    )
    iamd.stop()
    moto.stop()


def scale_phase(tmp: Path, count: int, runs: int, registry: dict[str, run.Server]) -> None:
    key_id, secret = run.bootstrap_credentials()
    scale_tmp = tmp / "scale"
    scale_tmp.mkdir()
    server = run.start_iamd(scale_tmp, key_id, secret, 60, registry, users_quota=count + 10)
    server.stop()
    run.log(f"seeding {count} users straight into the database")
    started = time.perf_counter()
    seed_database(scale_tmp / "iamd-data", count)
    run.log(f"seeded in {time.perf_counter() - started:.1f} s")
    registry.pop("iamd", None)
    server = run.start_iamd(scale_tmp, key_id, secret, 120, registry, users_quota=count + 10)
    client = run.boto_client(server.port, key_id, secret)
    baseline: list[float] = []
    for _ in range(200):
        t = time.perf_counter()
        client.get_user(UserName="scale-000001")
        baseline.append((time.perf_counter() - t) * 1000)
    seconds, during_p50, during_p99, size = [], [], [], 0
    for _ in range(runs):
        forget_report(scale_tmp / "iamd-data")
        observed: list[float] = []
        stop = threading.Event()
        prober = threading.Thread(target=latencies, args=(client, stop, observed))
        prober.start()
        elapsed, size = timed_report(client)
        stop.set()
        prober.join()
        seconds.append(elapsed)
        during_p50.append(percentile(observed, 0.5))
        during_p99.append(percentile(observed, 0.99))
        run.log(f"report in {elapsed:.2f} s; {len(observed)} GetUser meanwhile")
    print(
        f"scale, {count} users: report in {statistics.median(seconds):.2f} s (median of {runs}), "
        f"{size / 1e6:.1f} MB CSV; GetUser p50/p99 {percentile(baseline, 0.5):.1f}/"
        f"{percentile(baseline, 0.99):.1f} ms before, {statistics.median(during_p50):.1f}/"
        f"{statistics.median(during_p99):.1f} ms while it was built"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--peer-users", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    registry: dict[str, run.Server] = {}
    with tempfile.TemporaryDirectory(prefix="iamd-report-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            if args.peer_users:
                peer_phase(tmp, args.peer_users, args.runs, registry)
            if args.users:
                scale_phase(tmp, args.users, args.runs, registry)
        finally:
            for server in registry.values():
                server.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

"""What recording metrics costs a cached GetUser: this tree against a baseline tree.

Starts `iamd serve` twice on loopback — once from ``--baseline-src`` (a checkout
without the change, e.g. the main branch's ``src``), once from this tree — and replays
the same pre-signed GetUser requests (bench/loadgen.py) against each in alternation,
``--runs`` times, printing each run and the medians. Run with the project's venv:

    .venv/bin/python bench/metrics_cost.py --baseline-src /path/to/main/src
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen
from signer import IamSigner

HOST = "127.0.0.1"
HERE_SRC = Path(__file__).resolve().parent.parent / "src"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _start(src: Path, data: Path, key_id: str, secret: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env.update(
        PYTHONPATH=str(src),
        IAMD_BOOTSTRAP_ACCESS_KEY_ID=key_id,
        IAMD_BOOTSTRAP_SECRET_ACCESS_KEY=secret,
    )
    args = [sys.executable, "-m", "iamd", "serve", "--host", HOST, "--port", str(port)]
    args += ["--data-dir", str(data), "--no-git-ssh"]
    log = (data.parent / f"{data.name}.log").open("ab")
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/_iamd/health", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"iamd from {src} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-src", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    options = parser.parse_args()
    key_id = "AKIA" + secrets.token_hex(8).upper()
    secret = secrets.token_urlsafe(30)
    rates: dict[str, list[float]] = {"baseline": [], "this tree": []}
    p50s: dict[str, list[float]] = {"baseline": [], "this tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            "baseline": _start(options.baseline_src, Path(tmp) / "baseline", key_id, secret),
            "this tree": _start(HERE_SRC, Path(tmp) / "here", key_id, secret),
        }
        try:
            for run in range(options.runs):
                for name, (_process, port) in servers.items():
                    signer = IamSigner(HOST, port, key_id, secret)
                    pool = [signer.sign_raw("GetUser", {"UserName": "admin"}) for _ in range(64)]
                    result = loadgen.run_async(
                        loadgen.replay(
                            HOST,
                            port,
                            pool,
                            connections=options.connections,
                            duration=options.duration,
                            warmup=1.0,
                        )
                    ).summary()
                    assert result["non_2xx"] == 0, result
                    rates[name].append(result["rate"])
                    p50s[name].append(result["p50_ms"])
                    rate, p50 = result["rate"], result["p50_ms"]
                    print(f"run {run + 1} {name:9}: {rate:8.1f} req/s, p50 {p50} ms")
        finally:
            for process, _port in servers.values():
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    for name, values in rates.items():
        print(
            f"median {name:9}: {statistics.median(values):8.1f} GetUser/s, "
            f"p50 {statistics.median(p50s[name]):.3f} ms"
        )


if __name__ == "__main__":
    main()

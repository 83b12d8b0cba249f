"""Starting a throwaway `iamd serve` for a benchmark or a probe, and waiting until it is up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from typing import IO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_iamd(
    port: int,
    data_dir: str,
    key_id: str,
    secret: str,
    extra_args: Sequence[str] = (),
    *,
    log: IO[bytes] | int = subprocess.DEVNULL,
    preexec_fn: object = None,
) -> subprocess.Popen[bytes]:
    """`iamd serve` on 127.0.0.1:`port` whose admin key is `key_id`/`secret`, healthy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env |= {"IAMD_BOOTSTRAP_ACCESS_KEY_ID": key_id, "IAMD_BOOTSTRAP_SECRET_ACCESS_KEY": secret}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "iamd",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            data_dir,
            *extra_args,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log is not subprocess.DEVNULL else subprocess.DEVNULL,
        preexec_fn=preexec_fn,  # type: ignore[arg-type]  # noqa: PLW1509
    )
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"iamd exited with {server.returncode} before it was healthy")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_iamd/health", timeout=1)
            return server
        except OSError:
            time.sleep(0.05)
    server.terminate()
    raise RuntimeError("iamd did not become healthy")

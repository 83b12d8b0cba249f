"""The real AWS CLI v2 for the tests: installed by scripts/install-awscli-v2.sh (which
`make test` runs first) into .venv/awscli-v2, and installed here too when a test runs
without it, under a lock so that parallel workers unpack it once."""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def aws_cli_v2() -> Path:
    lock_path = ROOT / ".venv" / ".awscli-v2.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(
            ["bash", "scripts/install-awscli-v2.sh"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    return ROOT / done.stdout.strip().splitlines()[-1]

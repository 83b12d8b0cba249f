"""`make serve` on a fresh copy of the repository: a healthy server, and only the server installed.

The copy holds the repository's tracked files as they are in this working tree, in a
temporary directory with no `.venv`, as after `git clone`. `make serve` creates the
environment there (uv from PyPI, the packages from uv's cache or PyPI) and starts the
server; the README's first command is this one, verbatim.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from tests.support.servers import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# What the test stamp adds: none of it belongs in a server's environment.
TEST_TOOLS = ("pytest", "mypy", "ruff", "hypothesis", "boto3", "awscli", "zxing_cpp", "pillow")


def _fresh_copy(into: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # a file deleted in the working tree is not copied
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def _installed(venv: Path) -> set[str]:
    (site_packages,) = venv.glob("lib/python3*/site-packages")
    return {
        d.name.split("-")[0].lower() for d in site_packages.iterdir() if d.suffix == ".dist-info"
    }


def test_make_serve_starts_a_server_with_only_the_server_installed(tmp_path: Path) -> None:
    clone = _fresh_copy(tmp_path / "clone")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "IAMD_")) and k != "VIRTUAL_ENV"
    }
    env.update(IAMD_PORT=str(port), IAMD_SSH_PORT=str(free_port()))
    log_path = tmp_path / "make-serve.log"
    with log_path.open("wb") as log:
        # A session of its own: SIGTERM to its group stops make and the server it runs.
        make = subprocess.Popen(
            ["make", "serve"],
            cwd=clone,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240  # a cold cache downloads some 40 MB
        while True:
            assert make.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_iamd/health", timeout=1
                ) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)

        installed = _installed(clone / ".venv")
        assert {"iamd", "botocore", "uvicorn", "sqlalchemy", "asyncssh"} <= installed
        assert installed.isdisjoint(TEST_TOOLS), sorted(installed & set(TEST_TOOLS))
        assert (clone / ".venv" / "bin" / "iamd").exists()  # the README's next command
        printed = log_path.read_text(errors="replace")
        assert printed.count(f"iamd listening on http://127.0.0.1:{port}") == 1
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=60)

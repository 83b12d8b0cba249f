"""The README's first screen runs as written, against a real server and the real AWS CLI.

The fenced `sh` and `python` blocks before "## Configuration" are read from README.md
itself, so the test fails as soon as the README and the product drift apart. Only two
things are adapted: `make ...` lines are what this test does itself (it starts the
server, on free ports), and the README's http://127.0.0.1:4580 is that server's
endpoint. Every command runs in a temporary HOME, with `.venv` being this test's own
environment.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.servers import RunningServer, start_server

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
_README_ENDPOINT = "http://127.0.0.1:4580"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
ADMIN_ARN = "arn:aws:iam::123456789012:user/admin"


def first_screen_blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block before the Configuration section."""
    text = README.read_text()
    first_screen = text[: text.index("\n## Configuration")]
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(first_screen)]


def _shell_script(server: RunningServer) -> str:
    lines = []
    for language, code in first_screen_blocks():
        if language != "sh":
            continue
        for line in code.splitlines():
            if line.lstrip().startswith("make "):
                continue  # the server this test started is `make serve`'s
            lines.append(line.replace(_README_ENDPOINT, server.endpoint))
    return "\n".join(lines)


@pytest.fixture
def newcomer(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory with `.venv` and `./data`, and an environment without AWS_*."""
    work = tmp_path / "clone"
    work.mkdir()
    (work / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env["HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return work, env


def test_the_readme_has_the_blocks_this_test_runs() -> None:
    languages = [language for language, _code in first_screen_blocks()]
    assert languages.count("sh") >= 3
    assert "python" in languages
    set_up = first_screen_blocks()[0][1]
    assert set_up.startswith("make serve")


def test_the_shell_examples_run_as_written(newcomer: tuple[Path, dict[str, str]]) -> None:
    work, env = newcomer
    server = start_server(work / "data", bootstrap_key=False)
    try:
        script = _shell_script(server)
        assert "iamd profile" in script
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, (
            f"{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        assert ADMIN_ARN in done.stdout
        assert '"UserName": "admin"' in done.stdout
        assert '"Account": "123456789012"' in done.stdout

        for language, code in first_screen_blocks():
            if language != "python":
                continue
            ran = subprocess.run(
                [sys.executable, "-c", code.replace(_README_ENDPOINT, server.endpoint)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert ran.returncode == 0, ran.stderr
            assert ADMIN_ARN in ran.stdout
    finally:
        server.stop()


def test_the_next_steps_the_server_prints_work(newcomer: tuple[Path, dict[str, str]]) -> None:
    """The command in the server's "next:" lines writes a profile for that very server."""
    work, env = newcomer
    server = start_server(work / "data", bootstrap_key=False)
    try:
        log = server.log_text()
        assert log.count(f"iamd listening on {server.endpoint}") == 1
        assert (
            f"next: the admin's access key is in {work / 'data' / 'bootstrap-credentials'}" in log
        )
        (command,) = re.findall(r"next: write an AWS CLI profile for it: (.*)", log)
        subprocess.run(shlex.split(command), cwd=work, env=env, check=True, capture_output=True)
        assert "export AWS_PROFILE=iamd" in log
        called = subprocess.run(
            ["aws", "sts", "get-caller-identity"],
            cwd=work,
            env={**env, "AWS_PROFILE": "iamd"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert ADMIN_ARN in called.stdout
        # uvicorn's own lines carry iamd's logger name, not "uvicorn.error".
        assert "uvicorn.error" not in log
    finally:
        server.stop()

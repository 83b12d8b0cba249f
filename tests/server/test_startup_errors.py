"""`iamd serve` refuses to start with one line naming the problem and the option.

Each case runs the real command: exit code 2, one line on the output, no traceback,
nothing announced as listening and nothing left half-started (no database created
when a port is taken).
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.servers import free_port, start_server


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    return subprocess.run(
        [sys.executable, "-m", "iamd", "serve", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _the_one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert "listening" not in lines[0]
    return lines[0]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_taken_http_port(tmp_path: Path, taken_port: int) -> None:
    data = tmp_path / "data"
    line = _the_one_line(
        _serve("--data-dir", str(data), "--port", str(taken_port), "--ssh-port", str(free_port()))
    )
    assert f"127.0.0.1:{taken_port}" in line
    assert "already in use" in line
    assert "--port (IAMD_PORT)" in line
    assert not (data / "iamd.sqlite3").exists()


def test_a_taken_ssh_port_is_found_before_anything_listens(tmp_path: Path, taken_port: int) -> None:
    data = tmp_path / "data"
    http_port = free_port()
    line = _the_one_line(
        _serve("--data-dir", str(data), "--port", str(http_port), "--ssh-port", str(taken_port))
    )
    assert f"git over SSH on 127.0.0.1:{taken_port}" in line
    assert "--ssh-port (IAMD_SSH_PORT)" in line
    assert "--no-git-ssh" in line
    assert not (data / "iamd.sqlite3").exists()
    # The HTTP port was given back: a server can take it at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", http_port))


def test_no_git_ssh_starts_although_the_ssh_port_is_taken(tmp_path: Path, taken_port: int) -> None:
    running = start_server(tmp_path / "data", extra_args=["--no-git-ssh"])
    try:
        assert running.client("iam").get_user()["User"]["UserName"] == "admin"
    finally:
        running.stop()


def test_a_data_directory_that_is_a_file(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("")
    line = _the_one_line(
        _serve("--data-dir", str(not_a_dir), "--port", str(free_port()), "--no-git-ssh")
    )
    assert f"the data directory {not_a_dir} is not a directory" in line
    assert "--data-dir (IAMD_DATA_DIR)" in line


def test_a_data_directory_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    inside_a_file = tmp_path / "file" / "data"
    line = _the_one_line(
        _serve("--data-dir", str(inside_a_file), "--port", str(free_port()), "--no-git-ssh")
    )
    assert str(inside_a_file) in line
    assert "--data-dir (IAMD_DATA_DIR)" in line


def test_a_postgresql_that_cannot_be_reached(tmp_path: Path) -> None:
    nobody_there = f"postgresql://iamd:NotThisPassword@127.0.0.1:{free_port()}/iamd"
    line = _the_one_line(
        _serve(
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
            "--no-git-ssh",
            env={"IAMD_DATABASE_URL": nobody_there},
        )
    )
    assert "cannot use the database postgresql://iamd:***@127.0.0.1" in line
    assert "NotThisPassword" not in line
    assert "--database-url (IAMD_DATABASE_URL)" in line


def test_a_database_url_of_an_unknown_kind(tmp_path: Path) -> None:
    line = _the_one_line(
        _serve(
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
            "--no-git-ssh",
            "--database-url",
            "nosuchdb://somewhere/db",
        )
    )
    assert "--database-url (IAMD_DATABASE_URL)" in line


def test_a_master_key_that_does_not_open_the_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first_key = base64.b64encode(os.urandom(32)).decode()
    start_server(data, extra_env={"IAMD_MASTER_KEY": first_key}).stop()
    other_key = base64.b64encode(os.urandom(32)).decode()
    line = _the_one_line(
        _serve(
            "--data-dir",
            str(data),
            "--port",
            str(free_port()),
            "--no-git-ssh",
            env={"IAMD_MASTER_KEY": other_key},
        )
    )
    assert "the master key cannot decrypt the secrets in this database" in line
    assert "IAMD_MASTER_KEY" in line
    assert other_key not in line

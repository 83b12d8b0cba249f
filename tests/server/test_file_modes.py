"""What a real server leaves in its data directory is readable by its owner alone.

The database holds argon2 hashes and sealed secrets, master.key opens them: the data
directory is 0700 and every file iamd creates in it (SQLite's database, -wal and -shm,
the keys, the bootstrap credentials, the git repositories) has no group or other bits.
A directory or database left loose by an older start is tightened, and the log says so.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from tests.support.servers import RunningServer, start_server

# Created by the test harness (the server's stdout), not by iamd.
_HARNESS_LOG = "server-"


def _admin_client(server: RunningServer, service: str) -> Any:
    lines = (server.data_dir / "bootstrap-credentials").read_text().splitlines()
    values = dict(line.split(" = ", 1) for line in lines if " = " in line)
    return server.client(service, values["aws_access_key_id"], values["aws_secret_access_key"])


def _some_writes(server: RunningServer) -> None:
    iam = _admin_client(server, "iam")
    iam.create_user(UserName="carol")
    iam.create_access_key(UserName="carol")
    iam.create_login_profile(UserName="carol", Password="Correct-Horse-9")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="carol-phone")
    _admin_client(server, "codecommit").create_repository(repositoryName="private-repo")


def _modes(data_dir: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(data_dir.stat().st_mode)}
    for path in data_dir.rglob("*"):
        if path.name.startswith(_HARNESS_LOG) and path.parent == data_dir:
            continue
        found[str(path.relative_to(data_dir))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _assert_private(modes: dict[str, int]) -> None:
    loose = {name: f"{mode:04o}" for name, mode in modes.items() if mode & 0o077}
    assert loose == {}


def test_a_fresh_data_directory_is_private(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", bootstrap_key=False)
    try:
        _some_writes(server)
        running = _modes(server.data_dir)
    finally:
        server.stop()
    stopped = _modes(server.data_dir)

    for modes in (running, stopped):
        _assert_private(modes)
    assert running["."] == 0o700
    for name in (
        "iamd.sqlite3",
        "iamd.sqlite3-wal",
        "iamd.sqlite3-shm",
        "master.key",
        "ssh_host_ed25519_key",
        "ssh_host_ed25519_key.pub",
        "bootstrap-credentials",
    ):
        assert running[name] == 0o600, name
    assert running["repositories"] == 0o700
    repository_files = [name for name in running if name.startswith("repositories/")]
    assert any(name.endswith(".git/HEAD") for name in repository_files)
    assert len(repository_files) > 10  # the whole bare repository was looked at


def test_loose_modes_left_by_an_older_start_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data, bootstrap_key=False)
    _some_writes(first)
    first.stop()
    loosened = {
        ".": 0o755,
        "iamd.sqlite3": 0o644,
        "bootstrap-credentials": 0o644,
        "ssh_host_ed25519_key.pub": 0o644,
        "repositories": 0o755,
    }
    for name, mode in loosened.items():
        (data / name).chmod(mode)
    assert _modes(data)["iamd.sqlite3"] == 0o644

    second = start_server(data, bootstrap_key=False)
    try:
        assert _admin_client(second, "iam").get_user(UserName="carol")["User"]["UserName"]
        modes = _modes(data)
        log = second.log_text()
    finally:
        second.stop()
    _assert_private(modes)
    assert modes["."] == 0o700
    assert modes["iamd.sqlite3"] == 0o600
    assert modes["iamd.sqlite3-wal"] == 0o600
    assert modes["repositories"] == 0o700
    assert "iamd.sqlite3 was mode 0644; it is now 0600" in log
    assert "bootstrap-credentials was mode 0644; it is now 0600" in log

"""git over SSH with the real `git` and `ssh` clients, as CodeCommit users work.

Each developer has a home with a key pair and an ~/.ssh/config whose `User` is the
SSHPublicKeyId IAM gave the key; they clone the cloneUrlSsh GetRepository returns.
GitPull and GitPush are decided by the policy engine on the repository's ARN.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.awscli import AwsCli
from tests.support.gitssh import GitHome, make_key_pair
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
PERMISSION_DENIED = "Permission denied (publickey)"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions: list[str], resource: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


@dataclass
class Developer:
    user_name: str
    key_id: str
    home: GitHome


def _developer(
    server: RunningServer, tmp_path: Path, user_name: str, policy: str | None, key_kind: str
) -> Developer:
    iam = server.client("iam")
    iam.create_user(UserName=user_name)
    if policy is not None:
        iam.put_user_policy(UserName=user_name, PolicyName="git", PolicyDocument=policy)
    home = GitHome(tmp_path / user_name, server, key_kind=key_kind)
    key = iam.upload_ssh_public_key(
        UserName=user_name, SSHPublicKeyBody=home.public_key.read_text()
    )["SSHPublicKey"]
    home.configure(key["SSHPublicKeyId"])
    return Developer(user_name, key["SSHPublicKeyId"], home)


def _create_repository(server: RunningServer, name: str) -> dict[str, Any]:
    created: dict[str, Any] = server.client("codecommit").create_repository(repositoryName=name)
    metadata: dict[str, Any] = created["repositoryMetadata"]
    return metadata


def test_clone_an_empty_repository_push_and_clone_elsewhere(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    repository = f"{unique}-demo"
    dev = _developer(
        server,
        tmp_path,
        f"{unique}-dev",
        _policy(
            _allow(
                ["codecommit:GitPull", "codecommit:GitPush"],
                f"arn:aws:codecommit:us-east-1:{ACCOUNT}:{repository}",
            )
        ),
        key_kind="rsa",  # the key type AWS accepts, as in the guide (~/.ssh/id_rsa)
    )
    created = _create_repository(server, repository)
    url = created["cloneUrlSsh"]
    assert url == f"ssh://127.0.0.1:{server.ssh_port}/v1/repos/{repository}"

    cloned = dev.home.git("clone", url, "first")
    assert cloned.returncode == 0, cloned.stderr
    assert "cloned an empty repository" in cloned.stderr
    work = dev.home.home / "first"
    assert dev.home.git("checkout", "-q", "-b", "develop", cwd=work).returncode == 0
    commit = dev.home.commit(work, "README.md", "hello from git over SSH\n")
    pushed = dev.home.git("push", "-u", "origin", "develop", cwd=work)
    assert pushed.returncode == 0, pushed.stderr
    assert "[new branch]      develop -> develop" in pushed.stderr

    again = dev.home.git("clone", url, "second")
    assert again.returncode == 0, again.stderr
    second = dev.home.home / "second"
    assert dev.home.git("rev-parse", "HEAD", cwd=second).stdout.strip() == commit
    # The first branch pushed became the default branch, and clones check it out.
    head = dev.home.git("rev-parse", "--abbrev-ref", "HEAD", cwd=second).stdout.strip()
    assert head == "develop"
    assert (second / "README.md").read_text() == "hello from git over SSH\n"
    metadata = server.client("codecommit").get_repository(repositoryName=repository)[
        "repositoryMetadata"
    ]
    assert metadata["defaultBranch"] == "develop"
    assert metadata["lastModifiedDate"] > created["lastModifiedDate"]

    # A fetch after a second push sees the new commit.
    newer = dev.home.commit(work, "CHANGES", "second commit\n")
    assert dev.home.git("push", cwd=work).returncode == 0
    assert dev.home.git("pull", "-q", cwd=second).returncode == 0
    assert dev.home.git("rev-parse", "HEAD", cwd=second).stdout.strip() == newer

    # git's protocol v2 (asked for through GIT_PROTOCOL, which ssh sends) is spoken.
    traced = dev.home.git(
        "-c", "protocol.version=2", "ls-remote", url, env={"GIT_TRACE_PACKET": "1"}
    )
    assert traced.returncode == 0, traced.stderr
    assert "< version 2" in traced.stderr
    assert f"{newer}\trefs/heads/develop" in traced.stdout

    # Each session is in the access log: action, principal, exit status, repository, key.
    time.sleep(0.5)
    log = server.log_text()
    principal = f"arn:aws:iam::{ACCOUNT}:user/{dev.user_name}"
    assert f"codecommit:GitPush {principal} 0 - " in log
    assert f"repository={repository} key={dev.key_id}" in log


def test_a_policy_granting_only_git_pull_refuses_the_push(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    repository = f"{unique}-readonly"
    arn = f"arn:aws:codecommit:us-east-1:{ACCOUNT}:{repository}"
    dev = _developer(
        server,
        tmp_path,
        f"{unique}-reader",
        _policy(_allow(["codecommit:GitPull"], arn)),
        key_kind="ed25519",
    )
    url = _create_repository(server, repository)["cloneUrlSsh"]
    assert dev.home.git("clone", url, "work").returncode == 0
    work = dev.home.home / "work"
    dev.home.commit(work, "file.txt", "x\n")
    pushed = dev.home.git("push", "origin", "HEAD:refs/heads/main", cwd=work)
    assert pushed.returncode != 0
    assert (
        f"User: arn:aws:iam::{ACCOUNT}:user/{dev.user_name} is not authorized to perform: "
        f"codecommit:GitPush on resource: {arn} because no identity-based policy allows "
        "the codecommit:GitPush action"
    ) in pushed.stderr
    listed = dev.home.git("ls-remote", url)
    assert listed.returncode == 0
    assert listed.stdout == ""  # nothing was pushed
    metadata = server.client("codecommit").get_repository(repositoryName=repository)
    assert "defaultBranch" not in metadata["repositoryMetadata"]


def test_without_git_pull_even_a_clone_is_refused(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    dev = _developer(server, tmp_path, f"{unique}-nobody", None, key_kind="ed25519")
    url = _create_repository(server, f"{unique}-closed")["cloneUrlSsh"]
    cloned = dev.home.git("clone", url, "work")
    assert cloned.returncode != 0
    assert "is not authorized to perform: codecommit:GitPull on resource" in cloned.stderr
    assert not (dev.home.home / "work").exists()


def test_an_inactive_key_is_refused_at_the_next_connection(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    repository = f"{unique}-keys"
    dev = _developer(
        server,
        tmp_path,
        f"{unique}-rotating",
        _policy(_allow(["codecommit:GitPull"], "*")),
        key_kind="ed25519",
    )
    url = _create_repository(server, repository)["cloneUrlSsh"]
    assert dev.home.git("ls-remote", url).returncode == 0

    admin = AwsCli(server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    admin.run(
        "iam",
        "update-ssh-public-key",
        "--user-name",
        dev.user_name,
        "--ssh-public-key-id",
        dev.key_id,
        "--status",
        "Inactive",
    )
    refused = dev.home.git("ls-remote", url)
    assert refused.returncode != 0
    assert PERMISSION_DENIED in refused.stderr

    admin.run(
        "iam",
        "update-ssh-public-key",
        "--user-name",
        dev.user_name,
        "--ssh-public-key-id",
        dev.key_id,
        "--status",
        "Active",
    )
    assert dev.home.git("ls-remote", url).returncode == 0


def test_a_key_other_than_the_one_uploaded_for_the_id_is_refused(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    dev = _developer(
        server,
        tmp_path,
        f"{unique}-owner",
        _policy(_allow(["codecommit:GitPull"], "*")),
        key_kind="ed25519",
    )
    url = _create_repository(server, f"{unique}-mine")["cloneUrlSsh"]
    other_key = tmp_path / "stranger" / "id_ed25519"
    make_key_pair(other_key)
    dev.home.configure(dev.key_id, identity=other_key)
    refused = dev.home.git("ls-remote", url)
    assert refused.returncode != 0
    assert PERMISSION_DENIED in refused.stderr
    # Nor is the right key under a user name that is not its id.
    dev.home.configure(dev.user_name)
    assert PERMISSION_DENIED in dev.home.git("ls-remote", url).stderr
    dev.home.configure(dev.key_id)
    assert dev.home.git("ls-remote", url).returncode == 0


def test_the_key_of_a_deleted_user_is_refused(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    dev = _developer(
        server,
        tmp_path,
        f"{unique}-leaver",
        _policy(_allow(["codecommit:GitPull"], "*")),
        key_kind="ed25519",
    )
    url = _create_repository(server, f"{unique}-left")["cloneUrlSsh"]
    assert dev.home.git("ls-remote", url).returncode == 0
    iam = server.client("iam")
    iam.delete_ssh_public_key(UserName=dev.user_name, SSHPublicKeyId=dev.key_id)
    iam.delete_user_policy(UserName=dev.user_name, PolicyName="git")
    iam.delete_user(UserName=dev.user_name)
    refused = dev.home.git("ls-remote", url)
    assert refused.returncode != 0
    assert PERMISSION_DENIED in refused.stderr


def test_an_unknown_repository_gets_a_clear_error(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    dev = _developer(
        server,
        tmp_path,
        f"{unique}-lost",
        _policy(_allow(["codecommit:GitPull"], "*")),
        key_kind="ed25519",
    )
    url = f"ssh://127.0.0.1:{server.ssh_port}/v1/repos/{unique}-nowhere"
    cloned = dev.home.git("clone", url, "work")
    assert cloned.returncode != 0
    assert f"Repository {unique}-nowhere does not exist in account {ACCOUNT}." in cloned.stderr


def test_policy_variables_and_conditions_see_the_ssh_request(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    """${aws:username} in the resource, and aws:SourceIp is the SSH client's address."""
    user_name = f"{unique}-scoped"
    policy = _policy(
        _allow(
            ["codecommit:GitPull", "codecommit:GitPush"],
            f"arn:aws:codecommit:us-east-1:{ACCOUNT}:${{aws:username}}-*",
        ),
        {
            "Effect": "Deny",
            "Action": "codecommit:GitPush",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}},
        },
    )
    dev = _developer(server, tmp_path, user_name, policy, key_kind="ed25519")
    own = _create_repository(server, f"{user_name}-repo")["cloneUrlSsh"]
    someone_elses = _create_repository(server, f"{unique}-other")["cloneUrlSsh"]
    assert dev.home.git("clone", own, "work").returncode == 0
    denied = dev.home.git("clone", someone_elses, "other")
    assert "is not authorized to perform: codecommit:GitPull" in denied.stderr
    work = dev.home.home / "work"
    dev.home.commit(work, "a.txt", "a\n")
    pushed = dev.home.git("push", "origin", "HEAD:refs/heads/main", cwd=work)
    assert pushed.returncode != 0
    assert "codecommit:GitPush" in pushed.stderr
    assert "with an explicit deny in an identity-based policy" in pushed.stderr


def test_shells_other_commands_and_passwords_are_refused(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    dev = _developer(server, tmp_path, f"{unique}-shell", None, key_kind="ed25519")
    shell = dev.home.ssh("127.0.0.1")
    assert shell.returncode != 0
    assert "You have successfully authenticated over SSH." in shell.stderr
    assert "Interactive shells are not supported." in shell.stderr

    command = dev.home.ssh("127.0.0.1", "cat /etc/passwd")
    assert command.returncode != 0
    assert "Command not allowed" in command.stderr
    assert "root:" not in command.stdout

    forced_tty = dev.home.ssh("-tt", "127.0.0.1", "git-upload-pack '/v1/repos/x'")
    assert forced_tty.returncode != 0

    password = dev.home.ssh(
        "-o", "PreferredAuthentications=password,keyboard-interactive", "127.0.0.1"
    )
    assert password.returncode == 255
    assert PERMISSION_DENIED in password.stderr


def test_the_host_key_is_generated_once_and_kept_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data)
    try:
        key_file = data / "ssh_host_ed25519_key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        offered = _scan_host_key(first.ssh_port)
    finally:
        assert first.stop() == 0
    assert offered == (data / "ssh_host_ed25519_key.pub").read_text().split()[:2]
    second = start_server(data)
    try:
        assert _scan_host_key(second.ssh_port) == offered
    finally:
        second.stop()


def _scan_host_key(port: int) -> list[str]:
    scanned = subprocess.run(
        ["ssh-keyscan", "-T", "10", "-t", "ed25519", "-p", str(port), "127.0.0.1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [line for line in scanned.stdout.splitlines() if not line.startswith("#")]
    assert len(lines) == 1, scanned.stderr
    return lines[0].split()[1:3]


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "own")
    yield running
    running.stop()


def _git_processes(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0] == b"git" and any(marker.encode() in a for a in cmdline):
            found.append(int(entry.name))
    return found


def _gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _open_upload_pack(dev: Developer, repository: str) -> subprocess.Popen[bytes]:
    """A raw session that started git-upload-pack and leaves it waiting for input."""
    client = subprocess.Popen(
        [
            "ssh",
            "-F",
            str(dev.home.config),
            "127.0.0.1",
            f"git-upload-pack '/v1/repos/{repository}'",
        ],
        env=dev.home.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert client.stdout is not None
    # The ref advertisement (a pkt-line) shows git runs.
    assert len(client.stdout.read(4)) == 4
    return client


def test_git_is_killed_when_the_client_disconnects_or_the_server_stops(
    own_server: RunningServer, tmp_path: Path
) -> None:
    dev = _developer(
        own_server,
        tmp_path,
        "waiter",
        _policy(_allow(["codecommit:GitPull"], "*")),
        key_kind="ed25519",
    )
    repository_id = _create_repository(own_server, "held")["repositoryId"]

    client = _open_upload_pack(dev, "held")
    git = _git_processes(repository_id)
    assert git, "git-upload-pack should be running"
    client.kill()
    client.wait()
    assert _gone(git, timeout=10)

    client = _open_upload_pack(dev, "held")
    git = _git_processes(repository_id)
    assert git
    started = time.monotonic()
    own_server.process.send_signal(signal.SIGTERM)
    # The idle session gets the grace period (20 s), then is cut; nothing is left behind.
    assert own_server.process.wait(timeout=60) == 0
    assert time.monotonic() - started < 40
    assert _gone(git, timeout=5)
    client.wait(timeout=10)
    assert "iamd stopped" in own_server.log_text()
    assert os.path.isdir(own_server.data_dir / "repositories")


def test_no_git_ssh_leaves_the_ssh_port_closed(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", extra_args=["--no-git-ssh"])
    try:
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", running.ssh_port), timeout=5),
        ):
            pass
        assert not (running.data_dir / "ssh_host_ed25519_key").exists()
    finally:
        assert running.stop() == 0


def test_sessions_beyond_the_limit_are_refused_with_a_message(tmp_path: Path) -> None:
    server = start_server(tmp_path / "capped", extra_args=["--max-git-sessions", "1"])
    try:
        dev = _developer(
            server,
            tmp_path,
            "busy",
            _policy(_allow(["codecommit:GitPull"], "*")),
            key_kind="ed25519",
        )
        url = _create_repository(server, "popular")["cloneUrlSsh"]
        held = _open_upload_pack(dev, "popular")

        refused = dev.home.git("ls-remote", url)
        assert refused.returncode != 0
        assert "Too many git sessions at once (at most 1)" in refused.stderr

        held.kill()
        held.wait()
        for _ in range(50):
            if dev.home.git("ls-remote", url).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the slot was never freed")
    finally:
        server.stop()

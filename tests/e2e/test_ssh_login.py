"""Logging in to a real OpenSSH server with IAM SSH keys through `iamd authorized-keys`.

The test starts its own sshd (never the system's) as root on a free loopback port, with
its own host key and `sshd_config`: no PAM, no passwords, no authorized_keys files, only
`AuthorizedKeysCommand <wrapper> %u %f`. The wrapper is a root-owned script in a
root-owned 0755 directory outside /tmp, because sshd refuses a command whose path has a
directory others can write to (/tmp is world-writable). It runs the venv's
`iamd authorized-keys` with the dedicated read-only credential from a 0600 profile file.

The real `ssh` client logs in as the local account `iamdtest<pid>` (created for the test
when absent) with the key uploaded to the IAM user of the same name; after the key is made
Inactive it cannot; reactivated it can; deleted it cannot; with iamd down nobody can.
Needs root and Debian's openssh-server/openssh-client (scripts/ensure-system-deps.sh).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.servers import RunningServer, free_port

pytestmark = pytest.mark.slow

SSHD = Path("/usr/sbin/sshd")
# One per test process: two suites on one machine must not share (and remove) it.
LOCAL_USER = f"iamdtest{os.getpid()}"
IAMD = Path(sys.executable).with_name("iamd")
READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:ListSSHPublicKeys", "iam:GetSSHPublicKey"],
            "Resource": "arn:aws:iam::123456789012:user/*",
        }
    ],
}


@dataclass
class Sshd:
    """A running test sshd: its port and log."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120)


@pytest.fixture
def local_account() -> Iterator[str]:
    """The local account to log in to; created (and removed afterwards) when absent."""
    try:
        pwd.getpwnam(LOCAL_USER)
        created = False
    except KeyError:
        # `-p '*'`: no password, but not locked (`!`), which sshd without PAM refuses.
        _run("useradd", "--create-home", "--shell", "/bin/sh", "-p", "*", LOCAL_USER)
        created = True
    yield LOCAL_USER
    if created:
        # Best effort: a leftover account is harmless and must not fail the test.
        subprocess.run(
            ["userdel", "--remove", LOCAL_USER], check=False, capture_output=True, timeout=60
        )


@pytest.fixture
def command_dir() -> Iterator[Path]:
    """A root-owned 0755 directory whose every parent is root-owned and not writable by
    others, as sshd demands of the AuthorizedKeysCommand's path (so not under /tmp)."""
    directory = Path(tempfile.mkdtemp(prefix="iamd-sshd-test-", dir="/run"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _reader_credentials(iam: Any, name: str, path: Path) -> None:
    """A user holding only the minimal policy; its key as profile `iamd-ssh`, mode 0600."""
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name, PolicyName="ReadSSHKeys", PolicyDocument=json.dumps(READER_POLICY)
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            f"[iamd-ssh]\naws_access_key_id = {key['AccessKeyId']}\n"
            f"aws_secret_access_key = {key['SecretAccessKey']}\n"
        )


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited early:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen:\n{log.read_text(errors='replace')}")


@pytest.fixture
def sshd(
    fresh_server: RunningServer, command_dir: Path, local_account: str, tmp_path: Path
) -> Iterator[Sshd]:
    assert SSHD.exists(), "openssh-server is missing: run scripts/ensure-system-deps.sh"
    iam = fresh_server.client("iam")
    credentials = command_dir / "credentials"
    _reader_credentials(iam, "sshd-key-reader", credentials)
    wrapper = command_dir / "authorized-keys"
    # sshd runs the command with an almost empty environment: the wrapper sets it all.
    wrapper.write_text(
        "#!/bin/sh\n"
        f"AWS_SHARED_CREDENTIALS_FILE={credentials}\n"
        f"AWS_CONFIG_FILE={command_dir}/no-config\n"
        "AWS_EC2_METADATA_DISABLED=true\n"
        "export AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_EC2_METADATA_DISABLED\n"
        f"exec {IAMD} authorized-keys --endpoint-url {fresh_server.endpoint}"
        ' --profile iamd-ssh "$@"\n'
    )
    wrapper.chmod(0o755)
    host_key = command_dir / "host_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key))
    port = free_port()
    config = command_dir / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {host_key}\n"
        f"PidFile {command_dir}/sshd.pid\n"
        "UsePAM no\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\n"
        "PermitRootLogin no\n"
        "AuthorizedKeysFile none\n"
        f"AuthorizedKeysCommand {wrapper} %u %f\n"
        # The venv's interpreter lives under /root here, which only root can read; see
        # docs/ssh-logins.md for a dedicated unprivileged account in production.
        "AuthorizedKeysCommandUser root\n"
        "LogLevel VERBOSE\n"
    )
    # sshd's privilege separation needs this directory; Debian's unit usually makes it.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    _run(str(SSHD), "-t", "-f", str(config))
    log_path = tmp_path / "sshd.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(port, process, log_path)
        yield Sshd(process, port, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _can_log_in(sshd: Sshd, key: Path) -> bool:
    done = subprocess.run(
        [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(sshd.port),
            "-i",
            str(key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            f"{LOCAL_USER}@127.0.0.1",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        # The client must not find keys of root's own to offer.
        env={**os.environ, "SSH_AUTH_SOCK": ""},
    )
    if done.returncode not in (0, 255):
        raise AssertionError(f"ssh failed oddly: {done}\n{sshd.log_text()}")
    return done.returncode == 0


def test_iam_ssh_keys_open_and_close_the_door(
    sshd: Sshd, fresh_server: RunningServer, tmp_path: Path
) -> None:
    iam = fresh_server.client("iam")
    key = tmp_path / "id_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    iam.create_user(UserName=LOCAL_USER)
    key_id = iam.upload_ssh_public_key(
        UserName=LOCAL_USER, SSHPublicKeyBody=key.with_suffix(".pub").read_text()
    )["SSHPublicKey"]["SSHPublicKeyId"]
    assert _can_log_in(sshd, key), sshd.log_text()

    iam.update_ssh_public_key(UserName=LOCAL_USER, SSHPublicKeyId=key_id, Status="Inactive")
    assert not _can_log_in(sshd, key)

    iam.update_ssh_public_key(UserName=LOCAL_USER, SSHPublicKeyId=key_id, Status="Active")
    assert _can_log_in(sshd, key), sshd.log_text()

    iam.delete_ssh_public_key(UserName=LOCAL_USER, SSHPublicKeyId=key_id)
    assert not _can_log_in(sshd, key)

    # iamd down: the command fails closed, so the key (uploaded again) opens nothing.
    iam.upload_ssh_public_key(
        UserName=LOCAL_USER, SSHPublicKeyBody=key.with_suffix(".pub").read_text()
    )
    assert _can_log_in(sshd, key), sshd.log_text()
    fresh_server.stop()
    started = time.monotonic()
    assert not _can_log_in(sshd, key)
    assert time.monotonic() - started < 10
    log = sshd.log_text()
    assert f"Accepted publickey for {LOCAL_USER} from 127.0.0.1" in log
    # sshd passes the command's stderr line to its own log: the operator sees why.
    assert "iamd authorized-keys: no keys given, failing closed: cannot reach" in log

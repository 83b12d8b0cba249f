"""A developer's machine for git over SSH: a home with a key pair, an ~/.ssh/config whose
User is the SSHPublicKeyId, a known_hosts holding iamd's host key, and the real git.

OpenSSH reads ~/.ssh/config from the passwd entry's home, not $HOME, so the file is
written into the throwaway home and named with `ssh -F` (GIT_SSH_COMMAND for git).
No agent is offered (SSH_AUTH_SOCK unset) and only the configured key is tried.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.servers import RunningServer


def make_key_pair(path: Path, kind: str = "ed25519") -> Path:
    """A fresh key pair from ssh-keygen at ``path``; its public half's path."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    bits = ["-b", "2048"] if kind == "rsa" else []
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, *bits, "-N", "", "-C", "dev", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path.with_name(path.name + ".pub")


class GitHome:
    def __init__(self, home: Path, server: RunningServer, *, key_kind: str = "ed25519") -> None:
        self.home = home
        self.server = server
        self.ssh_dir = home / ".ssh"
        self.identity = self.ssh_dir / f"id_{key_kind}"
        self.public_key = make_key_pair(self.identity, key_kind)
        self.config = self.ssh_dir / "config"
        known_hosts = self.ssh_dir / "known_hosts"
        host_key = (server.data_dir / "ssh_host_ed25519_key.pub").read_text().split()
        known_hosts.write_text(f"[127.0.0.1]:{server.ssh_port} {host_key[0]} {host_key[1]}\n")
        self.known_hosts = known_hosts
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SSH_", "AWS_"))
        }
        self.env.update(
            {
                "HOME": str(home),
                "GIT_SSH_COMMAND": f"ssh -F {self.config}",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": "Dev",
                "GIT_AUTHOR_EMAIL": "dev@example.com",
                "GIT_COMMITTER_NAME": "Dev",
                "GIT_COMMITTER_EMAIL": "dev@example.com",
            }
        )

    def configure(self, user: str, identity: Path | None = None) -> None:
        """Write ~/.ssh/config for iamd's address: User is the SSHPublicKeyId."""
        self.config.write_text(
            "Host 127.0.0.1\n"
            f"  User {user}\n"
            f"  IdentityFile {identity or self.identity}\n"
            f"  Port {self.server.ssh_port}\n"
            "  IdentitiesOnly yes\n"
            "  BatchMode yes\n"
            "  StrictHostKeyChecking yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
        )
        self.config.chmod(0o600)

    def git(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args],
            cwd=cwd or self.home,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ssh(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ssh", "-F", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def commit(self, work_tree: Path, name: str, text: str) -> str:
        (work_tree / name).write_text(text)
        for args in (("add", name), ("commit", "-q", "-m", f"add {name}")):
            done = self.git(*args, cwd=work_tree)
            assert done.returncode == 0, done.stderr
        return self.git("rev-parse", "HEAD", cwd=work_tree).stdout.strip()

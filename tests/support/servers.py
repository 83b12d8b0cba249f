"""Start a real `iamd serve` process on a free port, and stop it."""

from __future__ import annotations

import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ADMIN_KEY_ID = "AKIAIAMDTESTADMIN001"
ADMIN_SECRET = "iamdTestAdminSecretKey0000000000000000000"  # 41 chars is fine: any length


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    # git over SSH listens here (a free port of its own for each server).
    ssh_port: int = 0
    # The self-signed certificate clients trust when the server runs with TLS.
    ca_bundle: Path | None = None

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.ca_bundle is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def client(
        self,
        service: str = "iam",
        key_id: str = ADMIN_KEY_ID,
        secret: str = ADMIN_SECRET,
        token: str | None = None,
        region: str = "us-east-1",
        attempts: int = 1,
    ) -> Any:
        """A client for this server; `attempts` > 1 retries as the standard mode does."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            verify=str(self.ca_bundle) if self.ca_bundle is not None else None,
            config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}),
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)


def start_server(
    data_dir: Path,
    *,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
    bootstrap_key: bool = True,
    test_clock_file: Path | None = None,
    open_file_limit: int | None = None,
    iamd: list[str] | None = None,
    cwd: Path | None = None,
    tls: bool = False,
    ca_bundle: Path | None = None,
) -> RunningServer:
    """``iamd``: the command that runs iamd (default: this interpreter's ``-m iamd``).

    ``open_file_limit``: the server's RLIMIT_NOFILE, soft and hard (it cannot raise it).
    ``tls``: serve HTTPS with ``--tls-self-signed``, which clients then trust;
    ``ca_bundle``: the server serves HTTPS with a certificate it is told of otherwise
    (``IAMD_TLS_CERT``...), and clients trust ``ca_bundle``.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    ssh_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    if bootstrap_key:
        env["IAMD_BOOTSTRAP_ACCESS_KEY_ID"] = ADMIN_KEY_ID
        env["IAMD_BOOTSTRAP_SECRET_ACCESS_KEY"] = ADMIN_SECRET
    if database_url:
        env["IAMD_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    log_path = data_dir / f"server-{port}.log"
    args = [
        *(iamd or [sys.executable, "-m", "iamd"]),
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--ssh-port",
        str(ssh_port),
        *(extra_args or []),
        *(["--test-clock-file", str(test_clock_file)] if test_clock_file else []),
        *(["--tls-self-signed"] if tls else []),
    ]

    def limit_open_files() -> None:
        if open_file_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_file_limit, open_file_limit))

    with log_path.open("ab") as log:
        process = subprocess.Popen(
            args,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            preexec_fn=limit_open_files if open_file_limit is not None else None,  # noqa: PLW1509
        )
    if tls and ca_bundle is None:
        ca_bundle = data_dir / "tls-self-signed.crt"
    server = RunningServer(process, port, data_dir, log_path, env, ssh_port, ca_bundle)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"iamd exited early:\n{server.log_text()}")
        try:
            context = (
                ssl.create_default_context(cafile=str(ca_bundle))
                if ca_bundle is not None and ca_bundle.exists()
                else None
            )
            if ca_bundle is not None and context is None:
                raise OSError("no certificate yet")
            with urllib.request.urlopen(  # noqa: S310 - our own http(s):// endpoint
                f"{server.endpoint}/_iamd/health", timeout=1, context=context
            ) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"iamd did not become healthy:\n{server.log_text()}")

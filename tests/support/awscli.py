"""Running the real AWS CLI (the `aws` command installed in the test environment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.servers import RunningServer


def aws_executable() -> str:
    candidate = Path(sys.executable).parent / "aws"
    if candidate.exists():
        return str(candidate)
    return "aws"


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else None


class AwsCli:
    """`aws` with credentials and --endpoint-url for one iamd server, run in `cwd`."""

    def __init__(
        self,
        server: RunningServer,
        key_id: str,
        secret: str,
        cwd: Path,
        session_token: str | None = None,
    ) -> None:
        self.server = server
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
        self.env.update(
            {
                "AWS_ACCESS_KEY_ID": key_id,
                "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": str(cwd / "aws-config-unused"),
                "AWS_SHARED_CREDENTIALS_FILE": str(cwd / "aws-credentials-unused"),
                "AWS_PAGER": "",
            }
        )
        if session_token is not None:
            self.env["AWS_SESSION_TOKEN"] = session_token

    def run(self, *args: str, check: bool = True) -> CliResult:
        completed = subprocess.run(
            [aws_executable(), "--endpoint-url", self.server.endpoint, "--output", "json", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        result = CliResult(completed.returncode, completed.stdout, completed.stderr)
        if check and completed.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {completed.stderr}")
        return result

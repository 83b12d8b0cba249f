"""The real AWS CLI v2 against a test server with `jdoe` provisioned for Identity Center
(tests/support/identity_center.py), configured as docs/identity-center.md says."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.aws_cli_v2 import aws_cli_v2
from tests.support.identity_center import provision_sso_user, sso_client_env, sso_session_profile
from tests.support.servers import RunningServer, start_server


@dataclass(frozen=True)
class CliV2Setup:
    server: RunningServer
    aws: Path
    account: str
    one_time_password: str
    env: dict[str, str]


@contextmanager
def cli_v2_setup(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    prepare: Callable[[RunningServer], object] | None = None,
) -> Iterator[CliV2Setup]:
    """A server with `jdoe` (after `prepare`, such as requiring MFA) and a CLI home whose
    configuration is the documented profile and sso-session, nothing else."""
    aws = aws_cli_v2()
    home = tmp_path_factory.mktemp(f"{name}-home")
    server = start_server(tmp_path_factory.mktemp(f"iamd-{name}"))
    try:
        user = provision_sso_user(server)
        if prepare is not None:
            prepare(server)
        config = home / "config"
        config.write_text(sso_session_profile(user))
        env = sso_client_env(home, config, server.endpoint)
        yield CliV2Setup(server, aws, user.account, user.one_time_password, env)
    finally:
        server.stop()


def run_aws(setup: CliV2Setup, *args: str) -> subprocess.CompletedProcess[str]:
    """One CLI command, run to its end."""
    return subprocess.run(
        [str(setup.aws), *args],
        env=setup.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

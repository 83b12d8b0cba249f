"""`iamd profile` writes a profile with which the real AWS CLI needs no further flags."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.awscli import aws_executable
from tests.support.servers import RunningServer, start_server

pytestmark = pytest.mark.slow


def test_profile_from_the_bootstrap_credentials(tmp_path: Path) -> None:
    running: RunningServer = start_server(tmp_path / "data", bootstrap_key=False)
    try:
        home = tmp_path / "home"
        credentials = home / ".aws" / "credentials"
        config = home / ".aws" / "config"
        credentials.parent.mkdir(parents=True)
        credentials.write_text(
            "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = s\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
        env["HOME"] = str(home)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "iamd",
                "profile",
                "--name",
                "iamd",
                "--endpoint-url",
                running.endpoint,
                "--data-dir",
                str(running.data_dir),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        written = configparser.ConfigParser()
        written.read(credentials)
        assert set(written.sections()) == {"other", "iamd"}
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        profile = configparser.ConfigParser()
        profile.read(config)
        assert profile["profile iamd"]["endpoint_url"] == running.endpoint

        listed = subprocess.run(
            [aws_executable(), "--profile", "iamd", "iam", "list-users", "--output", "json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        assert '"UserName": "admin"' in listed.stdout
    finally:
        running.stop()


def test_the_suggested_command_works_for_a_user_without_permissions(tmp_path: Path) -> None:
    running: RunningServer = start_server(tmp_path / "data")
    try:
        iam = running.client("iam")
        iam.create_user(UserName="jdoe")
        key = iam.create_access_key(UserName="jdoe")["AccessKey"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
        env["HOME"] = str(tmp_path / "home")
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        wrote = subprocess.run(
            [
                sys.executable,
                "-m",
                "iamd",
                "profile",
                "--name",
                "jdoe",
                "--data-dir",
                str(running.data_dir),
                "--access-key-id",
                key["AccessKeyId"],
                "--secret-access-key",
                key["SecretAccessKey"],
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # No --endpoint-url: the server recorded where it listens in its data directory.
        assert running.endpoint in wrote
        suggested = wrote.split("`")[1]
        assert suggested == "aws --profile jdoe sts get-caller-identity"
        called = subprocess.run(
            suggested.split(), env=env, check=True, capture_output=True, text=True
        )
        assert '"Arn": "arn:aws:iam::123456789012:user/jdoe"' in called.stdout
    finally:
        running.stop()

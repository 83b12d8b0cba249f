"""`iamd keys rotate` against a real server, run as the real command on a real credentials file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.e2e.test_guide_access_keys import SELF_MANAGE_KEYS
from tests.support.servers import RunningServer
from tests.support.totp import code_at

pytestmark = pytest.mark.slow

OTHER_PROFILE = """\
# keys of another tool; must survive byte for byte
[other]
aws_access_key_id = AKIAOTHERPROFILE0001
aws_secret_access_key = other/secret+value  ; trailing note
"""


class Rotation:
    """A user with the guide's self-service policy, a profile for it, and the command."""

    def __init__(self, server: RunningServer, tmp_path: Path, user_name: str) -> None:
        self.server = server
        self.admin = server.client()
        self.user_name = user_name
        self.admin.create_user(UserName=user_name)
        self.admin.put_user_policy(
            UserName=user_name,
            PolicyName="SelfManageAccessKeys",
            PolicyDocument=json.dumps(SELF_MANAGE_KEYS),
        )
        key = self.admin.create_access_key(UserName=user_name)["AccessKey"]
        self.old_key_id: str = key["AccessKeyId"]
        self.old_secret: str = key["SecretAccessKey"]
        self.credentials = tmp_path / "credentials"
        self.credentials.write_text(
            OTHER_PROFILE + f"\n[dev]\naws_access_key_id = {self.old_key_id}\n"
            f"aws_secret_access_key = {self.old_secret}\nregion = us-east-1\n"
        )
        self.credentials.chmod(0o600)
        config = tmp_path / "config"
        config.write_text(f"[profile dev]\nregion = us-east-1\nendpoint_url = {server.endpoint}\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
        self.env.update(
            {
                "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
                "AWS_CONFIG_FILE": str(config),
                "HOME": str(tmp_path),
            }
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        iamd = str(Path(sys.executable).parent / "iamd")
        return subprocess.run(
            [iamd, "keys", "rotate", "--profile", "dev", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def profile_keys(self) -> tuple[str, str]:
        lines = self.credentials.read_text().split("[dev]", 1)[1].splitlines()
        values = dict(line.split(" = ", 1) for line in lines if " = " in line)
        return values["aws_access_key_id"], values["aws_secret_access_key"]

    def key_statuses(self) -> dict[str, str]:
        listed = self.admin.list_access_keys(UserName=self.user_name)["AccessKeyMetadata"]
        return {key["AccessKeyId"]: key["Status"] for key in listed}

    def works(self, key_id: str, secret: str) -> bool:
        client: Any = self.server.client("iam", key_id=key_id, secret=secret)
        try:
            client.list_access_keys(UserName=self.user_name)
        except ClientError:
            return False
        return True


@pytest.fixture
def rotation(server: RunningServer, tmp_path: Path, unique: str) -> Rotation:
    return Rotation(server, tmp_path, f"rot-{unique}")


def test_rotation_with_grace_leaves_the_old_key_inactive_then_finish_deletes_it(
    rotation: Rotation,
) -> None:
    before_other = rotation.credentials.read_text().split("[dev]")[0]

    done = rotation.run("--grace", "7d")

    assert done.returncode == 0, done.stderr
    new_key_id, new_secret = rotation.profile_keys()
    assert new_key_id != rotation.old_key_id
    assert rotation.key_statuses() == {rotation.old_key_id: "Inactive", new_key_id: "Active"}
    assert rotation.works(new_key_id, new_secret)
    assert not rotation.works(rotation.old_key_id, rotation.old_secret)
    assert rotation.credentials.read_text().split("[dev]")[0] == before_other
    assert "region = us-east-1" in rotation.credentials.read_text()
    assert stat.S_IMODE(rotation.credentials.stat().st_mode) == 0o600
    for step in ("created access key", "wrote", "verified", "Inactive"):
        assert step in done.stdout
    assert new_secret not in done.stdout + done.stderr

    again = rotation.run()
    assert again.returncode == 3
    assert "pending" in again.stderr

    finished = rotation.run("--finish")
    assert finished.returncode == 0, finished.stderr
    assert rotation.key_statuses() == {new_key_id: "Active"}
    assert not Path(f"{rotation.credentials}.iamd-rotation").exists()


def test_rotation_without_grace_deletes_the_old_key(rotation: Rotation) -> None:
    done = rotation.run("--grace", "0")

    assert done.returncode == 0, done.stderr
    new_key_id, _ = rotation.profile_keys()
    assert rotation.key_statuses() == {new_key_id: "Active"}
    assert "rotation complete" in done.stdout


def test_a_failed_verification_loses_nothing(rotation: Rotation) -> None:
    original = rotation.credentials.read_text()

    failed = rotation.run("--grace", "0", "--verify-command", "exit 7")

    assert failed.returncode == 1
    assert "verify command exited with status 7" in failed.stderr
    assert rotation.credentials.read_text() == original
    assert rotation.key_statuses() == {rotation.old_key_id: "Active"}
    assert rotation.works(rotation.old_key_id, rotation.old_secret)


def test_the_verify_command_runs_with_the_new_key(rotation: Rotation, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    resolve = "import botocore.session as s; print(s.Session().get_credentials().access_key)"
    command = f"{sys.executable} -c '{resolve}' > {seen}"
    done = rotation.run("--grace", "0", "--verify-command", command)

    assert done.returncode == 0, done.stderr
    new_key_id, _ = rotation.profile_keys()
    assert seen.read_text().strip() == new_key_id


def test_rollback_restores_the_old_key(rotation: Rotation) -> None:
    assert rotation.run("--grace", "1d").returncode == 0
    new_key_id, _ = rotation.profile_keys()
    assert new_key_id != rotation.old_key_id

    rolled_back = rotation.run("--rollback")

    assert rolled_back.returncode == 0, rolled_back.stderr
    assert rotation.profile_keys() == (rotation.old_key_id, rotation.old_secret)
    assert rotation.key_statuses() == {rotation.old_key_id: "Active"}
    assert rotation.works(rotation.old_key_id, rotation.old_secret)


def test_two_keys_are_refused_unless_the_other_is_named(rotation: Rotation) -> None:
    other = rotation.admin.create_access_key(UserName=rotation.user_name)["AccessKey"]
    other_id = other["AccessKeyId"]

    refused = rotation.run("--grace", "0")
    assert refused.returncode == 1
    assert other_id in refused.stderr
    assert "--replace" in refused.stderr
    assert rotation.key_statuses() == {rotation.old_key_id: "Active", other_id: "Active"}

    wrong = rotation.run("--grace", "0", "--replace", rotation.old_key_id)
    assert wrong.returncode == 1

    done = rotation.run("--grace", "0", "--replace", other_id)
    assert done.returncode == 0, done.stderr
    new_key_id, _ = rotation.profile_keys()
    assert rotation.key_statuses() == {new_key_id: "Active"}


def test_dry_run_changes_nothing(rotation: Rotation) -> None:
    original = rotation.credentials.read_text()

    planned = rotation.run("--dry-run")

    assert planned.returncode == 0, planned.stderr
    assert "would create a new access key" in planned.stdout
    assert rotation.credentials.read_text() == original
    assert rotation.key_statuses() == {rotation.old_key_id: "Active"}


def test_with_the_guides_mfa_condition_rotation_needs_and_uses_an_mfa_session(
    rotation: Rotation,
) -> None:
    policy = json.loads(json.dumps(SELF_MANAGE_KEYS))
    key_statement = policy["Statement"][0]
    key_statement["Action"] = [
        a
        for a in key_statement["Action"]
        if a not in ("iam:CreateAccessKey", "iam:DeleteAccessKey")
    ]
    policy["Statement"].append(
        {
            "Sid": "CreateDeleteKeysWithMfa",
            "Effect": "Allow",
            "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey"],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )
    rotation.admin.put_user_policy(
        UserName=rotation.user_name,
        PolicyName="SelfManageAccessKeys",
        PolicyDocument=json.dumps(policy),
    )
    device = rotation.admin.create_virtual_mfa_device(VirtualMFADeviceName=rotation.user_name)
    serial = device["VirtualMFADevice"]["SerialNumber"]
    seed = device["VirtualMFADevice"]["Base32StringSeed"].decode()
    now = time.time()
    rotation.admin.enable_mfa_device(
        UserName=rotation.user_name,
        SerialNumber=serial,
        AuthenticationCode1=code_at(seed, now - 60),
        AuthenticationCode2=code_at(seed, now - 30),
    )

    refused = rotation.run("--grace", "0")
    assert refused.returncode == 1
    assert "AccessDenied" in refused.stderr
    assert rotation.key_statuses() == {rotation.old_key_id: "Active"}

    done = rotation.run(
        "--grace", "0", "--serial-number", serial, "--token-code", code_at(seed, now)
    )
    assert done.returncode == 0, done.stderr
    assert "MFA session" in done.stdout
    new_key_id, _ = rotation.profile_keys()
    assert rotation.key_statuses() == {new_key_id: "Active"}

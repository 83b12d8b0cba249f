"""The guide's "Monitor Key Usage" commands, verbatim, with the real AWS CLI and a shell,
on a small account with users in every state."""

from __future__ import annotations

import csv
import io
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
from tests.server.test_passwords import sign_in
from tests.support.awscli import AwsCli, aws_executable
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer
from tests.support.totp import code_at

pytestmark = pytest.mark.slow
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ5yZ7cY0kH6Kc2B3oGv3yQm0Gf0m2sTqAqkqkqkqkqk"
PASSWORD = "Correct-Horse-Battery-9"


def populate(server: RunningServer) -> dict[str, str]:
    """no-credentials, password-mfa, key-used, key-never-used, key-inactive, ssh-only."""
    iam = server.client()
    for name in (
        "no-credentials",
        "password-mfa",
        "key-used",
        "key-never-used",
        "key-inactive",
        "ssh-only",
    ):
        iam.create_user(UserName=name)
    iam.create_login_profile(UserName="password-mfa", Password=PASSWORD)
    assert sign_in(server, "password-mfa", PASSWORD)[0] == 200
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="password-mfa")
    serial = device["VirtualMFADevice"]["SerialNumber"]
    seed = device["VirtualMFADevice"]["Base32StringSeed"].decode()
    now = time.time()
    iam.enable_mfa_device(
        UserName="password-mfa",
        SerialNumber=serial,
        AuthenticationCode1=code_at(seed, now - 30),
        AuthenticationCode2=code_at(seed, now),
    )
    used = iam.create_access_key(UserName="key-used")["AccessKey"]
    server.client("sts", used["AccessKeyId"], used["SecretAccessKey"]).get_caller_identity()
    never = iam.create_access_key(UserName="key-never-used")["AccessKey"]["AccessKeyId"]
    inactive = iam.create_access_key(UserName="key-inactive")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="key-inactive", AccessKeyId=inactive, Status="Inactive")
    iam.upload_ssh_public_key(UserName="ssh-only", SSHPublicKeyBody=SSH_KEY)
    return {"used": used["AccessKeyId"], "never": never, "inactive": inactive}


def test_generate_then_decode_the_report(fresh_server: RunningServer, tmp_path: Path) -> None:
    keys = populate(fresh_server)
    aws = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)

    state = aws.run("iam", "generate-credential-report").json()["State"]
    assert state == "STARTED"
    for _ in range(50):
        if aws.run("iam", "generate-credential-report").json()["State"] == "COMPLETE":
            break
        time.sleep(0.1)
    command = (
        f"{aws_executable()} --endpoint-url {fresh_server.endpoint} "
        "iam get-credential-report --query 'Content' --output text | base64 --decode"
    )
    decoded = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        env=aws.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    lines = decoded.splitlines()
    assert len(lines[0].split(",")) == 22
    rows = {row["user"]: row for row in csv.DictReader(io.StringIO(decoded))}
    assert lines[1].startswith("<root_account>,arn:aws:iam::123456789012:root,")
    assert set(rows) == {
        "<root_account>",
        "admin",
        "no-credentials",
        "password-mfa",
        "key-used",
        "key-never-used",
        "key-inactive",
        "ssh-only",
    }
    summary = {
        name: (
            row["password_enabled"],
            row["mfa_active"],
            row["access_key_1_active"],
            row["access_key_1_last_used_service"],
        )
        for name, row in rows.items()
        if name not in ("<root_account>", "admin")
    }
    assert summary == {
        "no-credentials": ("false", "false", "false", "N/A"),
        "password-mfa": ("true", "true", "false", "N/A"),
        "key-used": ("false", "false", "true", "sts"),
        "key-never-used": ("false", "false", "true", "N/A"),
        "key-inactive": ("false", "false", "false", "N/A"),
        "ssh-only": ("false", "false", "false", "N/A"),
    }
    assert rows["password-mfa"]["password_last_used"] != "no_information"
    assert rows["key-inactive"]["access_key_1_last_rotated"] != "N/A"
    assert rows["no-credentials"]["access_key_1_last_rotated"] == "N/A"
    for key_id in keys.values():
        assert key_id not in decoded

    last_used = aws.run("iam", "get-access-key-last-used", "--access-key-id", keys["never"]).json()
    assert last_used["UserName"] == "key-never-used"
    assert last_used["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    used = aws.run("iam", "get-access-key-last-used", "--access-key-id", keys["used"]).json()
    assert used["AccessKeyLastUsed"]["ServiceName"] == "sts"
    cli_date = datetime.fromisoformat(used["AccessKeyLastUsed"]["LastUsedDate"])
    report_date = datetime.fromisoformat(rows["key-used"]["access_key_1_last_used_date"])
    assert report_date == cli_date.replace(microsecond=0)

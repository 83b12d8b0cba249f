"""The guide's "Monitor Key Usage" commands, verbatim, with the real AWS CLI and a shell."""

from __future__ import annotations

import csv
import io
import subprocess
import time
from pathlib import Path

import pytest
from tests.support.awscli import AwsCli, aws_executable
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow


def test_generate_then_decode_the_report(fresh_server: RunningServer, tmp_path: Path) -> None:
    aws = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    aws.run("iam", "create-user", "--user-name", "jdoe")
    key = aws.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]

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

    rows = list(csv.DictReader(io.StringIO(decoded)))
    assert [row["user"] for row in rows[:1]] == ["<root_account>"]
    jdoe = next(row for row in rows if row["user"] == "jdoe")
    assert jdoe["access_key_1_active"] == "true"
    assert jdoe["access_key_1_last_used_date"] == "N/A"
    assert key["AccessKeyId"] not in decoded

    last_used = aws.run(
        "iam", "get-access-key-last-used", "--access-key-id", key["AccessKeyId"]
    ).json()
    assert last_used["UserName"] == "jdoe"
    assert last_used["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}

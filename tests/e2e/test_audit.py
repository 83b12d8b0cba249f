"""`iamd audit` as a command against a real server."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer
from tests.tools.test_audit_checks import statement

pytestmark = pytest.mark.slow


def audit(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env.update(
        AWS_ACCESS_KEY_ID=ADMIN_KEY_ID,
        AWS_SECRET_ACCESS_KEY=ADMIN_SECRET,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "iamd"),
            "audit",
            "--endpoint-url",
            server.endpoint,
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_fresh_account_has_no_findings(fresh_server: RunningServer) -> None:
    done = audit(fresh_server)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "No findings."
    assert json.loads(audit(fresh_server, "--format", "json").stdout) == []


def test_findings_in_every_format_and_the_exit_code(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    iam.create_user(UserName="lying")
    inactive = iam.create_access_key(UserName="lying")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="lying", AccessKeyId=inactive, Status="Inactive")
    iam.create_user(UserName="both")
    iam.create_access_key(UserName="both")
    iam.create_access_key(UserName="both")
    iam.create_policy(
        PolicyName="KeysForAnyone", PolicyDocument=statement("iam:CreateAccessKey", "*")
    )
    iam.put_user_policy(
        UserName="both",
        PolicyName="SshForAnyone",
        PolicyDocument=statement("iam:UploadSSHPublicKey", "*"),
    )

    table = audit(fresh_server)
    assert table.returncode == 1
    assert "4 findings (more than --max-findings 0)" in table.stderr
    assert inactive in table.stdout
    assert "inactive-access-key" in table.stdout

    records = json.loads(audit(fresh_server, "--format", "json").stdout)
    assert sorted((r["check"], r["subject"]) for r in records) == [
        ("broad-credential-policy", "policy arn:aws:iam::123456789012:policy/KeysForAnyone"),
        ("broad-credential-policy", "user both inline SshForAnyone"),
        ("inactive-access-key", "lying"),
        ("two-active-access-keys", "both"),
    ]
    assert next(r for r in records if r["check"] == "inactive-access-key")["access_key_id"] == (
        inactive
    )

    rows = list(csv.DictReader(io.StringIO(audit(fresh_server, "--format", "csv").stdout)))
    assert len(rows) == 4
    assert set(rows[0]) == {"check", "subject", "access_key_id", "detail"}

    assert audit(fresh_server, "--max-findings", "4").returncode == 0


def test_an_unreachable_endpoint_is_an_error_not_a_clean_bill(tmp_path: Path) -> None:
    class Nowhere:
        endpoint = "http://127.0.0.1:9"

    done = audit(Nowhere(), "--format", "json")  # type: ignore[arg-type]

    assert done.returncode == 2
    assert done.stdout == ""

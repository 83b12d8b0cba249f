"""Issue 14's check with the real AWS CLI: the guide's commands as the admin and as
jdoe, then `aws cloudtrail lookup-events` finds jdoe's calls (the denied one with
AccessDenied), CreateAccessKey's event has the key id and no secret, and a role
session's call shows AssumedRole with its session issuer and mfaAuthenticated."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

pytestmark = pytest.mark.slow

SELF_MANAGE_KEYS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:CreateAccessKey", "iam:ListAccessKeys", "iam:GetUser"],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        }
    ],
}


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of its own with the audit trail on (`--audit-trail`; off by default)."""
    running = start_server(tmp_path / "data", extra_args=["--audit-trail"])
    yield running
    running.stop()


def _lookup(cli: AwsCli, key: str, value: str, wanted: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        events: list[dict[str, Any]] = cli.run(
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            f"AttributeKey={key},AttributeValue={value}",
        ).json()["Events"]
        if len(events) >= wanted or time.monotonic() > deadline:
            return events
        time.sleep(0.3)


def test_the_issue_check_with_the_aws_cli(fresh_server: RunningServer, tmp_path: Path) -> None:
    admin = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    account = admin.run("sts", "get-caller-identity").json()["Account"]
    admin.run("iam", "create-user", "--user-name", "jdoe")
    (tmp_path / "keys.json").write_text(json.dumps(SELF_MANAGE_KEYS))
    admin.run(
        "iam",
        "put-user-policy",
        "--user-name",
        "jdoe",
        "--policy-name",
        "SelfManageKeys",
        "--policy-document",
        "file://keys.json",
    )
    first = admin.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]
    jdoe = AwsCli(fresh_server, first["AccessKeyId"], first["SecretAccessKey"], tmp_path)
    second = jdoe.run("iam", "create-access-key").json()["AccessKey"]
    jdoe.run("iam", "list-access-keys")
    denied = jdoe.run("iam", "list-users", check=False)
    assert denied.returncode != 0

    events = _lookup(admin, "Username", "jdoe", 3)
    names = [e["EventName"] for e in events]
    assert sorted(names) == ["CreateAccessKey", "ListAccessKeys", "ListUsers"]
    refused = json.loads(
        next(e for e in events if e["EventName"] == "ListUsers")["CloudTrailEvent"]
    )
    assert refused["errorCode"] == "AccessDenied"
    assert refused["userIdentity"]["type"] == "IAMUser"
    assert refused["userIdentity"]["userName"] == "jdoe"
    assert refused["recipientAccountId"] == account

    created = _lookup(admin, "EventName", "CreateAccessKey", 2)
    key_ids = set()
    for event in created:
        assert first["SecretAccessKey"] not in event["CloudTrailEvent"]
        assert second["SecretAccessKey"] not in event["CloudTrailEvent"]
        record = json.loads(event["CloudTrailEvent"])
        key_ids.add(record["responseElements"]["accessKey"]["accessKeyId"])
    assert key_ids == {first["AccessKeyId"], second["AccessKeyId"]}

    (tmp_path / "trust.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
    )
    role = admin.run(
        "iam",
        "create-role",
        "--role-name",
        "Auditor",
        "--assume-role-policy-document",
        "file://trust.json",
    ).json()["Role"]
    admin.run(
        "iam",
        "attach-role-policy",
        "--role-name",
        "Auditor",
        "--policy-arn",
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    )
    credentials = admin.run(
        "sts",
        "assume-role",
        "--role-arn",
        role["Arn"],
        "--role-session-name",
        "audit-2026",
    ).json()["Credentials"]
    auditor = AwsCli(
        fresh_server,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        tmp_path,
        session_token=credentials["SessionToken"],
    )
    auditor.run("iam", "list-roles")
    found = _lookup(admin, "AccessKeyId", credentials["AccessKeyId"], 1)
    assert [e["EventName"] for e in found] == ["ListRoles"]
    assert found[0]["Username"] == "audit-2026"
    record = json.loads(found[0]["CloudTrailEvent"])
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{account}:assumed-role/Auditor/audit-2026"
    assert identity["principalId"] == f"{role['RoleId']}:audit-2026"
    issuer = identity["sessionContext"]["sessionIssuer"]
    assert issuer == {
        "type": "Role",
        "principalId": role["RoleId"],
        "arn": role["Arn"],
        "accountId": account,
        "userName": "Auditor",
    }
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assume = _lookup(admin, "EventName", "AssumeRole", 1)
    assume_record = assume[0]["CloudTrailEvent"]
    assert credentials["SecretAccessKey"] not in assume_record
    assert credentials["SessionToken"] not in assume_record
    assert (
        json.loads(assume_record)["responseElements"]["credentials"]["accessKeyId"]
        == (credentials["AccessKeyId"])
    )

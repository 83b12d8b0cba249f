"""The guide's access-key and policy commands, verbatim, with the real AWS CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow

SELF_MANAGE_KEYS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ManageOwnAccessKeys",
            "Effect": "Allow",
            "Action": [
                "iam:CreateAccessKey",
                "iam:DeleteAccessKey",
                "iam:GetAccessKeyLastUsed",
                "iam:ListAccessKeys",
                "iam:UpdateAccessKey",
            ],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
        {
            "Sid": "ViewAccountInfo",
            "Effect": "Allow",
            "Action": ["iam:GetAccountSummary", "iam:ListAccountAliases"],
            "Resource": "*",
        },
    ],
}

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def test_guide_access_key_walkthrough(fresh_server: RunningServer, tmp_path: Path) -> None:
    (tmp_path / "self-manage-keys.json").write_text(json.dumps(SELF_MANAGE_KEYS, indent=2))
    aws = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)

    created = aws.run(
        "iam",
        "create-policy",
        "--policy-name",
        "SelfManageAccessKeys",
        "--policy-document",
        "file://self-manage-keys.json",
        "--description",
        "Allows users to manage their own access keys",
    ).json()["Policy"]
    assert created["Arn"] == "arn:aws:iam::123456789012:policy/SelfManageAccessKeys"
    assert created["DefaultVersionId"] == "v1"
    assert created["AttachmentCount"] == 0
    assert created["IsAttachable"] is True
    assert re.fullmatch(r"ANPA[A-Z2-7]{17}", created["PolicyId"])
    assert ISO_UTC.match(created["CreateDate"])

    aws.run("iam", "create-user", "--user-name", "jdoe")
    group = aws.run("iam", "create-group", "--group-name", "Developers").json()["Group"]
    assert group["Arn"] == "arn:aws:iam::123456789012:group/Developers"
    assert (
        aws.run(
            "iam",
            "attach-group-policy",
            "--group-name",
            "Developers",
            "--policy-arn",
            "arn:aws:iam::123456789012:policy/SelfManageAccessKeys",
        ).stdout.strip()
        == ""
    )
    aws.run("iam", "add-user-to-group", "--group-name", "Developers", "--user-name", "jdoe")
    aws.run(
        "iam",
        "attach-user-policy",
        "--user-name",
        "jdoe",
        "--policy-arn",
        "arn:aws:iam::123456789012:policy/SelfManageAccessKeys",
    )
    attached = aws.run("iam", "list-attached-group-policies", "--group-name", "Developers").json()
    assert attached == {
        "AttachedPolicies": [
            {
                "PolicyName": "SelfManageAccessKeys",
                "PolicyArn": "arn:aws:iam::123456789012:policy/SelfManageAccessKeys",
            }
        ]
    }
    policy = aws.run(
        "iam", "get-policy", "--policy-arn", "arn:aws:iam::123456789012:policy/SelfManageAccessKeys"
    ).json()["Policy"]
    assert policy["AttachmentCount"] == 2
    assert policy["Description"] == "Allows users to manage their own access keys"
    version = aws.run(
        "iam",
        "get-policy-version",
        "--policy-arn",
        "arn:aws:iam::123456789012:policy/SelfManageAccessKeys",
        "--version-id",
        "v1",
    ).json()["PolicyVersion"]
    assert version["Document"] == SELF_MANAGE_KEYS

    # Rotation, as the guide describes it.
    first = aws.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]
    assert first["UserName"] == "jdoe"
    assert first["Status"] == "Active"
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", first["AccessKeyId"])
    assert len(first["SecretAccessKey"]) == 40
    second = aws.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]

    listed = aws.run(
        "iam",
        "list-access-keys",
        "--user-name",
        "jdoe",
        "--query",
        "AccessKeyMetadata[*].{KeyId:AccessKeyId,Created:CreateDate,Status:Status}",
    ).json()
    assert sorted(item["KeyId"] for item in listed) == sorted(
        [first["AccessKeyId"], second["AccessKeyId"]]
    )
    assert all(item["Status"] == "Active" and ISO_UTC.match(item["Created"]) for item in listed)

    third = aws.run("iam", "create-access-key", "--user-name", "jdoe", check=False)
    assert third.returncode != 0
    assert "LimitExceeded" in third.stderr
    assert "Cannot exceed quota for AccessKeysPerUser: 2" in third.stderr

    old = first["AccessKeyId"]
    aws.run(
        "iam",
        "update-access-key",
        "--user-name",
        "jdoe",
        "--access-key-id",
        old,
        "--status",
        "Inactive",
    )
    statuses = {
        k["AccessKeyId"]: k["Status"]
        for k in aws.run("iam", "list-access-keys", "--user-name", "jdoe").json()[
            "AccessKeyMetadata"
        ]
    }
    assert statuses == {old: "Inactive", second["AccessKeyId"]: "Active"}

    never_used = aws.run("iam", "get-access-key-last-used", "--access-key-id", old).json()
    assert never_used == {
        "UserName": "jdoe",
        "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"},
    }

    # The new key works; its use shows up in get-access-key-last-used.
    as_jdoe = AwsCli(fresh_server, second["AccessKeyId"], second["SecretAccessKey"], tmp_path)
    as_jdoe.env["AWS_DEFAULT_REGION"] = "eu-west-1"
    identity = as_jdoe.run("sts", "get-caller-identity").json()
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/jdoe"
    used = aws.run(
        "iam", "get-access-key-last-used", "--access-key-id", second["AccessKeyId"]
    ).json()
    assert used["UserName"] == "jdoe"
    assert used["AccessKeyLastUsed"]["ServiceName"] == "sts"
    assert used["AccessKeyLastUsed"]["Region"] == "eu-west-1"
    assert ISO_UTC.match(used["AccessKeyLastUsed"]["LastUsedDate"])

    # The inactive key is refused at once.
    as_old = AwsCli(fresh_server, old, first["SecretAccessKey"], tmp_path)
    refused = as_old.run("sts", "get-caller-identity", check=False)
    assert refused.returncode != 0
    assert "InvalidClientTokenId" in refused.stderr

    aws.run("iam", "delete-access-key", "--user-name", "jdoe", "--access-key-id", old)
    remaining = aws.run("iam", "list-access-keys", "--user-name", "jdoe").json()
    assert [k["AccessKeyId"] for k in remaining["AccessKeyMetadata"]] == [second["AccessKeyId"]]
    gone = aws.run(
        "iam", "delete-access-key", "--user-name", "jdoe", "--access-key-id", old, check=False
    )
    assert "NoSuchEntity" in gone.stderr

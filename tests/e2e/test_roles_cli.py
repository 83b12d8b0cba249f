"""Roles with the real AWS CLI, as the IAM user guide's role commands are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "Example Corp"}},
        }
    ],
}
PERMISSIONS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
}


def test_role_lifecycle_with_the_aws_cli(fresh_server: RunningServer, tmp_path: Path) -> None:
    aws = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    (tmp_path / "trust.json").write_text(json.dumps(TRUST, indent=2))
    (tmp_path / "permissions.json").write_text(json.dumps(PERMISSIONS))

    created = aws.run(
        "iam",
        "create-role",
        "--role-name",
        "Test-Role",
        "--assume-role-policy-document",
        "file://trust.json",
        "--description",
        "A role for tests",
        "--max-session-duration",
        "7200",
    ).json()["Role"]
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/Test-Role"
    assert created["RoleId"].startswith("AROA")
    # The CLI decodes the percent-encoded document back into JSON.
    assert created["AssumeRolePolicyDocument"] == TRUST

    got = aws.run("iam", "get-role", "--role-name", "Test-Role").json()["Role"]
    assert got["MaxSessionDuration"] == 7200
    assert got["Description"] == "A role for tests"
    assert got["RoleLastUsed"] == {}
    names = [r["RoleName"] for r in aws.run("iam", "list-roles").json()["Roles"]]
    assert names == ["Test-Role"]

    aws.run(
        "iam",
        "put-role-policy",
        "--role-name",
        "Test-Role",
        "--policy-name",
        "ListBuckets",
        "--policy-document",
        "file://permissions.json",
    )
    policy = aws.run(
        "iam", "get-role-policy", "--role-name", "Test-Role", "--policy-name", "ListBuckets"
    ).json()
    assert policy["PolicyDocument"] == PERMISSIONS
    aws.run(
        "iam",
        "attach-role-policy",
        "--role-name",
        "Test-Role",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    attached = aws.run("iam", "list-attached-role-policies", "--role-name", "Test-Role").json()
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["ReadOnlyAccess"]

    refused = aws.run("iam", "delete-role", "--role-name", "Test-Role", check=False)
    assert refused.returncode != 0
    assert "DeleteConflict" in refused.stderr
    assert "must delete policies first" in refused.stderr

    bad = aws.run(
        "iam",
        "update-assume-role-policy",
        "--role-name",
        "Test-Role",
        "--policy-document",
        "file://permissions.json",
        check=False,
    )
    assert bad.returncode != 0
    assert "MalformedPolicyDocument" in bad.stderr

    aws.run("iam", "delete-role-policy", "--role-name", "Test-Role", "--policy-name", "ListBuckets")
    aws.run(
        "iam",
        "detach-role-policy",
        "--role-name",
        "Test-Role",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    aws.run("iam", "delete-role", "--role-name", "Test-Role")
    missing = aws.run("iam", "get-role", "--role-name", "Test-Role", check=False)
    assert "NoSuchEntity" in missing.stderr
    assert "The role with name Test-Role cannot be found." in missing.stderr

"""`aws sts assume-role` with the real AWS CLI: the role's policies only, trust with MFA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"


def _trust(condition: dict[str, object] | None = None) -> str:
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_assume_role_with_the_cli(fresh_server: RunningServer, tmp_path: Path) -> None:
    admin = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    (tmp_path / "trust.json").write_text(_trust())
    (tmp_path / "trust-mfa.json").write_text(
        _trust({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    )
    for role, trust in (("Auditor", "trust.json"), ("Breakglass", "trust-mfa.json")):
        admin.run(
            "iam",
            "create-role",
            "--role-name",
            role,
            "--assume-role-policy-document",
            f"file://{trust}",
        )
    admin.run(
        "iam",
        "attach-role-policy",
        "--role-name",
        "Auditor",
        "--policy-arn",
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    )
    admin.run(
        "iam",
        "attach-role-policy",
        "--role-name",
        "Breakglass",
        "--policy-arn",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    )
    # The admin holds AdministratorAccess itself; as the Auditor it may only read.
    response = admin.run(
        "sts",
        "assume-role",
        "--role-arn",
        f"arn:aws:iam::{ACCOUNT}:role/Auditor",
        "--role-session-name",
        "audit-2026",
    ).json()
    assert response["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Auditor/audit-2026"
    )
    credentials = response["Credentials"]
    auditor = AwsCli(
        fresh_server,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        tmp_path,
        session_token=credentials["SessionToken"],
    )
    identity = auditor.run("sts", "get-caller-identity").json()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Auditor/audit-2026"
    assert [u["UserName"] for u in auditor.run("iam", "list-users").json()["Users"]] == ["admin"]
    denied = auditor.run("iam", "create-user", "--user-name", "mallory", check=False)
    assert denied.returncode != 0
    assert (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/Auditor/audit-2026 is not authorized to "
        "perform: iam:CreateUser" in denied.stderr
    )

    # The trust policy wants MFA; the admin's long-term key has none.
    refused = admin.run(
        "sts",
        "assume-role",
        "--role-arn",
        f"arn:aws:iam::{ACCOUNT}:role/Breakglass",
        "--role-session-name",
        "oops",
        check=False,
    )
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr
    assert f"sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/Breakglass" in refused.stderr

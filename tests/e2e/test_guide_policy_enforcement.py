"""The guide's promise, enforced: `${aws:username}` lets users touch only their own keys.

Everything here runs through the real AWS CLI: the admin sets up the guide's combined
policy on the group Developers with jdoe and alice in it, then jdoe acts with his own
long-term access key.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
COMBINED_POLICY: dict[str, Any] = {
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
            "Sid": "ManageOwnSSHKeys",
            "Effect": "Allow",
            "Action": [
                "iam:UploadSSHPublicKey",
                "iam:DeleteSSHPublicKey",
                "iam:GetSSHPublicKey",
                "iam:ListSSHPublicKeys",
                "iam:UpdateSSHPublicKey",
            ],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
        {
            "Sid": "ViewAccountInfo",
            "Effect": "Allow",
            "Action": [
                "iam:GetAccountSummary",
                "iam:ListAccountAliases",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
            ],
            "Resource": "*",
        },
    ],
}
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/SelfManageKeys"


def _denied(result: Any, action: str) -> None:
    assert result.returncode != 0, f"{action} was allowed"
    assert "AccessDenied" in result.stderr
    assert f"is not authorized to perform: {action}" in result.stderr


def guide_developers(
    server: RunningServer, tmp_path: Path, policy: dict[str, Any] | None = None
) -> AwsCli:
    """The guide's set-up, as the admin with the CLI: the combined policy (or `policy`) as
    SelfManageKeys on the group Developers, jdoe and alice in it. The admin's CLI."""
    admin = AwsCli(server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    document = COMBINED_POLICY if policy is None else policy
    (tmp_path / "combined.json").write_text(json.dumps(document, indent=2))
    admin.run(
        "iam",
        "create-policy",
        "--policy-name",
        "SelfManageKeys",
        "--policy-document",
        "file://combined.json",
    )
    admin.run("iam", "create-group", "--group-name", "Developers")
    admin.run(
        "iam", "attach-group-policy", "--group-name", "Developers", "--policy-arn", POLICY_ARN
    )
    for user in ("jdoe", "alice"):
        admin.run("iam", "create-user", "--user-name", user)
        admin.run("iam", "add-user-to-group", "--group-name", "Developers", "--user-name", user)
    return admin


def _set_up(server: RunningServer, tmp_path: Path) -> tuple[AwsCli, AwsCli, str]:
    admin = guide_developers(server, tmp_path)
    jdoe_key = admin.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]
    alice_key = admin.run("iam", "create-access-key", "--user-name", "alice").json()["AccessKey"]
    jdoe = AwsCli(server, jdoe_key["AccessKeyId"], jdoe_key["SecretAccessKey"], tmp_path)
    return admin, jdoe, str(alice_key["AccessKeyId"])


def test_users_manage_only_their_own_keys(fresh_server: RunningServer, tmp_path: Path) -> None:
    _admin, jdoe, alice_key_id = _set_up(fresh_server, tmp_path)

    created = jdoe.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]
    own = jdoe.run("iam", "list-access-keys", "--user-name", "jdoe").json()["AccessKeyMetadata"]
    assert created["AccessKeyId"] in {k["AccessKeyId"] for k in own}
    jdoe.run(
        "iam",
        "update-access-key",
        "--user-name",
        "jdoe",
        "--access-key-id",
        created["AccessKeyId"],
        "--status",
        "Inactive",
    )
    jdoe.run("iam", "get-access-key-last-used", "--access-key-id", created["AccessKeyId"])
    jdoe.run(
        "iam", "delete-access-key", "--user-name", "jdoe", "--access-key-id", created["AccessKeyId"]
    )
    # Without --user-name the operations act on the caller, and are allowed too.
    assert jdoe.run("iam", "list-access-keys").json()["AccessKeyMetadata"][0]["UserName"] == "jdoe"

    _denied(
        jdoe.run("iam", "create-access-key", "--user-name", "alice", check=False),
        "iam:CreateAccessKey",
    )
    _denied(
        jdoe.run("iam", "list-access-keys", "--user-name", "alice", check=False),
        "iam:ListAccessKeys",
    )
    _denied(
        jdoe.run(
            "iam",
            "update-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            alice_key_id,
            "--status",
            "Inactive",
            check=False,
        ),
        "iam:UpdateAccessKey",
    )
    _denied(
        jdoe.run(
            "iam",
            "delete-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            alice_key_id,
            check=False,
        ),
        "iam:DeleteAccessKey",
    )
    _denied(
        jdoe.run("iam", "get-access-key-last-used", "--access-key-id", alice_key_id, check=False),
        "iam:GetAccessKeyLastUsed",
    )

    summary = jdoe.run("iam", "get-account-summary").json()["SummaryMap"]
    assert summary["Users"] == 3
    assert jdoe.run("iam", "list-account-aliases").json() == {"AccountAliases": []}

    for args, action in [
        (("create-user", "--user-name", "mallory"), "iam:CreateUser"),
        (
            (
                "attach-user-policy",
                "--user-name",
                "jdoe",
                "--policy-arn",
                "arn:aws:iam::aws:policy/AdministratorAccess",
            ),
            "iam:AttachUserPolicy",
        ),
        (
            (
                "create-policy-version",
                "--policy-arn",
                POLICY_ARN,
                "--policy-document",
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
                "--set-as-default",
            ),
            "iam:CreatePolicyVersion",
        ),
        (
            (
                "put-user-policy",
                "--user-name",
                "jdoe",
                "--policy-name",
                "escalate",
                "--policy-document",
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
            ),
            "iam:PutUserPolicy",
        ),
        (
            ("add-user-to-group", "--group-name", "Administrators", "--user-name", "jdoe"),
            "iam:AddUserToGroup",
        ),
        (
            ("create-login-profile", "--user-name", "alice", "--password", "Secret-Passw0rd!"),
            "iam:CreateLoginProfile",
        ),
        (("list-users",), "iam:ListUsers"),
    ]:
        _denied(jdoe.run("iam", *args, check=False), action)

    denied = jdoe.run("iam", "create-access-key", "--user-name", "alice", check=False)
    assert (
        f"User: arn:aws:iam::{ACCOUNT}:user/jdoe is not authorized to perform: "
        f"iam:CreateAccessKey on resource: arn:aws:iam::{ACCOUNT}:user/alice because no "
        "identity-based policy allows the iam:CreateAccessKey action"
    ) in denied.stderr


def test_mfa_condition_denies_long_term_keys(fresh_server: RunningServer, tmp_path: Path) -> None:
    admin, jdoe, _alice = _set_up(fresh_server, tmp_path)
    with_mfa = copy.deepcopy(COMBINED_POLICY)
    statements = with_mfa["Statement"]
    keys = statements[0]
    create_delete = {
        "Sid": "CreateDeleteOwnKeysWithMFA",
        "Effect": "Allow",
        "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey"],
        "Resource": keys["Resource"],
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }
    keys["Action"] = [a for a in keys["Action"] if a not in create_delete["Action"]]
    statements.insert(1, create_delete)
    (tmp_path / "with-mfa.json").write_text(json.dumps(with_mfa))
    admin.run(
        "iam",
        "create-policy-version",
        "--policy-arn",
        POLICY_ARN,
        "--policy-document",
        "file://with-mfa.json",
        "--set-as-default",
    )
    _denied(jdoe.run("iam", "create-access-key", check=False), "iam:CreateAccessKey")
    own_key = jdoe.run("iam", "list-access-keys").json()["AccessKeyMetadata"][0]["AccessKeyId"]
    _denied(
        jdoe.run("iam", "delete-access-key", "--access-key-id", own_key, check=False),
        "iam:DeleteAccessKey",
    )
    # The rest of the policy still works for him.
    assert jdoe.run("iam", "list-access-keys").returncode == 0

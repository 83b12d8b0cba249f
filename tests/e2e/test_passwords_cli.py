"""Console passwords with the real AWS CLI: login profile, password policy, change-password."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow


def test_password_walkthrough_with_the_cli(fresh_server: RunningServer, tmp_path: Path) -> None:
    admin = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    admin.run("iam", "create-user", "--user-name", "jdoe")
    key = admin.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]

    profile = admin.run(
        "iam",
        "create-login-profile",
        "--user-name",
        "jdoe",
        "--password",
        "Initial-Pass-1",
        "--password-reset-required",
    ).json()["LoginProfile"]
    assert profile["UserName"] == "jdoe"
    assert profile["PasswordResetRequired"] is True
    got = admin.run("iam", "get-login-profile", "--user-name", "jdoe").json()["LoginProfile"]
    assert got["CreateDate"] == profile["CreateDate"]

    missing = admin.run("iam", "get-account-password-policy", check=False)
    assert missing.returncode != 0
    assert "NoSuchEntity" in missing.stderr
    assert "The Password Policy with domain name 123456789012 cannot be found." in missing.stderr
    admin.run(
        "iam",
        "update-account-password-policy",
        "--minimum-password-length",
        "12",
        "--require-numbers",
        "--require-symbols",
        "--allow-users-to-change-password",
        "--password-reuse-prevention",
        "3",
    )
    policy = admin.run("iam", "get-account-password-policy").json()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12
    assert policy["PasswordReusePrevention"] == 3
    assert policy["ExpirePasswords"] is False

    # The user changes its own password, the way AWS's CLI example does it.
    jdoe = AwsCli(fresh_server, key["AccessKeyId"], key["SecretAccessKey"], tmp_path)
    (tmp_path / "weak.json").write_text(
        json.dumps({"OldPassword": "Initial-Pass-1", "NewPassword": "short-1!"})
    )
    weak = jdoe.run("iam", "change-password", "--cli-input-json", "file://weak.json", check=False)
    assert weak.returncode != 0
    assert "PasswordPolicyViolation" in weak.stderr
    (tmp_path / "change-password.json").write_text(
        json.dumps({"OldPassword": "Initial-Pass-1", "NewPassword": "]35d/{pB9Fo9wJ"})
    )
    jdoe.run("iam", "change-password", "--cli-input-json", "file://change-password.json")
    after = admin.run("iam", "get-login-profile", "--user-name", "jdoe").json()["LoginProfile"]
    assert after["PasswordResetRequired"] is False

    conflict = admin.run("iam", "delete-user", "--user-name", "jdoe", check=False)
    assert "DeleteConflict" in conflict.stderr
    assert "must delete login profile first" in conflict.stderr
    admin.run("iam", "delete-login-profile", "--user-name", "jdoe")
    admin.run("iam", "delete-account-password-policy")

"""`iamd policy simulate`: the real command, offline on policy files and against a server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

ACCOUNT = "123456789012"
SELF_SERVICE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ManageOwnAccessKeys",
            "Effect": "Allow",
            "Action": ["iam:CreateAccessKey", "iam:ListAccessKeys"],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
        {
            "Sid": "NoUsers",
            "Effect": "Deny",
            "Action": "iam:CreateUser",
            "Resource": "*",
        },
    ],
}


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamd", "policy", "simulate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def _write(tmp_path: Path, document: Any, name: str = "policy.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


def test_offline_allowed_explains_the_statement(tmp_path: Path) -> None:
    path = _write(tmp_path, SELF_SERVICE)
    result = _run(
        "--policy-file", path, "--username", "jdoe",
        "--action", "iam:CreateAccessKey", "--resource", f"arn:aws:iam::{ACCOUNT}:user/jdoe",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"iam:CreateAccessKey on arn:aws:iam::{ACCOUNT}:user/jdoe: ALLOWED",
        f"  allowed by {path} statement ManageOwnAccessKeys at 4:5-12:5",
    ]


def test_offline_denials(tmp_path: Path) -> None:
    path = _write(tmp_path, SELF_SERVICE)
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    result = _run(
        "--policy-file", path, "--username", "jdoe",
        "--action", "iam:CreateAccessKey", "--action", "iam:CreateUser", "--resource", alice,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"iam:CreateAccessKey on {alice}: DENIED (implicit deny)",
        f"  no statement allows iam:CreateAccessKey on {alice}",
        f"iam:CreateUser on {alice}: DENIED (explicit deny)",
        f"  denied by {path} statement NoUsers at 13:5-18:5",
    ]
    # Without --username, ${aws:username} has no value: said, not guessed.
    result = _run("--policy-file", path, "--action", "iam:ListAccessKeys", "--resource", alice)
    assert result.returncode == 1
    assert "  missing context keys: aws:username" in result.stdout.splitlines()


def test_offline_context_values(tmp_path: Path) -> None:
    mfa = json.loads(json.dumps(SELF_SERVICE))
    mfa["Statement"][0]["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    path = _write(tmp_path, mfa)
    me = f"arn:aws:iam::{ACCOUNT}:user/jdoe"
    base = ("--policy-file", path, "--username", "jdoe", "--action", "iam:CreateAccessKey")
    denied = _run(*base, "--resource", me)
    assert denied.returncode == 1
    assert "  missing context keys: aws:MultiFactorAuthPresent" in denied.stdout.splitlines()
    allowed = _run(*base, "--resource", me, "--context", "aws:MultiFactorAuthPresent=boolean:true")
    assert allowed.returncode == 0, allowed.stdout
    # A list value, and a value with colons (no type: string).
    tags = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "iam:TagUser",
            "Resource": "*",
            "Condition": {
                "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]},
                "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"},
            },
        },
    }
    tag_path = _write(tmp_path, tags, "tags.json")
    args = ("--policy-file", tag_path, "--action", "iam:TagUser")
    principal = f"aws:PrincipalArn={me}"
    assert (
        _run(
            *args, "--context", "aws:TagKeys=stringList:team,env", "--context", principal
        ).returncode
        == 0
    )
    assert (
        _run(*args, "--context", "aws:TagKeys=stringList:team,x", "--context", principal).returncode
        == 1
    )


def test_usage_and_policy_errors_exit_2(tmp_path: Path) -> None:
    assert _run("--action", "iam:GetUser").returncode == 2
    broken = _write(tmp_path, '{"Version": "2012-10-17", "Statement": {"Effect": "Allow"}}')
    result = _run("--policy-file", broken, "--action", "iam:GetUser")
    assert result.returncode == 2
    assert f"{broken}:1:40: Policy statement must contain actions." in result.stderr
    assert (
        _run("--policy-file", broken, "--action", "iam:GetUser", "--context", "novalue").returncode
        == 2
    )


def test_against_a_server(server: RunningServer, tmp_path: Path, unique: str) -> None:
    iam = server.client("iam")
    user = f"{unique}-jdoe"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user, PolicyName="SelfService", PolicyDocument=json.dumps(SELF_SERVICE, indent=2)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": ADMIN_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        }
    )
    me = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    common = ("--user", user, "--endpoint-url", server.endpoint)
    allowed = _run(*common, "--action", "iam:CreateAccessKey", "--resource", me, env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines() == [
        f"iam:CreateAccessKey on {me}: ALLOWED",
        "  allowed by SelfService (user) statement at 4:5-12:5",
    ]
    other = f"arn:aws:iam::{ACCOUNT}:user/alice"
    denied = _run(*common, "--action", "iam:CreateAccessKey", "--resource", other, env=env)
    assert denied.returncode == 1
    assert f"  no statement allows iam:CreateAccessKey on {other}" in denied.stdout
    missing = _run(
        "--user", f"{unique}-nobody", "--endpoint-url", server.endpoint,
        "--action", "iam:GetUser", env=env,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "NoSuchEntity" in missing.stderr

"""Issue 13's acceptance flow with the real AWS CLI: an organization with two new accounts,
one of them in an OU whose SCP denies iam:CreateUser. Each account is reached as AWS
users reach theirs, by assuming OrganizationAccountAccessRole from the management
account, and the SCP holds in one account, not in the other, and never for the
management account itself."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow

MANAGEMENT = "123456789012"
DENY_CREATE_USER = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser",'
    '"Resource":"*"}]}'
)


def _json(cli: AwsCli, *args: str) -> Any:
    return cli.run(*args).json()


def _create_account(admin: AwsCli, name: str) -> str:
    started = _json(
        admin,
        "organizations",
        "create-account",
        "--email",
        f"{name.lower()}@example.com",
        "--account-name",
        name,
    )["CreateAccountStatus"]
    deadline = time.monotonic() + 30
    while True:
        status = _json(
            admin,
            "organizations",
            "describe-create-account-status",
            "--create-account-request-id",
            started["Id"],
        )["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["State"] == "SUCCEEDED", status
    account_id: str = status["AccountId"]
    return account_id


def _as_access_role(admin: AwsCli, account_id: str, cwd: Path) -> AwsCli:
    credentials = _json(
        admin,
        "sts",
        "assume-role",
        "--role-arn",
        f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        "--role-session-name",
        "setup",
    )["Credentials"]
    return AwsCli(
        admin.server,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        cwd,
        session_token=credentials["SessionToken"],
    )


def test_an_ou_scp_denies_create_user_in_its_account_only(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    admin = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    _json(admin, "organizations", "create-organization", "--feature-set", "ALL")
    root_id = _json(admin, "organizations", "list-roots")["Roots"][0]["Id"]
    sandbox = _create_account(admin, "Sandbox")
    production = _create_account(admin, "Production")
    ou = _json(
        admin,
        "organizations",
        "create-organizational-unit",
        "--parent-id",
        root_id,
        "--name",
        "Restricted",
    )["OrganizationalUnit"]
    admin.run(
        "organizations",
        "move-account",
        "--account-id",
        sandbox,
        "--source-parent-id",
        root_id,
        "--destination-parent-id",
        ou["Id"],
    )
    admin.run(
        "organizations",
        "enable-policy-type",
        "--root-id",
        root_id,
        "--policy-type",
        "SERVICE_CONTROL_POLICY",
    )
    policy = _json(
        admin,
        "organizations",
        "create-policy",
        "--name",
        "DenyCreateUser",
        "--description",
        "No new IAM users",
        "--type",
        "SERVICE_CONTROL_POLICY",
        "--content",
        DENY_CREATE_USER,
    )["Policy"]["PolicySummary"]
    admin.run(
        "organizations", "attach-policy", "--policy-id", policy["Id"], "--target-id", ou["Id"]
    )

    restricted = _as_access_role(admin, sandbox, tmp_path)
    refused = restricted.run("iam", "create-user", "--user-name", "jdoe", check=False)
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr
    assert (
        f"arn:aws:sts::{sandbox}:assumed-role/OrganizationAccountAccessRole/setup "
        "is not authorized to perform: iam:CreateUser" in refused.stderr
    )
    assert "with an explicit deny in a service control policy" in refused.stderr
    # Everything else AdministratorAccess grants still works there.
    assert restricted.run("iam", "list-users").json()["Users"] == []

    unrestricted = _as_access_role(admin, production, tmp_path)
    created = _json(unrestricted, "iam", "create-user", "--user-name", "jdoe")["User"]
    assert created["Arn"] == f"arn:aws:iam::{production}:user/jdoe"

    # The management account is never restricted by SCPs, not even the root's.
    admin.run("organizations", "attach-policy", "--policy-id", policy["Id"], "--target-id", root_id)
    mine = _json(admin, "iam", "create-user", "--user-name", "jdoe")["User"]
    assert mine["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/jdoe"
    # ... while the SCP at the root now reaches every member account.
    again = unrestricted.run("iam", "create-user", "--user-name", "other", check=False)
    assert "with an explicit deny in a service control policy" in again.stderr

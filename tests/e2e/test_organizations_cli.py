"""AWS Organizations with the real AWS CLI (v1): the endpoint comes from
AWS_ENDPOINT_URL_ORGANIZATIONS, as a user would configure it, and the main flow runs
as the Organizations user guide writes it: create the organization, an account, an OU,
move the account, enable SCPs, attach a deny policy."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from tests.support.awscli import AwsCli, aws_executable
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow

DENY_CREATE_USER = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser",'
    '"Resource":"*"}]}'
)


def organizations(cli: AwsCli, *args: str, check: bool = True) -> Any:
    """`aws organizations ...` with the endpoint in AWS_ENDPOINT_URL_ORGANIZATIONS only."""
    env = dict(cli.env, AWS_ENDPOINT_URL_ORGANIZATIONS=cli.server.endpoint)
    completed = subprocess.run(
        [aws_executable(), "--output", "json", "organizations", *args],
        cwd=cli.cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check:
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout) if completed.stdout.strip() else None
    return completed


def test_organization_flow_with_the_aws_cli(fresh_server: RunningServer, tmp_path: Path) -> None:
    admin = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    org = organizations(admin, "create-organization", "--feature-set", "ALL")["Organization"]
    assert org["MasterAccountId"] == "123456789012"
    root_id = organizations(admin, "list-roots")["Roots"][0]["Id"]

    started = organizations(
        admin,
        "create-account",
        "--email",
        "dev@example.com",
        "--account-name",
        "Development",
    )["CreateAccountStatus"]
    assert started["State"] == "IN_PROGRESS"
    deadline = time.monotonic() + 30
    while True:
        status = organizations(
            admin, "describe-create-account-status", "--create-account-request-id", started["Id"]
        )["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["State"] == "SUCCEEDED"
    account_id = status["AccountId"]

    ou = organizations(
        admin, "create-organizational-unit", "--parent-id", root_id, "--name", "Sandbox"
    )["OrganizationalUnit"]
    organizations(
        admin,
        "move-account",
        "--account-id",
        account_id,
        "--source-parent-id",
        root_id,
        "--destination-parent-id",
        ou["Id"],
    )
    in_ou = organizations(admin, "list-accounts-for-parent", "--parent-id", ou["Id"])
    assert [a["Id"] for a in in_ou["Accounts"]] == [account_id]

    organizations(
        admin, "enable-policy-type", "--root-id", root_id, "--policy-type", "SERVICE_CONTROL_POLICY"
    )
    policy = organizations(
        admin,
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
    organizations(admin, "attach-policy", "--policy-id", policy["Id"], "--target-id", ou["Id"])
    attached = organizations(
        admin,
        "list-policies-for-target",
        "--target-id",
        ou["Id"],
        "--filter",
        "SERVICE_CONTROL_POLICY",
    )
    assert {p["Name"] for p in attached["Policies"]} == {"FullAWSAccess", "DenyCreateUser"}

    # The paginated listing the CLI walks by itself.
    accounts = organizations(admin, "list-accounts")["Accounts"]
    assert {a["Id"] for a in accounts} == {"123456789012", account_id}

    refused = organizations(
        admin,
        "detach-policy",
        "--policy-id",
        "p-FullAWSAccess",
        "--target-id",
        root_id,
        check=False,
    )
    assert refused.returncode != 0
    assert "ConstraintViolationException" in refused.stderr

    not_empty = organizations(admin, "delete-organization", check=False)
    assert not_empty.returncode != 0
    assert "OrganizationNotEmptyException" in not_empty.stderr

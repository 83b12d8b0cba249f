"""Two-sided cross-account trust through a real server and boto3: a role in account B
that trusts account A, assumed by a user of A without and then with an identity policy
allowing sts:AssumeRole on it (issue 13, "How it will be checked").

Account B is made the way AWS makes it: the management account (the one iamd bootstraps)
creates an organization and an account, then administers B through the
OrganizationAccountAccessRole that CreateAccount puts there. This needs the accounts
(every entity scoped by account) and the Organizations API of issue 13 in the server.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.organizations import new_account
from tests.support.servers import RunningServer

pytestmark = pytest.mark.slow


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def session_client(server: RunningServer, service: str, credentials: dict[str, Any]) -> Any:
    return server.client(
        service,
        key_id=credentials["AccessKeyId"],
        secret=credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
    )


def test_a_user_of_a_assumes_a_role_of_b_only_with_its_own_policy(
    fresh_server: RunningServer,
) -> None:
    admin_iam = fresh_server.client("iam")
    account_a = fresh_server.client("sts").get_caller_identity()["Account"]
    organizations = fresh_server.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    account_b = new_account(organizations)
    assert account_b != account_a

    # In B, as its administrator: a role that trusts account A.
    admin_b = fresh_server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_b}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup",
    )["Credentials"]
    iam_b = session_client(fresh_server, "iam", admin_b)
    role_arn = iam_b.create_role(
        RoleName="Deployer",
        AssumeRolePolicyDocument=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_a}:root"},
                "Action": "sts:AssumeRole",
            }
        ),
    )["Role"]["Arn"]
    assert role_arn == f"arn:aws:iam::{account_b}:role/Deployer"
    iam_b.attach_role_policy(
        RoleName="Deployer", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )

    # In A: a user with a key and no policy.
    admin_iam.create_user(UserName="alice")
    key = admin_iam.create_access_key(UserName="alice")["AccessKey"]
    alice_sts = fresh_server.client(
        "sts", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"], attempts=5
    )

    # The trust policy alone is not enough across accounts.
    with pytest.raises(ClientError) as refused:
        alice_sts.assume_role(RoleArn=role_arn, RoleSessionName="deploy")
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: arn:aws:iam::{account_a}:user/alice is not authorized to perform: "
        f"sts:AssumeRole on resource: {role_arn}"
    )

    # With alice's own policy allowing sts:AssumeRole on that role, it works.
    admin_iam.put_user_policy(
        UserName="alice",
        PolicyName="may-deploy-in-b",
        PolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}),
    )
    session = alice_sts.assume_role(RoleArn=role_arn, RoleSessionName="deploy")
    assert session["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{account_b}:assumed-role/Deployer/deploy"
    )
    deployer = session["Credentials"]
    identity = session_client(fresh_server, "sts", deployer).get_caller_identity()
    assert identity["Account"] == account_b
    # The session acts in B with the role's policies: it reads B's roles, not A's users.
    deployer_iam = session_client(fresh_server, "iam", deployer)
    names = [r["RoleName"] for r in deployer_iam.list_roles()["Roles"]]
    assert "Deployer" in names
    assert "alice" not in [u["UserName"] for u in deployer_iam.list_users()["Users"]]

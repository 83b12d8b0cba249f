"""ListPoliciesGrantingServiceAccess through a real server and boto3: per service
namespace, the managed and inline policies that allow one of its actions to a user
(with its groups'), a group or a role (the operation's documentation in botocore's model).
"""

from __future__ import annotations

import json
from typing import Any

from tests.server.iam_helpers import ACCOUNT, error_of, policy_json


def _deny(action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*"}],
        }
    )


def _by_namespace(result: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    return {
        entry["ServiceNamespace"]: sorted(entry["Policies"], key=lambda p: p["PolicyName"])
        for entry in result["PoliciesGrantingServiceAccess"]
    }


def test_user_group_and_role_policies_per_namespace(iam: Any, unique: str) -> None:
    user, group, role = f"{unique}-u", f"{unique}-g", f"{unique}-r"
    iam.create_user(UserName=user, Path="/team/")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="reads", PolicyDocument=policy_json("s3:Get*"))
    iam.put_user_policy(UserName=user, PolicyName="denies", PolicyDocument=_deny("iam:*"))
    iam.put_group_policy(
        GroupName=group, PolicyName="team", PolicyDocument=policy_json(["ec2:Describe*", "S3:Put*"])
    )
    managed = iam.create_policy(PolicyName=f"{unique}-everything", PolicyDocument=policy_json("*"))[
        "Policy"
    ]["Arn"]
    iam.attach_group_policy(GroupName=group, PolicyArn=managed)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")

    arn = f"arn:aws:iam::{ACCOUNT}:user/team/{user}"
    result = iam.list_policies_granting_service_access(
        Arn=arn, ServiceNamespaces=["s3", "iam", "ec2", "sqs"]
    )
    assert result["IsTruncated"] is False
    assert [e["ServiceNamespace"] for e in result["PoliciesGrantingServiceAccess"]] == [
        "s3",
        "iam",
        "ec2",
        "sqs",
    ]
    everything = {
        "PolicyName": f"{unique}-everything",
        "PolicyType": "MANAGED",
        "PolicyArn": managed,
    }
    iam_read = {
        "PolicyName": "IAMReadOnlyAccess",
        "PolicyType": "MANAGED",
        "PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    }
    reads = {
        "PolicyName": "reads",
        "PolicyType": "INLINE",
        "EntityType": "USER",
        "EntityName": user,
    }
    team = {
        "PolicyName": "team",
        "PolicyType": "INLINE",
        "EntityType": "GROUP",
        "EntityName": group,
    }
    assert _by_namespace(result) == {
        "s3": sorted([everything, reads, team], key=lambda p: p["PolicyName"]),
        # A Deny grants nothing.
        "iam": sorted([everything, iam_read], key=lambda p: p["PolicyName"]),
        "ec2": sorted([everything, team], key=lambda p: p["PolicyName"]),
        "sqs": [everything],
    }

    # A group: only its own policies, not its users'.
    group_result = iam.list_policies_granting_service_access(
        Arn=f"arn:aws:iam::{ACCOUNT}:group/{group}", ServiceNamespaces=["s3", "iam"]
    )
    assert _by_namespace(group_result) == {
        "s3": sorted([everything, team], key=lambda p: p["PolicyName"]),
        "iam": [everything],
    }

    # A role: its own policies.
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName=role, PolicyName="logs", PolicyDocument=policy_json("logs:*"))
    role_result = iam.list_policies_granting_service_access(
        Arn=f"arn:aws:iam::{ACCOUNT}:role/{role}", ServiceNamespaces=["logs", "s3"]
    )
    assert _by_namespace(role_result) == {
        "logs": [
            {"PolicyName": "logs", "PolicyType": "INLINE", "EntityType": "ROLE", "EntityName": role}
        ],
        "s3": [],
    }


def test_errors(iam: Any, unique: str) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:user/{unique}-ghost"
    assert error_of(
        iam.list_policies_granting_service_access, Arn=missing, ServiceNamespaces=["s3"]
    ) == (404, "NoSuchEntity", f"The entity {missing} cannot be found.")
    status, code, _ = error_of(
        iam.list_policies_granting_service_access,
        Arn="arn:aws:s3:::some-bucket-name",
        ServiceNamespaces=["s3"],
    )
    assert (status, code) == (400, "InvalidInput")
    # A policy is no identity.
    status, code, _ = error_of(
        iam.list_policies_granting_service_access,
        Arn="arn:aws:iam::aws:policy/ReadOnlyAccess",
        ServiceNamespaces=["s3"],
    )
    assert (status, code) == (400, "InvalidInput")
    # The model bounds the namespaces: 1 to 200.
    status, code, message = error_of(
        iam.list_policies_granting_service_access,
        Arn=missing,
        ServiceNamespaces=["s3"] * 201,
    )
    assert (status, code) == (400, "ValidationError")
    assert "Member must have length less than or equal to 200" in message

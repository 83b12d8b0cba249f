"""Permissions boundaries of users through boto3: set, read, count, filter, enforce."""

from __future__ import annotations

import json
from typing import Any

from tests.server.iam_helpers import (
    ACCOUNT,
    ADMINISTRATOR_ACCESS,
    error_of,
    policy_json,
)
from tests.support.servers import RunningServer

READ_ONLY_IAM = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}],
    }
)


def _boundary_of(iam: Any, user: str) -> Any:
    return iam.get_user(UserName=user)["User"].get("PermissionsBoundary")


def _usage(iam: Any, arn: str) -> tuple[int, int]:
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    return policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]


def _local_names(iam: Any, **params: Any) -> set[str]:
    paginator = iam.get_paginator("list_policies")
    return {
        p["PolicyName"]
        for page in paginator.paginate(Scope="Local", **params)
        for p in page["Policies"]
    }


def test_boundary_set_at_creation_replaced_and_removed(iam: Any, unique: str) -> None:
    first = iam.create_policy(PolicyName=f"{unique}-b1", PolicyDocument=READ_ONLY_IAM)["Policy"]
    second = iam.create_policy(PolicyName=f"{unique}-b2", PolicyDocument=READ_ONLY_IAM)["Policy"]
    assert first["PermissionsBoundaryUsageCount"] == 0
    user = f"{unique}-u"
    created = iam.create_user(UserName=user, PermissionsBoundary=first["Arn"])["User"]
    expected = {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": first["Arn"],
    }
    assert created["PermissionsBoundary"] == expected
    assert _boundary_of(iam, user) == expected
    assert _usage(iam, first["Arn"]) == (0, 1)

    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=second["Arn"])
    assert _boundary_of(iam, user)["PermissionsBoundaryArn"] == second["Arn"]
    assert _usage(iam, first["Arn"]) == (0, 0)
    assert _usage(iam, second["Arn"]) == (0, 1)

    iam.delete_user_permissions_boundary(UserName=user)
    assert _boundary_of(iam, user) is None
    assert _usage(iam, second["Arn"]) == (0, 0)
    # Removing a boundary that is not set is not an error.
    iam.delete_user_permissions_boundary(UserName=user)


def test_boundary_errors(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    missing = f"arn:aws:iam::{ACCOUNT}:policy/{unique}-nothing"
    assert error_of(
        iam.put_user_permissions_boundary, UserName=user, PermissionsBoundary=missing
    ) == (
        404,
        "NoSuchEntity",
        f"Scope ARN: {missing} does not exist or is not attachable.",
    )
    assert error_of(
        iam.put_user_permissions_boundary,
        UserName=user,
        PermissionsBoundary="not-an-arn-at-all-of-any-kind",
    ) == (400, "InvalidInput", "ARN not-an-arn-at-all-of-any-kind is not valid.")
    assert _boundary_of(iam, user) is None
    nobody = f"{unique}-nobody"
    no_user = (404, "NoSuchEntity", f"The user with name {nobody} cannot be found.")
    assert (
        error_of(
            iam.put_user_permissions_boundary,
            UserName=nobody,
            PermissionsBoundary=ADMINISTRATOR_ACCESS,
        )
        == no_user
    )
    assert error_of(iam.delete_user_permissions_boundary, UserName=nobody) == no_user


def test_usage_filters_and_delete_conflict(iam: Any, unique: str) -> None:
    boundary = iam.create_policy(PolicyName=f"{unique}-boundary", PolicyDocument=READ_ONLY_IAM)[
        "Policy"
    ]["Arn"]
    attached = iam.create_policy(PolicyName=f"{unique}-attached", PolicyDocument=policy_json())[
        "Policy"
    ]["Arn"]
    iam.create_policy(PolicyName=f"{unique}-unused", PolicyDocument=policy_json())
    bounded, plain, group = f"{unique}-bounded", f"{unique}-plain", f"{unique}-g"
    iam.create_user(UserName=bounded, PermissionsBoundary=boundary)
    iam.create_user(UserName=plain)
    iam.create_group(GroupName=group)
    iam.attach_user_policy(UserName=plain, PolicyArn=attached)
    iam.attach_group_policy(GroupName=group, PolicyArn=attached)
    # The boundary policy is also attached to the bounded user as a permissions policy.
    iam.attach_user_policy(UserName=bounded, PolicyArn=boundary)
    assert _usage(iam, boundary) == (1, 1)
    assert _usage(iam, attached) == (2, 0)

    ours = {f"{unique}-boundary", f"{unique}-attached", f"{unique}-unused"}
    assert _local_names(iam) & ours == ours
    assert _local_names(iam, PolicyUsageFilter="PermissionsBoundary") & ours == {
        f"{unique}-boundary"
    }
    assert _local_names(iam, PolicyUsageFilter="PermissionsPolicy") & ours == {
        f"{unique}-boundary",
        f"{unique}-attached",
    }

    def entities(arn: str, **params: Any) -> tuple[list[str], list[str]]:
        found = iam.list_entities_for_policy(PolicyArn=arn, **params)
        return (
            sorted(u["UserName"] for u in found["PolicyUsers"]),
            sorted(g["GroupName"] for g in found["PolicyGroups"]),
        )

    assert entities(boundary) == ([bounded], [])
    assert entities(boundary, PolicyUsageFilter="PermissionsBoundary") == ([bounded], [])
    assert entities(attached, PolicyUsageFilter="PermissionsBoundary") == ([], [])
    assert entities(attached, PolicyUsageFilter="PermissionsPolicy") == ([plain], [group])
    assert entities(attached, PolicyUsageFilter="PermissionsPolicy", EntityFilter="User") == (
        [plain],
        [],
    )

    iam.detach_user_policy(UserName=bounded, PolicyArn=boundary)
    assert entities(boundary, PolicyUsageFilter="PermissionsPolicy") == ([], [])
    assert entities(boundary) == ([bounded], [])
    # Still the boundary of a user: the policy cannot go.
    assert error_of(iam.delete_policy, PolicyArn=boundary) == (
        409,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
    )
    iam.delete_user_permissions_boundary(UserName=bounded)
    iam.delete_policy(PolicyArn=boundary)
    assert error_of(iam.get_policy, PolicyArn=boundary)[1] == "NoSuchEntity"


def test_boundary_caps_an_administrator(server: RunningServer, iam: Any, unique: str) -> None:
    boundary = iam.create_policy(PolicyName=f"{unique}-readonly", PolicyDocument=READ_ONLY_IAM)[
        "Policy"
    ]["Arn"]
    name = f"{unique}-admin"
    iam.create_user(UserName=name, PermissionsBoundary=boundary)
    iam.attach_user_policy(UserName=name, PolicyArn=ADMINISTRATOR_ACCESS)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    capped = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])

    assert capped.list_users(MaxItems=1)["Users"]
    assert capped.get_user()["User"]["UserName"] == name
    target = f"{unique}-new"
    assert error_of(capped.create_user, UserName=target) == (
        403,
        "AccessDenied",
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: "
        f"iam:CreateUser on resource: arn:aws:iam::{ACCOUNT}:user/{target} because no "
        "permissions boundary allows the iam:CreateUser action",
    )
    assert error_of(iam.get_user, UserName=target)[1] == "NoSuchEntity"

    # Without the boundary the administrator's own policy applies again.
    iam.delete_user_permissions_boundary(UserName=name)
    capped.create_user(UserName=target)
    assert iam.get_user(UserName=target)["User"]["UserName"] == target

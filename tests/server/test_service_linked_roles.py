"""Service-linked roles through boto3: AWS's names and paths, the deletion task, and
the protection against every other change."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tests.server.iam_helpers import (
    ACCOUNT,
    READ_ONLY_ACCESS,
    error_of,
    policy_json,
    too_long,
)
from tests.support.servers import RunningServer

ROLE_ID = re.compile(r"AROA[A-Z2-7]{17}")
TASK_ID = re.compile(
    r"task/aws-service-role/([^/]+)/([\w+=,.@-]+)/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def _protected(name: str) -> tuple[int, str, str]:
    return (
        400,
        "UnmodifiableEntity",
        f"Cannot perform the operation on the protected role '{name}' - "
        "this role is only modifiable by AWS",
    )


@pytest.fixture
def iam(fresh_server: RunningServer) -> Any:
    # Service-linked role names are fixed by AWS: each test has a server of its own.
    return fresh_server.client("iam")


def test_create_names_places_and_trusts_as_aws(iam: Any) -> None:
    role = iam.create_service_linked_role(
        AWSServiceName="elasticbeanstalk.amazonaws.com", Description="Beanstalk's role"
    )["Role"]
    assert ROLE_ID.fullmatch(role["RoleId"])
    assert role["RoleName"] == "AWSServiceRoleForElasticBeanstalk"
    assert role["Path"] == "/aws-service-role/elasticbeanstalk.amazonaws.com/"
    assert role["Arn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticbeanstalk.amazonaws.com/"
        "AWSServiceRoleForElasticBeanstalk"
    )
    assert role["Description"] == "Beanstalk's role"
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "elasticbeanstalk.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    got = iam.get_role(RoleName="AWSServiceRoleForElasticBeanstalk")["Role"]
    assert got["RoleId"] == role["RoleId"]
    listed = iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]
    assert [r["RoleName"] for r in listed] == ["AWSServiceRoleForElasticBeanstalk"]
    assert iam.get_account_summary()["SummaryMap"]["Roles"] == 1

    # The name is taken now; AWS says so with InvalidInput.
    assert error_of(
        iam.create_service_linked_role, AWSServiceName="elasticbeanstalk.amazonaws.com"
    ) == (
        400,
        "InvalidInput",
        "Service role name AWSServiceRoleForElasticBeanstalk has been taken in this account, "
        "please try a different suffix.",
    )


def test_custom_suffix_where_the_service_allows_one(iam: Any) -> None:
    plain = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    assert plain["RoleName"] == "AWSServiceRoleForAutoScaling"
    suffixed = iam.create_service_linked_role(
        AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="fleet-1"
    )["Role"]
    assert suffixed["RoleName"] == "AWSServiceRoleForAutoScaling_fleet-1"
    assert suffixed["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    assert error_of(
        iam.create_service_linked_role, AWSServiceName="es.amazonaws.com", CustomSuffix="x"
    ) == (400, "InvalidInput", "Custom suffix is not allowed for es.amazonaws.com")
    long_suffix = "s" * 40
    assert error_of(
        iam.create_service_linked_role,
        AWSServiceName="autoscaling.amazonaws.com",
        CustomSuffix=long_suffix,
    ) == (
        400,
        "ValidationError",
        too_long(f"AWSServiceRoleForAutoScaling_{long_suffix}", "roleName", 64),
    )


def test_unknown_services_and_bad_input(iam: Any) -> None:
    status, code, message = error_of(
        iam.create_service_linked_role, AWSServiceName="nosuch.amazonaws.com"
    )
    assert (status, code) == (400, "InvalidInput")
    assert "nosuch.amazonaws.com" in message
    status, code, message = error_of(iam.create_service_linked_role, AWSServiceName="bad name")
    assert (status, code) == (400, "ValidationError")
    assert "'aWSServiceName'" in message
    # Nothing was created by the refusals.
    assert iam.list_roles()["Roles"] == []
    # CreateRole cannot take the service-linked path.
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    assert error_of(
        iam.create_role,
        RoleName="Sneaky",
        Path="/aws-service-role/ecs.amazonaws.com/",
        AssumeRolePolicyDocument=trust,
    ) == (
        400,
        "InvalidInput",
        "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles",
    )


def test_other_calls_cannot_change_the_role(iam: Any) -> None:
    name = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]["RoleName"]
    assert name == "AWSServiceRoleForECS"
    iam.create_instance_profile(InstanceProfileName="ecs")
    refused = _protected(name)
    policy = iam.create_policy(PolicyName="Boundary", PolicyDocument=policy_json())["Policy"]
    calls: list[tuple[Any, dict[str, Any]]] = [
        (iam.delete_role, {}),
        (iam.update_assume_role_policy, {"PolicyDocument": policy_json("sts:AssumeRole")}),
        (iam.update_role, {"MaxSessionDuration": 7200}),
        (iam.put_role_policy, {"PolicyName": "p", "PolicyDocument": policy_json()}),
        (iam.delete_role_policy, {"PolicyName": "p"}),
        (iam.attach_role_policy, {"PolicyArn": READ_ONLY_ACCESS}),
        (iam.detach_role_policy, {"PolicyArn": READ_ONLY_ACCESS}),
        (iam.put_role_permissions_boundary, {"PermissionsBoundary": policy["Arn"]}),
        (iam.delete_role_permissions_boundary, {}),
        (iam.tag_role, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (iam.untag_role, {"TagKeys": ["k"]}),
        (iam.add_role_to_instance_profile, {"InstanceProfileName": "ecs"}),
    ]
    for call, params in calls:
        assert error_of(call, RoleName=name, **params) == refused, call.__name__
    role = iam.get_role(RoleName=name)["Role"]
    assert "PermissionsBoundary" not in role
    assert "Tags" not in role
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    assert iam.get_instance_profile(InstanceProfileName="ecs")["InstanceProfile"]["Roles"] == []
    # The description may be edited, as in AWS.
    iam.update_role_description(RoleName=name, Description="edited")
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "edited"


def test_delete_returns_a_task_that_succeeds(iam: Any) -> None:
    name = iam.create_service_linked_role(AWSServiceName="spot.amazonaws.com")["Role"]["RoleName"]
    assert name == "AWSServiceRoleForEC2Spot"
    task_id = iam.delete_service_linked_role(RoleName=name)["DeletionTaskId"]
    match = TASK_ID.fullmatch(task_id)
    assert match is not None, task_id
    assert match.groups() == ("spot.amazonaws.com", name)
    status = iam.get_service_linked_role_deletion_status(DeletionTaskId=task_id)
    assert status["Status"] == "SUCCEEDED"
    assert "Reason" not in status
    assert error_of(iam.get_role, RoleName=name) == (
        404,
        "NoSuchEntity",
        f"The role with name {name} cannot be found.",
    )
    assert error_of(iam.delete_service_linked_role, RoleName=name) == (
        404,
        "NoSuchEntity",
        f"The role with name {name} cannot be found.",
    )
    # The name is free again.
    iam.create_service_linked_role(AWSServiceName="spot.amazonaws.com")


def test_deletion_errors(iam: Any) -> None:
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.create_role(RoleName="Ordinary", AssumeRolePolicyDocument=trust)
    status, code, _ = error_of(iam.delete_service_linked_role, RoleName="Ordinary")
    assert (status, code) == (400, "InvalidInput")
    assert iam.get_role(RoleName="Ordinary")["Role"]["RoleName"] == "Ordinary"
    status, code, _ = error_of(
        iam.get_service_linked_role_deletion_status, DeletionTaskId="not-a-task"
    )
    assert (status, code) == (400, "InvalidInput")
    unknown = (
        "task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/"
        + "0" * 8
        + ("-0000-0000-0000-" + "0" * 12)
    )
    status, code, _ = error_of(iam.get_service_linked_role_deletion_status, DeletionTaskId=unknown)
    assert (status, code) == (404, "NoSuchEntity")

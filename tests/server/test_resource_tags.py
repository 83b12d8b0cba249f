"""`aws:ResourceTag/*` in policies, for MFA devices and managed policies (users and roles
are covered with their own tests)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.iam_helpers import new_user_client
from tests.support.servers import RunningServer


def only_tagged_blue(actions: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}},
                }
            ],
        }
    )


def test_resource_tags_of_mfa_devices_and_policies(
    server: RunningServer, iam: Any, unique: str
) -> None:
    policy_arn = iam.create_policy(
        PolicyName=f"{unique}-blue-only",
        PolicyDocument=only_tagged_blue(["iam:ListMFADeviceTags", "iam:ListPolicyTags"]),
    )["Policy"]["Arn"]
    client, _ = new_user_client(server, iam, f"{unique}-u", policy_arn)
    blue = iam.create_virtual_mfa_device(
        VirtualMFADeviceName=f"{unique}-blue", Tags=[{"Key": "team", "Value": "blue"}]
    )["VirtualMFADevice"]["SerialNumber"]
    red = iam.create_virtual_mfa_device(
        VirtualMFADeviceName=f"{unique}-red", Tags=[{"Key": "team", "Value": "red"}]
    )["VirtualMFADevice"]["SerialNumber"]
    blue_policy = iam.create_policy(
        PolicyName=f"{unique}-p-blue",
        PolicyDocument=only_tagged_blue(["s3:GetObject"]),
        Tags=[{"Key": "team", "Value": "blue"}],
    )["Policy"]["Arn"]
    red_policy = iam.create_policy(
        PolicyName=f"{unique}-p-red",
        PolicyDocument=only_tagged_blue(["s3:GetObject"]),
        Tags=[{"Key": "team", "Value": "red"}],
    )["Policy"]["Arn"]

    assert client.list_mfa_device_tags(SerialNumber=blue)["Tags"] == [
        {"Key": "team", "Value": "blue"}
    ]
    assert client.list_policy_tags(PolicyArn=blue_policy)["Tags"][0]["Value"] == "blue"
    for call, params in (
        (client.list_mfa_device_tags, {"SerialNumber": red}),
        (client.list_policy_tags, {"PolicyArn": red_policy}),
    ):
        with pytest.raises(ClientError, match="AccessDenied"):
            call(**params)


def test_a_policy_s_tags_are_not_a_group_s(server: RunningServer, iam: Any, unique: str) -> None:
    # AttachGroupPolicy names a PolicyArn, but its resource is the group (which has no
    # tags): a condition on aws:ResourceTag must not be met by the policy's tags.
    policy_arn = iam.create_policy(
        PolicyName=f"{unique}-attach-blue",
        PolicyDocument=only_tagged_blue(["iam:AttachGroupPolicy"]),
    )["Policy"]["Arn"]
    client, _ = new_user_client(server, iam, f"{unique}-g", policy_arn)
    iam.create_group(GroupName=f"{unique}-grp")
    tagged = iam.create_policy(
        PolicyName=f"{unique}-tagged-blue",
        PolicyDocument=only_tagged_blue(["s3:GetObject"]),
        Tags=[{"Key": "team", "Value": "blue"}],
    )["Policy"]["Arn"]
    with pytest.raises(ClientError, match="AccessDenied"):
        client.attach_group_policy(GroupName=f"{unique}-grp", PolicyArn=tagged)

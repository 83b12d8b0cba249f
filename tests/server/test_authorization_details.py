"""GetAccountAuthorizationDetails through boto3: shapes, filters and pagination.

A server of this module's own, so the snapshot holds only what these tests created
(plus what the server bootstraps).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.server.iam_helpers import (
    ACCOUNT,
    ADMINISTRATOR_ACCESS,
    READ_ONLY_ACCESS,
    assert_recent_utc,
    error_of,
    policy_document,
)
from tests.support.servers import RunningServer, start_server

RESULT_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("iamd-details"))
    try:
        _populate(running.client("iam"))
        yield running
    finally:
        running.stop()


def _populate(iam: Any) -> None:
    boundary = iam.create_policy(
        PolicyName="Boundary", Path="/limits/", PolicyDocument=json.dumps(policy_document("iam:*"))
    )["Policy"]
    shared = iam.create_policy(
        PolicyName="Shared",
        PolicyDocument=json.dumps(policy_document("s3:GetObject")),
        Description="shared reads",
    )["Policy"]
    iam.create_policy_version(
        PolicyArn=shared["Arn"],
        PolicyDocument=json.dumps(policy_document("s3:PutObject")),
        SetAsDefault=True,
    )
    iam.create_group(GroupName="devs", Path="/eng/")
    iam.put_group_policy(
        GroupName="devs",
        PolicyName="inline-g",
        PolicyDocument=json.dumps(policy_document("sqs:SendMessage")),
    )
    iam.attach_group_policy(GroupName="devs", PolicyArn=READ_ONLY_ACCESS)
    iam.create_user(
        UserName="alice",
        Path="/eng/",
        PermissionsBoundary=boundary["Arn"],
        Tags=[{"Key": "team", "Value": "core"}],
    )
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=shared["Arn"])
    iam.put_user_policy(
        UserName="alice",
        PolicyName="inline-u",
        PolicyDocument=json.dumps(policy_document("sns:Publish")),
    )
    iam.create_user(UserName="bob")
    iam.create_role(
        RoleName="deployer",
        Path="/ci/",
        AssumeRolePolicyDocument=TRUST,
        PermissionsBoundary=boundary["Arn"],
        Tags=[{"Key": "env", "Value": "prod"}],
    )
    iam.put_role_policy(
        RoleName="deployer",
        PolicyName="inline-r",
        PolicyDocument=json.dumps(policy_document("ec2:*")),
    )
    iam.attach_role_policy(RoleName="deployer", PolicyArn=shared["Arn"])
    iam.create_instance_profile(
        InstanceProfileName="runner", Path="/ci/", Tags=[{"Key": "k", "Value": "v"}]
    )
    iam.add_role_to_instance_profile(InstanceProfileName="runner", RoleName="deployer")


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def test_snapshot_shapes_and_filters(own_server: RunningServer) -> None:
    iam = own_server.client("iam")
    made = {
        "boundary": iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/limits/Boundary")[
            "Policy"
        ],
        "shared": iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/Shared")["Policy"],
    }
    details = iam.get_account_authorization_details()
    assert details["IsTruncated"] is False
    assert "Marker" not in details
    (deployer,) = details["RoleDetailList"]
    assert set(deployer) == {
        "Path",
        "RoleName",
        "RoleId",
        "Arn",
        "CreateDate",
        "AssumeRolePolicyDocument",
        "InstanceProfileList",
        "RolePolicyList",
        "AttachedManagedPolicies",
        "PermissionsBoundary",
        "Tags",
        "RoleLastUsed",
    }
    assert deployer["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
    assert deployer["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert deployer["RolePolicyList"] == [
        {"PolicyName": "inline-r", "PolicyDocument": policy_document("ec2:*")}
    ]
    assert deployer["AttachedManagedPolicies"] == [
        {"PolicyName": "Shared", "PolicyArn": made["shared"]["Arn"]}
    ]
    assert deployer["PermissionsBoundary"]["PermissionsBoundaryArn"] == made["boundary"]["Arn"]
    assert deployer["Tags"] == [{"Key": "env", "Value": "prod"}]
    (profile,) = deployer["InstanceProfileList"]
    assert profile["InstanceProfileName"] == "runner"
    assert profile["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/ci/runner"
    assert profile["Path"] == "/ci/"
    assert profile["Tags"] == [{"Key": "k", "Value": "v"}]
    assert [r["RoleName"] for r in profile["Roles"]] == ["deployer"]
    assert profile["Roles"][0]["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert deployer["RoleLastUsed"] == {}

    users = {u["UserName"]: u for u in details["UserDetailList"]}
    alice = users["alice"]
    assert set(alice) == {
        "Path",
        "UserName",
        "UserId",
        "Arn",
        "CreateDate",
        "UserPolicyList",
        "GroupList",
        "AttachedManagedPolicies",
        "PermissionsBoundary",
        "Tags",
    }
    assert alice["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert alice["Path"] == "/eng/"
    assert_recent_utc(alice["CreateDate"])
    # boto3 decodes the percent-encoded documents into dictionaries.
    assert alice["UserPolicyList"] == [
        {"PolicyName": "inline-u", "PolicyDocument": policy_document("sns:Publish")}
    ]
    assert alice["GroupList"] == ["devs"]
    assert alice["AttachedManagedPolicies"] == [
        {"PolicyName": "Shared", "PolicyArn": made["shared"]["Arn"]}
    ]
    assert alice["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": made["boundary"]["Arn"],
    }
    assert alice["Tags"] == [{"Key": "team", "Value": "core"}]
    bob = users["bob"]
    assert bob["UserPolicyList"] == bob["GroupList"] == bob["AttachedManagedPolicies"] == []
    assert "PermissionsBoundary" not in bob

    devs = {g["GroupName"]: g for g in details["GroupDetailList"]}["devs"]
    assert devs["GroupName"] == "devs"
    assert devs["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/eng/devs"
    assert devs["GroupPolicyList"] == [
        {"PolicyName": "inline-g", "PolicyDocument": policy_document("sqs:SendMessage")}
    ]
    assert devs["AttachedManagedPolicies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY_ACCESS}
    ]

    policies = {p["Arn"]: p for p in details["Policies"]}
    shared = policies[made["shared"]["Arn"]]
    assert shared["PolicyName"] == "Shared"
    assert shared["Description"] == "shared reads"
    assert shared["DefaultVersionId"] == "v2"
    assert shared["AttachmentCount"] == 2
    assert shared["PermissionsBoundaryUsageCount"] == 0
    assert shared["IsAttachable"] is True
    versions = {v["VersionId"]: v for v in shared["PolicyVersionList"]}
    assert set(versions) == {"v1", "v2"}
    assert versions["v2"]["IsDefaultVersion"] is True
    assert versions["v1"]["IsDefaultVersion"] is False
    assert versions["v1"]["Document"] == policy_document("s3:GetObject")
    assert versions["v2"]["Document"] == policy_document("s3:PutObject")
    boundary = policies[made["boundary"]["Arn"]]
    assert boundary["Path"] == "/limits/"
    assert (boundary["AttachmentCount"], boundary["PermissionsBoundaryUsageCount"]) == (0, 2)
    # AWS managed policies appear only when the account uses them.
    aws_policies = {arn for arn in policies if arn.startswith("arn:aws:iam::aws:")}
    assert READ_ONLY_ACCESS in aws_policies
    assert "arn:aws:iam::aws:policy/IAMFullAccess" not in aws_policies

    def listed(*filters: str) -> dict[str, set[str]]:
        found = iam.get_account_authorization_details(Filter=list(filters))
        return {
            "users": {u["UserName"] for u in found["UserDetailList"]},
            "groups": {g["GroupName"] for g in found["GroupDetailList"]},
            "roles": {r["RoleName"] for r in found["RoleDetailList"]},
            "policies": {p["PolicyName"] for p in found["Policies"]},
        }

    empty: set[str] = set()
    by_user = listed("User")
    assert {"alice", "bob"} <= by_user["users"]
    assert by_user["groups"] == by_user["policies"] == by_user["roles"] == empty
    by_group = listed("Group")
    assert "devs" in by_group["groups"]
    assert by_group["users"] == by_group["policies"] == by_group["roles"] == empty
    assert listed("Role") == {
        "users": empty,
        "groups": empty,
        "roles": {"deployer"},
        "policies": empty,
    }
    assert listed("LocalManagedPolicy")["policies"] == {"Boundary", "Shared"}
    aws_used = listed("AWSManagedPolicy")
    assert "ReadOnlyAccess" in aws_used["policies"]
    assert not aws_used["policies"] & {"Boundary", "Shared"}
    both = listed("Group", "LocalManagedPolicy")
    assert both["groups"] == by_group["groups"]
    assert both["policies"] == {"Boundary", "Shared"}
    assert both["users"] == empty


def test_paginator_returns_everything_exactly_once(own_server: RunningServer) -> None:
    iam = own_server.client("iam")
    for n in range(7):
        iam.create_user(UserName=f"user{n:02d}")
        iam.create_group(GroupName=f"group{n:02d}")
        iam.create_role(RoleName=f"role{n:02d}", AssumeRolePolicyDocument=TRUST)
    iam.attach_user_policy(UserName="user00", PolicyArn=ADMINISTRATOR_ACCESS)
    whole = iam.get_account_authorization_details(MaxItems=1000)
    assert whole["IsTruncated"] is False
    expected = {key: [_identity(item) for item in whole[key]] for key in RESULT_KEYS}
    total = sum(len(items) for items in expected.values())
    assert total >= 27
    assert len(expected["RoleDetailList"]) == 8

    for page_size in (1, 3, 7):
        paginator = iam.get_paginator("get_account_authorization_details")
        pages = list(paginator.paginate(PaginationConfig={"PageSize": page_size}))
        assert len(pages) >= 3
        for page in pages[:-1]:
            assert page["IsTruncated"] is True
            assert page["Marker"]
            assert sum(len(page[key]) for key in RESULT_KEYS) == page_size
        assert pages[-1]["IsTruncated"] is False
        got = {key: [_identity(i) for p in pages for i in p[key]] for key in RESULT_KEYS}
        assert got == expected

    # A filtered listing paginates over its own items only.
    paginator = iam.get_paginator("get_account_authorization_details")
    pages = list(paginator.paginate(Filter=["Group"], PaginationConfig={"PageSize": 2}))
    groups = [g["GroupName"] for p in pages for g in p["GroupDetailList"]]
    assert groups == [g["GroupName"] for g in whole["GroupDetailList"]]
    assert {"devs", *(f"group{n:02d}" for n in range(7))} <= set(groups)
    assert all(not p["UserDetailList"] and not p["Policies"] for p in pages)


def test_foreign_marker_is_refused(iam: Any) -> None:
    assert error_of(iam.get_account_authorization_details, Marker="bm90LW91cnM=")[:2] == (
        400,
        "InvalidInput",
    )


def _identity(item: dict[str, Any]) -> str:
    for key in ("UserId", "GroupId", "RoleId", "Arn"):
        if key in item:
            return str(item[key])
    raise AssertionError(item)

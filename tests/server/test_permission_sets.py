"""Permission sets and account assignments through boto3 against a real server: an
assignment provisions AWS's reserved role in the member account, with the permission
set's policies, which only Identity Center can change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.test_organizations import create_account
from tests.support.servers import RunningServer, start_server

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
LIST_BUCKETS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}],
    }
)


@dataclass(frozen=True)
class World:
    server: RunningServer
    admin: Any  # sso-admin
    ids: Any  # identitystore
    instance: str
    store: str
    member: str
    group: str
    user: str

    def iam_of_member(self) -> Any:
        credentials = self.server.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{self.member}:role/OrganizationAccountAccessRole",
            RoleSessionName="inspect",
        )["Credentials"]
        return self.server.client(
            "iam",
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = start_server(tmp_path_factory.mktemp("iamd-permission-sets"))
    try:
        orgs = server.client("organizations")
        orgs.create_organization(FeatureSet="ALL")
        member = create_account(orgs, "Workloads", "workloads@example.com")
        admin = server.client("sso-admin")
        instance = admin.create_instance(Name="Corp")["InstanceArn"]
        store = admin.describe_instance(InstanceArn=instance)["IdentityStoreId"]
        ids = server.client("identitystore")
        user = ids.create_user(IdentityStoreId=store, UserName="jdoe", DisplayName="J Doe")[
            "UserId"
        ]
        group = ids.create_group(IdentityStoreId=store, DisplayName="Engineers")["GroupId"]
        ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})
        yield World(server, admin, ids, instance, store, member, group, user)
    finally:
        server.stop()


def _error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return dict(raised.value.response["Error"])


def _permission_set(world: World, name: str, **extra: Any) -> str:
    return str(
        world.admin.create_permission_set(InstanceArn=world.instance, Name=name, **extra)[
            "PermissionSet"
        ]["PermissionSetArn"]
    )


def _reserved_role(iam: Any, name: str) -> dict[str, Any] | None:
    roles = iam.list_roles(PathPrefix="/aws-reserved/sso.amazonaws.com/")["Roles"]
    found = [r for r in roles if r["RoleName"].startswith(f"AWSReservedSSO_{name}_")]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_permission_set_is_created_described_updated_and_listed(world: World) -> None:
    admin = world.admin
    arn = _permission_set(
        world, "Auditors", Description="read only", SessionDuration="PT4H", RelayState="home"
    )
    described = admin.describe_permission_set(InstanceArn=world.instance, PermissionSetArn=arn)[
        "PermissionSet"
    ]
    assert (described["Name"], described["SessionDuration"], described["RelayState"]) == (
        "Auditors",
        "PT4H",
        "home",
    )
    admin.update_permission_set(
        InstanceArn=world.instance, PermissionSetArn=arn, SessionDuration="PT8H"
    )
    assert (
        admin.describe_permission_set(InstanceArn=world.instance, PermissionSetArn=arn)[
            "PermissionSet"
        ]["SessionDuration"]
        == "PT8H"
    )
    assert arn in admin.list_permission_sets(InstanceArn=world.instance)["PermissionSets"]
    twice = _error(admin.create_permission_set, InstanceArn=world.instance, Name="Auditors")
    assert twice["Code"] == "ConflictException"
    too_long = _error(
        admin.create_permission_set,
        InstanceArn=world.instance,
        Name="Long",
        SessionDuration="PT13H",
    )
    assert too_long["Code"] == "ValidationException"

    admin.tag_resource(
        InstanceArn=world.instance, ResourceArn=arn, Tags=[{"Key": "team", "Value": "sec"}]
    )
    tags = admin.list_tags_for_resource(InstanceArn=world.instance, ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "sec"}]
    admin.untag_resource(InstanceArn=world.instance, ResourceArn=arn, TagKeys=["team"])
    assert admin.list_tags_for_resource(InstanceArn=world.instance, ResourceArn=arn)["Tags"] == []

    admin.delete_permission_set(InstanceArn=world.instance, PermissionSetArn=arn)
    gone = _error(admin.describe_permission_set, InstanceArn=world.instance, PermissionSetArn=arn)
    assert gone["Code"] == "ResourceNotFoundException"


def test_an_assignment_provisions_the_reserved_role_in_the_account(world: World) -> None:
    admin = world.admin
    arn = _permission_set(world, "Engineering", SessionDuration="PT2H")
    admin.put_inline_policy_to_permission_set(
        InstanceArn=world.instance, PermissionSetArn=arn, InlinePolicy=LIST_BUCKETS
    )
    admin.attach_managed_policy_to_permission_set(
        InstanceArn=world.instance, PermissionSetArn=arn, ManagedPolicyArn=READ_ONLY
    )
    attached = admin.list_managed_policies_in_permission_set(
        InstanceArn=world.instance, PermissionSetArn=arn
    )["AttachedManagedPolicies"]
    assert attached == [{"Name": "ReadOnlyAccess", "Arn": READ_ONLY}]

    created = admin.create_account_assignment(
        InstanceArn=world.instance,
        TargetId=world.member,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=arn,
        PrincipalType="GROUP",
        PrincipalId=world.group,
    )["AccountAssignmentCreationStatus"]
    assert created["Status"] == "SUCCEEDED"
    status = admin.describe_account_assignment_creation_status(
        InstanceArn=world.instance, AccountAssignmentCreationRequestId=created["RequestId"]
    )["AccountAssignmentCreationStatus"]
    assert (status["TargetId"], status["PrincipalId"]) == (world.member, world.group)

    iam = world.iam_of_member()
    role = _reserved_role(iam, "Engineering")
    assert role is not None
    assert role["Path"] == "/aws-reserved/sso.amazonaws.com/"
    assert len(role["RoleName"]) == len("AWSReservedSSO_Engineering_") + 16
    assert role["MaxSessionDuration"] == 7200
    trust = role["AssumeRolePolicyDocument"]
    statement = trust["Statement"][0]
    assert statement["Action"] == ["sts:AssumeRoleWithSAML", "sts:TagSession"]
    assert statement["Principal"]["Federated"].startswith(
        f"arn:aws:iam::{world.member}:saml-provider/AWSSSO_"
    )
    name = role["RoleName"]
    policies = iam.list_role_policies(RoleName=name)["PolicyNames"]
    assert policies == ["AwsSSOInlinePolicy"]
    managed = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in managed] == [READ_ONLY]

    # Only Identity Center changes the role.
    for call, params in (
        (iam.delete_role, {}),
        (iam.put_role_policy, {"PolicyName": "x", "PolicyDocument": LIST_BUCKETS}),
        (iam.detach_role_policy, {"PolicyArn": READ_ONLY}),
        (iam.update_role, {"MaxSessionDuration": 3600}),
    ):
        assert _error(call, RoleName=name, **params)["Code"] == "UnmodifiableEntity", call

    listed = admin.list_account_assignments(
        InstanceArn=world.instance, AccountId=world.member, PermissionSetArn=arn
    )["AccountAssignments"]
    assert [(a["PrincipalType"], a["PrincipalId"]) for a in listed] == [("GROUP", world.group)]
    for_group = admin.list_account_assignments_for_principal(
        InstanceArn=world.instance, PrincipalId=world.group, PrincipalType="GROUP"
    )["AccountAssignments"]
    assert [a["AccountId"] for a in for_group] == [world.member]
    assert admin.list_accounts_for_provisioned_permission_set(
        InstanceArn=world.instance, PermissionSetArn=arn
    )["AccountIds"] == [world.member]
    assert (
        arn
        in admin.list_permission_sets_provisioned_to_account(
            InstanceArn=world.instance, AccountId=world.member
        )["PermissionSets"]
    )
    in_use = _error(admin.delete_permission_set, InstanceArn=world.instance, PermissionSetArn=arn)
    assert in_use["Code"] == "ConflictException"

    # A changed permission set reaches the role when it is provisioned again.
    admin.delete_inline_policy_from_permission_set(InstanceArn=world.instance, PermissionSetArn=arn)
    admin.update_permission_set(
        InstanceArn=world.instance, PermissionSetArn=arn, SessionDuration="PT3H"
    )
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["AwsSSOInlinePolicy"]
    provisioned = admin.provision_permission_set(
        InstanceArn=world.instance, PermissionSetArn=arn, TargetType="ALL_PROVISIONED_ACCOUNTS"
    )["PermissionSetProvisioningStatus"]
    assert provisioned["Status"] == "SUCCEEDED"
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 10800
    assert _reserved_role(iam, "Engineering") is not None

    # The last assignment's deletion deletes the role.
    deleted = admin.delete_account_assignment(
        InstanceArn=world.instance,
        TargetId=world.member,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=arn,
        PrincipalType="GROUP",
        PrincipalId=world.group,
    )["AccountAssignmentDeletionStatus"]
    assert deleted["Status"] == "SUCCEEDED"
    assert _reserved_role(iam, "Engineering") is None
    assert (
        admin.list_accounts_for_provisioned_permission_set(
            InstanceArn=world.instance, PermissionSetArn=arn
        )["AccountIds"]
        == []
    )
    statuses = admin.list_account_assignment_deletion_status(InstanceArn=world.instance)[
        "AccountAssignmentsDeletionStatus"
    ]
    assert deleted["RequestId"] in [s["RequestId"] for s in statuses]


def test_a_missing_customer_policy_fails_the_assignment_with_aws_reason(world: World) -> None:
    admin = world.admin
    arn = _permission_set(world, "Custom")
    admin.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=world.instance,
        PermissionSetArn=arn,
        CustomerManagedPolicyReference={"Name": "TeamPolicy", "Path": "/teams/"},
    )
    refs = admin.list_customer_managed_policy_references_in_permission_set(
        InstanceArn=world.instance, PermissionSetArn=arn
    )["CustomerManagedPolicyReferences"]
    assert refs == [{"Name": "TeamPolicy", "Path": "/teams/"}]
    params = {
        "InstanceArn": world.instance,
        "TargetId": world.member,
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": arn,
        "PrincipalType": "USER",
        "PrincipalId": world.user,
    }
    failed = admin.create_account_assignment(**params)["AccountAssignmentCreationStatus"]
    assert failed["Status"] == "FAILED"
    assert "TeamPolicy" in failed["FailureReason"]
    iam = world.iam_of_member()
    assert _reserved_role(iam, "Custom") is None

    # With the policy in the account, the same assignment succeeds.
    iam.create_policy(PolicyName="TeamPolicy", Path="/teams/", PolicyDocument=LIST_BUCKETS)
    done = admin.create_account_assignment(**params)["AccountAssignmentCreationStatus"]
    assert done["Status"] == "SUCCEEDED"
    role = _reserved_role(iam, "Custom")
    assert role is not None
    managed = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert [p["PolicyArn"] for p in managed] == [
        f"arn:aws:iam::{world.member}:policy/teams/TeamPolicy"
    ]


def test_bad_assignments_are_refused(world: World) -> None:
    admin = world.admin
    arn = _permission_set(world, "Refused")
    base = {
        "InstanceArn": world.instance,
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": arn,
        "PrincipalType": "USER",
    }
    outside = _error(
        admin.create_account_assignment, TargetId="999999999999", PrincipalId=world.user, **base
    )
    assert outside["Code"] == "ValidationException"
    nobody = _error(
        admin.create_account_assignment,
        TargetId=world.member,
        PrincipalId=f"{world.store[2:]}-00000000-0000-0000-0000-000000000000",
        **base,
    )
    assert nobody["Code"] == "ResourceNotFoundException"
    unknown = _error(
        admin.describe_account_assignment_creation_status,
        InstanceArn=world.instance,
        AccountAssignmentCreationRequestId="00000000-0000-0000-0000-000000000000",
    )
    assert unknown["Code"] == "ResourceNotFoundException"
    not_attached = _error(
        admin.detach_managed_policy_from_permission_set,
        InstanceArn=world.instance,
        PermissionSetArn=arn,
        ManagedPolicyArn=READ_ONLY,
    )
    assert not_attached["Code"] == "ResourceNotFoundException"
    # Nobody else may create a role on Identity Center's path.
    iam = world.server.client("iam")
    reserved = _error(
        iam.create_role,
        RoleName="Sneaky",
        Path="/aws-reserved/sso.amazonaws.com/",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    assert reserved["Code"] == "InvalidInput"

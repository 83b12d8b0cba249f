"""Service control policies through boto3: the policy type, policies, attachments,
FullAWSAccess, limits and errors in AWS's words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.test_organizations import ACCOUNT, create_account, error_of, org_server, orgs
from tests.support.servers import RunningServer, start_server

__all__ = ["org_server", "orgs"]

DENY_CREATE_USER = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}],
    }
)


@pytest.fixture
def scp_org(orgs: Any) -> Iterator[tuple[Any, str]]:
    orgs.create_organization(FeatureSet="ALL")
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    yield orgs, root_id
    for policy in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]:
        if policy["AwsManaged"]:
            continue
        for target in orgs.list_targets_for_policy(PolicyId=policy["Id"])["Targets"]:
            orgs.detach_policy(PolicyId=policy["Id"], TargetId=target["TargetId"])
        orgs.delete_policy(PolicyId=policy["Id"])
    for ou in orgs.list_organizational_units_for_parent(ParentId=root_id)["OrganizationalUnits"]:
        for account in orgs.list_accounts_for_parent(ParentId=ou["Id"])["Accounts"]:
            orgs.move_account(
                AccountId=account["Id"], SourceParentId=ou["Id"], DestinationParentId=root_id
            )
        orgs.delete_organizational_unit(OrganizationalUnitId=ou["Id"])


def test_enabling_scps_attaches_full_aws_access_everywhere(scp_org: tuple[Any, str]) -> None:
    orgs, root_id = scp_org
    ou = orgs.create_organizational_unit(ParentId=root_id, Name="Before")["OrganizationalUnit"]
    not_enabled = error_of(orgs.attach_policy, PolicyId="p-FullAWSAccess", TargetId=root_id)
    assert not_enabled["Code"] == "PolicyTypeNotEnabledException"

    root = orgs.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")["Root"]
    assert root["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    again = error_of(orgs.enable_policy_type, RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    assert again["Code"] == "PolicyTypeAlreadyEnabledException"

    full = orgs.describe_policy(PolicyId="p-FullAWSAccess")["Policy"]
    assert full["PolicySummary"] == {
        "Id": "p-FullAWSAccess",
        "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
        "Name": "FullAWSAccess",
        "Description": "Allows access to every operation",
        "Type": "SERVICE_CONTROL_POLICY",
        "AwsManaged": True,
    }
    assert json.loads(full["Content"])["Statement"] == [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}
    ]
    after = orgs.create_organizational_unit(ParentId=root_id, Name="After")["OrganizationalUnit"]
    for target in (root_id, ou["Id"], after["Id"], ACCOUNT):
        policies = orgs.list_policies_for_target(TargetId=target, Filter="SERVICE_CONTROL_POLICY")
        assert [p["Id"] for p in policies["Policies"]] == ["p-FullAWSAccess"]
    targets = orgs.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]
    assert {t["TargetId"] for t in targets} == {root_id, ou["Id"], after["Id"], ACCOUNT}
    assert {t["Type"] for t in targets} == {"ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT"}

    immutable = error_of(orgs.update_policy, PolicyId="p-FullAWSAccess", Name="Mine")
    assert immutable["Reason"] == "IMMUTABLE_POLICY"
    last = error_of(orgs.detach_policy, PolicyId="p-FullAWSAccess", TargetId=ou["Id"])
    assert last["Code"] == "ConstraintViolationException"
    assert last["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"

    orgs.disable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    assert orgs.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"] == []
    disabled = error_of(
        orgs.disable_policy_type, RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY"
    )
    assert disabled["Code"] == "PolicyTypeNotEnabledException"
    wrong_root = error_of(
        orgs.enable_policy_type, RootId="r-zzzz", PolicyType="SERVICE_CONTROL_POLICY"
    )
    assert wrong_root["Code"] == "RootNotFoundException"


def test_policy_crud_attach_detach_and_listing(scp_org: tuple[Any, str]) -> None:
    orgs, root_id = scp_org
    org_id = orgs.describe_organization()["Organization"]["Id"]
    orgs.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    created = orgs.create_policy(
        Name="DenyCreateUser",
        Description="No new IAM users",
        Content=DENY_CREATE_USER,
        Type="SERVICE_CONTROL_POLICY",
        Tags=[{"Key": "owner", "Value": "sec"}],
    )["Policy"]
    summary = created["PolicySummary"]
    policy_id = summary["Id"]
    assert summary["Arn"] == (
        f"arn:aws:organizations::{ACCOUNT}:policy/{org_id}/service_control_policy/{policy_id}"
    )
    assert summary["AwsManaged"] is False
    assert created["Content"] == DENY_CREATE_USER
    assert orgs.describe_policy(PolicyId=policy_id)["Policy"] == created
    assert orgs.list_tags_for_resource(ResourceId=policy_id)["Tags"] == [
        {"Key": "owner", "Value": "sec"}
    ]
    listed = orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert [p["Name"] for p in listed] == ["FullAWSAccess", "DenyCreateUser"]

    duplicate = error_of(
        orgs.create_policy,
        Name="DenyCreateUser",
        Description="",
        Content=DENY_CREATE_USER,
        Type="SERVICE_CONTROL_POLICY",
    )
    assert duplicate["Code"] == "DuplicatePolicyException"

    ou = orgs.create_organizational_unit(ParentId=root_id, Name="Locked")["OrganizationalUnit"]
    orgs.attach_policy(PolicyId=policy_id, TargetId=ou["Id"])
    twice = error_of(orgs.attach_policy, PolicyId=policy_id, TargetId=ou["Id"])
    assert twice["Code"] == "DuplicatePolicyAttachmentException"
    on_ou = orgs.list_policies_for_target(TargetId=ou["Id"], Filter="SERVICE_CONTROL_POLICY")
    assert [p["Id"] for p in on_ou["Policies"]] == ["p-FullAWSAccess", policy_id]
    assert orgs.list_targets_for_policy(PolicyId=policy_id)["Targets"] == [
        {
            "TargetId": ou["Id"],
            "Arn": f"arn:aws:organizations::{ACCOUNT}:ou/{org_id}/{ou['Id']}",
            "Name": "Locked",
            "Type": "ORGANIZATIONAL_UNIT",
        }
    ]
    in_use = error_of(orgs.delete_policy, PolicyId=policy_id)
    assert in_use["Code"] == "PolicyInUseException"

    # Replace FullAWSAccess by the deny-list policy: now the OU's last SCP is ours.
    orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou["Id"])
    last = error_of(orgs.detach_policy, PolicyId=policy_id, TargetId=ou["Id"])
    assert last["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    orgs.attach_policy(PolicyId="p-FullAWSAccess", TargetId=ou["Id"])
    orgs.detach_policy(PolicyId=policy_id, TargetId=ou["Id"])
    not_attached = error_of(orgs.detach_policy, PolicyId=policy_id, TargetId=ou["Id"])
    assert not_attached["Code"] == "PolicyNotAttachedException"

    updated = orgs.update_policy(PolicyId=policy_id, Name="Renamed", Description="new")["Policy"]
    assert updated["PolicySummary"]["Name"] == "Renamed"
    assert updated["Content"] == DENY_CREATE_USER
    orgs.delete_policy(PolicyId=policy_id)
    missing = error_of(orgs.describe_policy, PolicyId=policy_id)
    assert missing["Code"] == "PolicyNotFoundException"
    no_target = error_of(orgs.attach_policy, PolicyId="p-FullAWSAccess", TargetId="999999999999")
    assert no_target["Code"] == "TargetNotFoundException"


@pytest.mark.parametrize(
    ("content", "code", "reason"),
    [
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Deny", "Action": f"iam:Action{n:04d}", "Resource": "*"}
                        for n in range(100)
                    ],
                }
            ),
            "ConstraintViolationException",
            "POLICY_CONTENT_LIMIT_EXCEEDED",
        ),
        ("{not json", "MalformedPolicyDocumentException", None),
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
                    ],
                }
            ),
            "MalformedPolicyDocumentException",
            None,
        ),
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}],
                }
            ),
            "MalformedPolicyDocumentException",
            None,
        ),
    ],
    ids=["too-big", "not-json", "principal", "bad-effect"],
)
def test_bad_scp_documents_are_refused_and_nothing_is_stored(
    scp_org: tuple[Any, str], content: str, code: str, reason: str | None
) -> None:
    orgs, _root_id = scp_org
    error = error_of(
        orgs.create_policy,
        Name="Bad",
        Description="",
        Content=content,
        Type="SERVICE_CONTROL_POLICY",
    )
    assert error["Code"] == code
    assert error["Reason"] == reason
    assert [p["Name"] for p in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]] == [
        "FullAWSAccess"
    ]


def test_a_policy_of_exactly_5120_characters_is_accepted(scp_org: tuple[Any, str]) -> None:
    orgs, _root_id = scp_org
    base: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}],
    }
    filler = 5120 - len(json.dumps(base))
    base["Statement"][0]["Sid"] = "S" * filler
    content = json.dumps(base)
    assert len(content) == 5120
    created = orgs.create_policy(
        Name="Big", Description="", Content=content, Type="SERVICE_CONTROL_POLICY"
    )
    assert created["Policy"]["Content"] == content


def test_tags_on_roots_ous_and_accounts(
    scp_org: tuple[Any, str], org_server: RunningServer
) -> None:
    orgs, root_id = scp_org
    account_id = create_account(orgs, "Tagged", "tagged@example.com")
    for resource in (root_id, account_id):
        orgs.tag_resource(
            ResourceId=resource, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
        )
        orgs.untag_resource(ResourceId=resource, TagKeys=["a"])
        assert orgs.list_tags_for_resource(ResourceId=resource)["Tags"] == [
            {"Key": "b", "Value": "2"}
        ]
    too_many = error_of(
        orgs.tag_resource,
        ResourceId=root_id,
        Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)],
    )
    assert too_many["Reason"] == "MAX_TAG_LIMIT_EXCEEDED"
    system = error_of(orgs.tag_resource, ResourceId=root_id, Tags=[{"Key": "aws:x", "Value": "v"}])
    assert system["Reason"] == "INVALID_SYSTEM_TAGS_PARAMETER"
    unknown = error_of(orgs.list_tags_for_resource, ResourceId="999999999999")
    assert unknown["Code"] == "TargetNotFoundException"
    orgs.remove_account_from_organization(AccountId=account_id)


def test_the_same_flow_on_postgresql_across_two_nodes(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    # One node creates the organization and an SCP; the other sees them and attaches it.
    env = {"IAMD_MASTER_KEY": "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="}
    node_a = start_server(tmp_path / "a", database_url=fresh_postgres_url, extra_env=env)
    node_b = start_server(tmp_path / "b", database_url=fresh_postgres_url, extra_env=env)
    try:
        orgs_a = node_a.client("organizations")
        orgs_b = node_b.client("organizations")
        orgs_a.create_organization(FeatureSet="ALL")
        root_id = orgs_b.list_roots()["Roots"][0]["Id"]
        orgs_a.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
        account_id = create_account(orgs_a, "Pg", "pg@example.com")
        policy_id = orgs_a.create_policy(
            Name="DenyCreateUser",
            Description="",
            Content=DENY_CREATE_USER,
            Type="SERVICE_CONTROL_POLICY",
        )["Policy"]["PolicySummary"]["Id"]
        orgs_b.attach_policy(PolicyId=policy_id, TargetId=account_id)
        twice = error_of(orgs_a.attach_policy, PolicyId=policy_id, TargetId=account_id)
        assert twice["Code"] == "DuplicatePolicyAttachmentException"
        on_account = orgs_a.list_policies_for_target(
            TargetId=account_id, Filter="SERVICE_CONTROL_POLICY"
        )["Policies"]
        assert [p["Id"] for p in on_account] == ["p-FullAWSAccess", policy_id]
        assert orgs_b.describe_account(AccountId=account_id)["Account"]["Name"] == "Pg"
    finally:
        node_a.stop()
        node_b.stop()


def test_attach_detach_and_move_are_authorized_on_every_resource_they_name(
    org_server: RunningServer, scp_org: tuple[Any, str]
) -> None:
    orgs, root_id = scp_org
    orgs.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    allowed_ou = orgs.create_organizational_unit(ParentId=root_id, Name="Delegated")
    other_ou = orgs.create_organizational_unit(ParentId=root_id, Name="Guarded")
    allowed, other = (ou["OrganizationalUnit"] for ou in (allowed_ou, other_ou))
    policy = orgs.create_policy(
        Name="NoUsers", Description="", Type="SERVICE_CONTROL_POLICY", Content=DENY_CREATE_USER
    )["Policy"]["PolicySummary"]
    member = create_account(orgs, "Delegated member", "delegated@example.com")
    iam = org_server.client("iam")
    iam.create_user(UserName="org-delegate")
    # The delegate may act on the policy, the root and one OU; not on the other OU.
    iam.put_user_policy(
        UserName="org-delegate",
        PolicyName="one-ou",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "organizations:AttachPolicy",
                            "organizations:DetachPolicy",
                            "organizations:MoveAccount",
                        ],
                        "Resource": [
                            policy["Arn"],
                            allowed["Arn"],
                            orgs.list_roots()["Roots"][0]["Arn"],
                            f"arn:aws:organizations::{ACCOUNT}:account/*/{member}",
                        ],
                    }
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="org-delegate")["AccessKey"]
    delegate = org_server.client("organizations", key["AccessKeyId"], key["SecretAccessKey"])
    try:
        delegate.attach_policy(PolicyId=policy["Id"], TargetId=allowed["Id"])
        denied = error_of(delegate.attach_policy, PolicyId=policy["Id"], TargetId=other["Id"])
        assert denied["Code"] == "AccessDeniedException"
        assert other["Arn"] in denied["Message"]
        orgs.attach_policy(PolicyId=policy["Id"], TargetId=other["Id"])
        denied = error_of(delegate.detach_policy, PolicyId=policy["Id"], TargetId=other["Id"])
        assert denied["Code"] == "AccessDeniedException"
        delegate.detach_policy(PolicyId=policy["Id"], TargetId=allowed["Id"])

        # MoveAccount: the account, where it leaves and where it goes.
        delegate.move_account(
            AccountId=member, SourceParentId=root_id, DestinationParentId=allowed["Id"]
        )
        denied = error_of(
            delegate.move_account,
            AccountId=member,
            SourceParentId=allowed["Id"],
            DestinationParentId=other["Id"],
        )
        assert denied["Code"] == "AccessDeniedException"
        parents = orgs.list_parents(ChildId=member)["Parents"]
        assert [parent["Id"] for parent in parents] == [allowed["Id"]]
    finally:
        iam.delete_access_key(UserName="org-delegate", AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName="org-delegate", PolicyName="one-ou")
        iam.delete_user(UserName="org-delegate")

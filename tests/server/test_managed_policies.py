"""Managed policies through boto3: policies, versions, tags, attachments, AWS's own."""

from __future__ import annotations

import json
from typing import Any

from tests.server.iam_helpers import (
    ACCOUNT,
    ADMINISTRATOR_ACCESS,
    IAM_FULL_ACCESS,
    POLICY_ID,
    READ_ONLY_ACCESS,
    assert_recent_utc,
    bad_pattern,
    document_of_size,
    error_of,
    policy_document,
    policy_json,
    too_long,
)

POLICY_FIELDS = {
    "PolicyName",
    "PolicyId",
    "Arn",
    "Path",
    "DefaultVersionId",
    "AttachmentCount",
    "PermissionsBoundaryUsageCount",
    "IsAttachable",
    "CreateDate",
    "UpdateDate",
}

INVALID_PATH = (
    "The specified value for path is invalid. It must begin and end with / and "
    "contain only alphanumeric characters and/or / characters."
)

AWS_MANAGED = {
    "AdministratorAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "IAMUserChangePassword",
    "IAMSelfManageServiceSpecificCredentials",
    "ReadOnlyAccess",
}


def _arn(path: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"


def _create(iam: Any, name: str, path: str = "/", **extra: Any) -> dict[str, Any]:
    created = iam.create_policy(PolicyName=name, Path=path, PolicyDocument=policy_json(), **extra)
    return dict(created["Policy"])


# -- policies -------------------------------------------------------------------------


def test_create_policy_returns_the_aws_shape(iam: Any, unique: str) -> None:
    name = f"{unique}-Readers"
    created = _create(
        iam, name, "/team/", Description="Read things", Tags=[{"Key": "k", "Value": "v"}]
    )
    # CreatePolicy echoes the tags but not the description (the CreatePolicy example in
    # AWS's API reference has none; issue 16): GetPolicy has it.
    assert set(created) == POLICY_FIELDS | {"Tags"}
    assert created["PolicyName"] == name
    assert POLICY_ID.fullmatch(created["PolicyId"])
    assert created["Arn"] == _arn("/team/", name)
    assert created["Path"] == "/team/"
    assert created["DefaultVersionId"] == "v1"
    assert created["AttachmentCount"] == 0
    assert created["PermissionsBoundaryUsageCount"] == 0
    assert created["IsAttachable"] is True
    assert created["Tags"] == [{"Key": "k", "Value": "v"}]
    assert_recent_utc(created["CreateDate"])
    assert created["UpdateDate"] == created["CreateDate"]

    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert got == {**created, "Description": "Read things"}


def test_untagged_policy_has_empty_tags_and_no_description_when_created(
    iam: Any, unique: str
) -> None:
    created = _create(iam, f"{unique}-Plain", Description="not echoed")
    assert set(created) == POLICY_FIELDS
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    # GetPolicy always has Tags, empty for an untagged policy, as AWS's does.
    assert got["Tags"] == []
    assert got["Description"] == "not echoed"
    # An AWS managed policy too.
    aws = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"]
    assert aws["Tags"] == []


def test_malformed_paths_get_aws_sentence(iam: Any, unique: str) -> None:
    """AWS's own sentence for a bad path (aws-cloudformation/cfn-lint#722, CreateRole
    with Path "test/"), for policy paths too, not the generic constraint text."""
    bad = (400, "ValidationError", INVALID_PATH)
    for path in ("test/", "/no-end", "/a b/"):
        assert (
            error_of(
                iam.create_policy, PolicyName=f"{unique}-p", Path=path, PolicyDocument=policy_json()
            )
            == bad
        ), path
        assert error_of(iam.create_user, UserName=f"{unique}-u", Path=path) == bad, path
        assert (
            error_of(
                iam.create_role, RoleName=f"{unique}-r", Path=path, AssumeRolePolicyDocument="{}"
            )
            == bad
        ), path
    assert error_of(iam.create_group, GroupName=f"{unique}-g", Path="nope") == bad
    assert error_of(iam.create_instance_profile, InstanceProfileName="ip", Path="x") == bad
    assert error_of(iam.create_virtual_mfa_device, VirtualMFADeviceName="m", Path="x") == bad
    assert error_of(iam.update_user, UserName=f"{unique}-u", NewPath="x") == bad
    # Other broken constraints keep AWS's generic text.
    status, code, message = error_of(iam.create_user, UserName="bad name!", Path="/ok/")
    assert (status, code) == (400, "ValidationError")
    assert message.startswith("1 validation error detected: Value 'bad name!'")


def test_document_comes_back_exactly_as_submitted(iam: Any, unique: str) -> None:
    # Characters that need percent-encoding on the wire, Latin-1 included, and layout
    # that is not json.dumps's: boto3 decodes what AWS stores, the submitted document.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Odd1",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": "arn:aws:s3:::bucket/a b&c=d%20+é?",
                "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
            }
        ],
    }
    text = json.dumps(document, indent=4, ensure_ascii=False)
    arn = iam.create_policy(PolicyName=f"{unique}-odd", PolicyDocument=text)["Policy"]["Arn"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == document
    assert version["VersionId"] == "v1"
    assert version["IsDefaultVersion"] is True
    assert_recent_utc(version["CreateDate"])


def test_list_policies_omits_description_and_tags(iam: Any, unique: str) -> None:
    path = f"/{unique}/"
    _create(iam, f"{unique}-b", path, Description="d", Tags=[{"Key": "k", "Value": "v"}])
    _create(iam, f"{unique}-a", f"{path}sub/")
    _create(iam, f"{unique}-c")
    listed = iam.list_policies(Scope="Local", PathPrefix=path)
    assert listed["IsTruncated"] is False
    assert [p["PolicyName"] for p in listed["Policies"]] == [f"{unique}-a", f"{unique}-b"]
    for policy in listed["Policies"]:
        assert set(policy) == POLICY_FIELDS


def test_list_policies_scope_and_only_attached(iam: Any, unique: str) -> None:
    path = f"/{unique}/"
    used = _create(iam, f"{unique}-used", path)
    _create(iam, f"{unique}-unused", path)
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=used["Arn"])

    local = iam.list_policies(Scope="Local", PathPrefix=path, OnlyAttached=True)["Policies"]
    assert [(p["PolicyName"], p["AttachmentCount"]) for p in local] == [(f"{unique}-used", 1)]
    everything = iam.list_policies(Scope="All", MaxItems=1000)["Policies"]
    arns = {p["Arn"] for p in everything}
    assert used["Arn"] in arns
    assert ADMINISTRATOR_ACCESS in arns
    aws_only = iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in aws_only)
    # The admin's group has AdministratorAccess attached since bootstrap.
    attached_aws = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert ADMINISTRATOR_ACCESS in {p["Arn"] for p in attached_aws}
    assert all(p["AttachmentCount"] > 0 for p in attached_aws)


def test_policy_names_are_unique_ignoring_case(iam: Any, unique: str) -> None:
    _create(iam, f"{unique}-Shared")
    name = f"{unique}-SHARED"
    assert error_of(iam.create_policy, PolicyName=name, PolicyDocument=policy_json()) == (
        409,
        "EntityAlreadyExists",
        f"A policy called {name} already exists. Duplicate names are not allowed.",
    )
    # Even under another path: the name alone must be unique.
    assert error_of(
        iam.create_policy, PolicyName=name, Path="/other/", PolicyDocument=policy_json()
    )[1] == ("EntityAlreadyExists")


def test_malformed_documents_are_refused(iam: Any, unique: str) -> None:
    name = f"{unique}-bad"
    syntax = (400, "MalformedPolicyDocument", "Syntax errors in policy.")
    assert error_of(iam.create_policy, PolicyName=name, PolicyDocument="{not json") == syntax
    assert (
        error_of(iam.create_policy, PolicyName=name, PolicyDocument='{"Version":"2012-10-17"}')
        == syntax
    )
    assert error_of(iam.create_policy, PolicyName=name, PolicyDocument="[]") == syntax
    no_version = json.dumps({"Statement": [policy_document()["Statement"][0]]})
    old_version = json.dumps({"Version": "2008-10-17", **json.loads(no_version)})
    must_be_new = (
        400,
        "MalformedPolicyDocument",
        "Policy document must be version 2012-10-17 or greater.",
    )
    assert error_of(iam.create_policy, PolicyName=name, PolicyDocument=no_version) == must_be_new
    assert error_of(iam.create_policy, PolicyName=name, PolicyDocument=old_version) == must_be_new
    assert error_of(iam.get_policy, PolicyArn=_arn("/", name))[1] == "NoSuchEntity"


def test_policy_size_counts_no_whitespace(iam: Any, unique: str) -> None:
    largest = document_of_size(6144)
    # Whitespace does not count towards the 6,144.
    spaced = largest.replace(",", ",    \n")
    created = iam.create_policy(PolicyName=f"{unique}-big", PolicyDocument=spaced)["Policy"]
    assert created["DefaultVersionId"] == "v1"
    too_big = document_of_size(6145)
    expected = (409, "LimitExceeded", "Cannot exceed quota for PolicySize: 6144")
    assert error_of(iam.create_policy, PolicyName=f"{unique}-big2", PolicyDocument=too_big) == (
        expected
    )
    assert (
        error_of(iam.create_policy_version, PolicyArn=created["Arn"], PolicyDocument=too_big)
        == expected
    )


def test_policy_input_constraints(iam: Any, unique: str) -> None:
    long_name = "p" * 129
    assert error_of(iam.create_policy, PolicyName=long_name, PolicyDocument=policy_json()) == (
        400,
        "ValidationError",
        too_long(long_name, "policyName", 128),
    )
    assert error_of(iam.create_policy, PolicyName="a:b", PolicyDocument=policy_json()) == (
        400,
        "ValidationError",
        bad_pattern("a:b", "policyName"),
    )
    # Policy paths are stricter than user paths: no '!' for instance.
    assert error_of(
        iam.create_policy, PolicyName=f"{unique}-p", Path="/a!b/", PolicyDocument=policy_json()
    ) == (400, "ValidationError", INVALID_PATH)
    description = "d" * 1001
    assert error_of(
        iam.create_policy,
        PolicyName=f"{unique}-p",
        PolicyDocument=policy_json(),
        Description=description,
    ) == (400, "ValidationError", too_long(description, "description", 1000))


def test_unknown_policy_is_no_such_entity(iam: Any, unique: str) -> None:
    arn = _arn("/", f"{unique}-missing")
    expected = (404, "NoSuchEntity", f"Policy {arn} does not exist or is not attachable.")
    assert error_of(iam.get_policy, PolicyArn=arn) == expected
    assert error_of(iam.delete_policy, PolicyArn=arn) == expected
    assert error_of(iam.get_policy_version, PolicyArn=arn, VersionId="v1") == expected
    assert error_of(iam.list_policy_versions, PolicyArn=arn) == expected
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=policy_json()) == (
        expected
    )
    assert error_of(iam.list_entities_for_policy, PolicyArn=arn) == expected
    assert error_of(iam.list_policy_tags, PolicyArn=arn) == expected
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    assert error_of(iam.attach_user_policy, UserName=user, PolicyArn=arn) == expected


def test_malformed_policy_arn_is_invalid_input(iam: Any) -> None:
    for arn in (
        f"arn:aws:iam::{ACCOUNT}:user/not-a-policy",
        f"arn:aws:iam::{ACCOUNT}:policy/",
        "not-an-arn-at-all-xyz",
    ):
        assert error_of(iam.get_policy, PolicyArn=arn) == (
            400,
            "InvalidInput",
            f"ARN {arn} is not valid.",
        )


def test_delete_policy_conflicts_then_deletes(iam: Any, unique: str) -> None:
    created = _create(iam, f"{unique}-doomed")
    arn = created["Arn"]
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    assert error_of(iam.delete_policy, PolicyArn=arn) == (
        409,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
    )
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy_json("s3:PutObject"))
    assert error_of(iam.delete_policy, PolicyArn=arn) == (
        409,
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete "
        "the policy's versions. The default version is deleted with the policy.",
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy(PolicyArn=arn)
    assert error_of(iam.get_policy, PolicyArn=arn)[1] == "NoSuchEntity"
    # The name is free again; the new policy has a new id.
    again = _create(iam, f"{unique}-doomed")
    assert again["PolicyId"] != created["PolicyId"]


# -- versions -------------------------------------------------------------------------


def test_policy_versions_lifecycle(iam: Any, unique: str) -> None:
    arn = _create(iam, f"{unique}-versioned")["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy_json("s3:PutObject"))
    assert set(v2["PolicyVersion"]) == {"VersionId", "IsDefaultVersion", "CreateDate"}
    assert v2["PolicyVersion"]["VersionId"] == "v2"
    assert v2["PolicyVersion"]["IsDefaultVersion"] is False
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"

    v3 = iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=policy_json("s3:DeleteObject"), SetAsDefault=True
    )["PolicyVersion"]
    assert (v3["VersionId"], v3["IsDefaultVersion"]) == ("v3", True)
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["DefaultVersionId"] == "v3"
    assert policy["UpdateDate"] >= policy["CreateDate"]

    versions = iam.list_policy_versions(PolicyArn=arn)
    assert versions["IsTruncated"] is False
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions["Versions"]] == [
        ("v3", True),
        ("v2", False),
        ("v1", False),
    ]
    assert all("Document" not in v for v in versions["Versions"])
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert got["Document"] == policy_document("s3:PutObject")

    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"][
        "IsDefaultVersion"
    ]
    assert error_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v2") == (
        409,
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    # Version ids are not reused after a deletion.
    v4 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy_json())["PolicyVersion"]
    assert v4["VersionId"] == "v4"


def test_at_most_five_versions(iam: Any, unique: str) -> None:
    arn = _create(iam, f"{unique}-five")["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy_json())
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=policy_json()) == (
        409,
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you "
        "must delete an existing version.",
    )
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 5


def test_unknown_version_is_no_such_entity(iam: Any, unique: str) -> None:
    arn = _create(iam, f"{unique}-v")["Arn"]
    expected = (
        404,
        "NoSuchEntity",
        f"Policy {arn} version v9 does not exist or is not attachable.",
    )
    assert error_of(iam.get_policy_version, PolicyArn=arn, VersionId="v9") == expected
    assert error_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v9") == expected
    assert error_of(iam.set_default_policy_version, PolicyArn=arn, VersionId="v9") == expected


def test_version_id_must_match_the_model_pattern(iam: Any, unique: str) -> None:
    arn = _create(iam, f"{unique}-vid")["Arn"]
    assert error_of(iam.get_policy_version, PolicyArn=arn, VersionId="V1") == (
        400,
        "ValidationError",
        bad_pattern("V1", "versionId", r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?"),
    )


def test_version_documents_are_checked_like_new_policies(iam: Any, unique: str) -> None:
    arn = _create(iam, f"{unique}-checked")["Arn"]
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument="nope") == (
        400,
        "MalformedPolicyDocument",
        "Syntax errors in policy.",
    )
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 1


# -- tags -----------------------------------------------------------------------------


def test_policy_tags(iam: Any, unique: str) -> None:
    arn = _create(iam, f"{unique}-tagged", Tags=[{"Key": "Owner", "Value": "a"}])["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "owner", "Value": "b"}, {"Key": "x", "Value": ""}])
    tags = iam.list_policy_tags(PolicyArn=arn)
    assert tags["IsTruncated"] is False
    assert sorted((t["Key"], t["Value"]) for t in tags["Tags"]) == [("owner", "b"), ("x", "")]
    iam.untag_policy(PolicyArn=arn, TagKeys=["OWNER"])
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "x", "Value": ""}]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    status, code, _ = error_of(iam.tag_policy, PolicyArn=arn, Tags=[{"Key": "one", "Value": ""}])
    assert (status, code) == (409, "LimitExceeded")
    assert len(iam.list_policy_tags(PolicyArn=arn)["Tags"]) == 50


# -- attachments ----------------------------------------------------------------------


def test_attach_detach_and_entities_for_policy(iam: Any, unique: str) -> None:
    created = _create(iam, f"{unique}-shared", "/p/")
    arn = created["Arn"]
    user, group = f"{unique}-u", f"{unique}-g"
    user_id = iam.create_user(UserName=user, Path="/people/")["User"]["UserId"]
    group_id = iam.create_group(GroupName=group)["Group"]["GroupId"]

    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)  # attaching twice is not an error
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2

    expected_attached = [{"PolicyName": f"{unique}-shared", "PolicyArn": arn}]
    user_attached = iam.list_attached_user_policies(UserName=user)
    assert user_attached["AttachedPolicies"] == expected_attached
    assert user_attached["IsTruncated"] is False
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == (
        expected_attached
    )
    assert iam.list_attached_user_policies(UserName=user, PathPrefix="/p/")["AttachedPolicies"] == (
        expected_attached
    )
    assert iam.list_attached_user_policies(UserName=user, PathPrefix="/q/")["AttachedPolicies"] == (
        []
    )

    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert entities["PolicyUsers"] == [{"UserName": user, "UserId": user_id}]
    assert entities["PolicyGroups"] == [{"GroupName": group, "GroupId": group_id}]
    assert entities["PolicyRoles"] == []
    assert entities["IsTruncated"] is False
    only_users = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="User")
    assert (only_users["PolicyUsers"], only_users["PolicyGroups"]) == (
        [{"UserName": user, "UserId": user_id}],
        [],
    )
    by_path = iam.list_entities_for_policy(PolicyArn=arn, PathPrefix="/people/")
    assert (len(by_path["PolicyUsers"]), len(by_path["PolicyGroups"])) == (1, 0)

    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    assert iam.list_entities_for_policy(PolicyArn=arn)["PolicyUsers"] == []


def test_detaching_a_policy_that_is_not_attached(iam: Any, unique: str) -> None:
    user, group = f"{unique}-u", f"{unique}-g"
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    expected = (404, "NoSuchEntity", f"Policy {READ_ONLY_ACCESS} was not found.")
    assert error_of(iam.detach_user_policy, UserName=user, PolicyArn=READ_ONLY_ACCESS) == (expected)
    assert error_of(iam.detach_group_policy, GroupName=group, PolicyArn=READ_ONLY_ACCESS) == (
        expected
    )


def test_at_most_ten_policies_attached_per_user_and_group(iam: Any, unique: str) -> None:
    arns = [_create(iam, f"{unique}-p{i:02}")["Arn"] for i in range(11)]
    user, group = f"{unique}-u", f"{unique}-g"
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    for arn in arns[:10]:
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
        iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    assert error_of(iam.attach_user_policy, UserName=user, PolicyArn=arns[10]) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerUser: 10",
    )
    assert error_of(iam.attach_group_policy, GroupName=group, PolicyArn=arns[10]) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerGroup: 10",
    )
    # Re-attaching one already attached is still fine at the limit.
    iam.attach_user_policy(UserName=user, PolicyArn=arns[0])
    assert len(iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]) == 10


# -- AWS managed policies -------------------------------------------------------------


def test_aws_managed_policies_are_listed(iam: Any) -> None:
    listed = iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]
    by_name = {p["PolicyName"]: p for p in listed}
    assert set(by_name) >= AWS_MANAGED
    for name in AWS_MANAGED:
        policy = by_name[name]
        assert policy["Arn"] == f"arn:aws:iam::aws:policy/{name}"
        assert policy["Path"] == "/"
        assert POLICY_ID.fullmatch(policy["PolicyId"])
        assert policy["IsAttachable"] is True
        assert set(policy) == POLICY_FIELDS
    admin = iam.get_policy(PolicyArn=ADMINISTRATOR_ACCESS)["Policy"]
    document = iam.get_policy_version(
        PolicyArn=ADMINISTRATOR_ACCESS, VersionId=admin["DefaultVersionId"]
    )["PolicyVersion"]["Document"]
    assert document["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def test_aws_managed_policies_cannot_be_changed(iam: Any) -> None:
    arn = IAM_FULL_ACCESS
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    assert error_of(iam.delete_policy, PolicyArn=arn) == (
        403,
        "AccessDenied",
        "Cannot delete policies outside your own account.",
    )
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=policy_json()) == (
        403,
        "AccessDenied",
        "Cannot create versions for policies outside your own account.",
    )
    assert error_of(iam.delete_policy_version, PolicyArn=arn, VersionId=version) == (
        403,
        "AccessDenied",
        "Cannot delete policy versions for policies outside your own account.",
    )
    assert error_of(iam.set_default_policy_version, PolicyArn=arn, VersionId=version) == (
        403,
        "AccessDenied",
        "Cannot update policies outside your own account.",
    )
    assert error_of(iam.tag_policy, PolicyArn=arn, Tags=[{"Key": "k", "Value": "v"}])[:2] == (
        403,
        "AccessDenied",
    )
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == version


def test_aws_managed_policies_can_be_attached(iam: Any, unique: str) -> None:
    user = f"{unique}-reader"
    iam.create_user(UserName=user)
    before = iam.get_policy(PolicyArn=READ_ONLY_ACCESS)["Policy"]["AttachmentCount"]
    iam.attach_user_policy(UserName=user, PolicyArn=READ_ONLY_ACCESS)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY_ACCESS}
    ]
    users = iam.list_entities_for_policy(PolicyArn=READ_ONLY_ACCESS, EntityFilter="User")
    assert user in {u["UserName"] for u in users["PolicyUsers"]}
    after = iam.get_policy(PolicyArn=READ_ONLY_ACCESS)["Policy"]["AttachmentCount"]
    assert after >= before + 1
    iam.detach_user_policy(UserName=user, PolicyArn=READ_ONLY_ACCESS)

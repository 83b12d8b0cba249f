"""IAM roles through boto3: the role, its trust policy, tags, policies and boundary."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tests.server.iam_helpers import (
    ACCOUNT,
    ADMINISTRATOR_ACCESS,
    READ_ONLY_ACCESS,
    all_pages,
    assert_recent_utc,
    bad_pattern,
    document_of_size,
    error_of,
    policy_document,
    policy_json,
    too_long,
    validation_message,
)
from tests.support.servers import RunningServer, start_server

ROLE_ID = re.compile(r"AROA[A-Z2-7]{17}")
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def trust(principal: Any = None, action: Any = "sts:AssumeRole", **extra: Any) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": principal if principal is not None else {"AWS": ROOT},
        "Action": action,
        **extra,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_create_get_list_update_delete(iam: Any, unique: str) -> None:
    name = f"{unique}-Deployer"
    document = trust(Condition={"StringEquals": {"sts:ExternalId": "x y%&"}})
    created = iam.create_role(
        RoleName=name,
        Path="/ci/",
        AssumeRolePolicyDocument=document,
        Description="Deploys things",
        Tags=[{"Key": "team", "Value": "ops"}],
    )["Role"]
    assert ROLE_ID.fullmatch(created["RoleId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ci/{name}"
    assert created["Path"] == "/ci/"
    assert created["RoleName"] == name
    assert created["AssumeRolePolicyDocument"] == json.loads(document)
    assert created["Description"] == "Deploys things"
    assert created["Tags"] == [{"Key": "team", "Value": "ops"}]
    assert_recent_utc(created["CreateDate"])

    got = iam.get_role(RoleName=name.upper())["Role"]
    assert got["RoleName"] == name
    assert got["RoleId"] == created["RoleId"]
    assert got["MaxSessionDuration"] == 3600
    assert got["AssumeRolePolicyDocument"] == json.loads(document)
    assert got["RoleLastUsed"] == {}
    assert "PermissionsBoundary" not in got

    listed = [r for r in iam.list_roles(PathPrefix="/ci/")["Roles"] if r["RoleName"] == name]
    assert len(listed) == 1
    # ListRoles shows neither tags nor the last use, as AWS's does not.
    assert "Tags" not in listed[0]
    assert "RoleLastUsed" not in listed[0]
    assert listed[0]["AssumeRolePolicyDocument"] == json.loads(document)
    assert listed[0]["Description"] == "Deploys things"
    assert iam.list_roles(PathPrefix="/nothing-here/")["Roles"] == []

    iam.update_role(RoleName=name, MaxSessionDuration=43200)
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 43200
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "Deploys things"
    updated = iam.update_role_description(RoleName=name, Description="Now reads")["Role"]
    assert updated["Description"] == "Now reads"
    assert updated["MaxSessionDuration"] == 43200

    new_trust = trust({"AWS": ACCOUNT}, ["sts:AssumeRole", "sts:TagSession"])
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=new_trust)
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == json.loads(new_trust)

    iam.delete_role(RoleName=name)
    assert error_of(iam.get_role, RoleName=name) == (
        404,
        "NoSuchEntity",
        f"The role with name {name} cannot be found.",
    )


def test_trust_policy_is_percent_encoded_on_the_wire(server: RunningServer, unique: str) -> None:
    # botocore decodes the document; look at the raw XML to see what AWS sends.
    iam = server.client("iam")
    name = f"{unique}-raw"
    document = trust(Condition={"StringEquals": {"sts:ExternalId": "a b+c"}})
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)
    raw: list[bytes] = []
    iam.meta.events.register(
        "after-call.iam.GetRole", lambda http_response, **_: raw.append(http_response.content)
    )
    iam.get_role(RoleName=name)
    text = raw[0].decode()
    assert f"<AssumeRolePolicyDocument>{quote(document, safe='')}</AssumeRolePolicyDocument>" in (
        text
    )
    assert "%20" in text
    assert "+" not in text.split("AssumeRolePolicyDocument")[1]


def test_duplicate_names_and_missing_roles(iam: Any, unique: str) -> None:
    name = f"{unique}-Dup"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    assert error_of(iam.create_role, RoleName=name.lower(), AssumeRolePolicyDocument=trust()) == (
        409,
        "EntityAlreadyExists",
        f"Role with name {name.lower()} already exists.",
    )
    ghost = f"{unique}-ghost"
    missing = (404, "NoSuchEntity", f"The role with name {ghost} cannot be found.")
    calls: list[tuple[Any, dict[str, Any]]] = [
        (iam.get_role, {}),
        (iam.delete_role, {}),
        (iam.update_role, {"MaxSessionDuration": 3600}),
        (iam.update_role_description, {"Description": "d"}),
        (iam.update_assume_role_policy, {"PolicyDocument": trust()}),
        (iam.tag_role, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (iam.untag_role, {"TagKeys": ["k"]}),
        (iam.list_role_tags, {}),
        (iam.put_role_policy, {"PolicyName": "p", "PolicyDocument": policy_json()}),
        (iam.get_role_policy, {"PolicyName": "p"}),
        (iam.list_role_policies, {}),
        (iam.delete_role_policy, {"PolicyName": "p"}),
        (iam.attach_role_policy, {"PolicyArn": READ_ONLY_ACCESS}),
        (iam.detach_role_policy, {"PolicyArn": READ_ONLY_ACCESS}),
        (iam.list_attached_role_policies, {}),
        (iam.put_role_permissions_boundary, {"PermissionsBoundary": READ_ONLY_ACCESS}),
        (iam.delete_role_permissions_boundary, {}),
    ]
    for call, params in calls:
        assert error_of(call, RoleName=ghost, **params) == missing, call


def test_input_validation(iam: Any, unique: str) -> None:
    long_name = "r" * 65
    assert error_of(iam.create_role, RoleName=long_name, AssumeRolePolicyDocument=trust()) == (
        400,
        "ValidationError",
        too_long(long_name, "roleName", 64),
    )
    assert error_of(iam.create_role, RoleName="a/b", AssumeRolePolicyDocument=trust()) == (
        400,
        "ValidationError",
        bad_pattern("a/b", "roleName"),
    )
    name = f"{unique}-v"
    status, code, message = error_of(
        iam.create_role, RoleName=name, AssumeRolePolicyDocument=trust(), MaxSessionDuration=43201
    )
    assert (status, code) == (400, "ValidationError")
    assert message == validation_message(
        "43201", "maxSessionDuration", "Member must have value less than or equal to 43200"
    )
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(), MaxSessionDuration=7200)
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 7200
    assert error_of(iam.update_role, RoleName=name, MaxSessionDuration=50000)[1] == (
        "ValidationError"
    )
    assert error_of(iam.update_role_description, RoleName=name, Description="d" * 1001)[:2] == (
        400,
        "ValidationError",
    )
    assert error_of(iam.list_roles, Marker="not-a-marker-of-ours") == (
        400,
        "InvalidInput",
        "Invalid Marker.",
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}],
                }
            ),
            "Missing required field Principal",
        ),
        (trust(Resource="*"), "Has prohibited field Resource"),
        (
            trust(action="s3:GetObject"),
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (trust(action="*"), "AssumeRole policy may only specify STS AssumeRole actions."),
        (
            trust({"AWS": "arn:aws:iam::123456789012:user/*"}),
            'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"',
        ),
        (
            trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/no-such-user"}),
            f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT}:user/no-such-user"',
        ),
        (
            trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/no-such-role"}),
            f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT}:role/no-such-role"',
        ),
        ("{not json", "Syntax errors in policy."),
        (
            trust(Sid="not ok"),
            "Statement IDs (SID) must be alpha-numeric. "
            "Check that your input satisfies the regular expression [0-9A-Za-z]*",
        ),
    ],
)
def test_malformed_trust_policies(iam: Any, unique: str, document: str, message: str) -> None:
    name = f"{unique}-bad"
    assert error_of(iam.create_role, RoleName=name, AssumeRolePolicyDocument=document) == (
        400,
        "MalformedPolicyDocument",
        message,
    )
    assert error_of(iam.get_role, RoleName=name)[1] == "NoSuchEntity"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    assert error_of(iam.update_assume_role_policy, RoleName=name, PolicyDocument=document) == (
        400,
        "MalformedPolicyDocument",
        message,
    )
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == json.loads(trust())


def test_trust_policy_principals_of_every_form(iam: Any, unique: str) -> None:
    user = iam.create_user(UserName=f"{unique}-u", Path="/people/")["User"]
    other = iam.create_role(RoleName=f"{unique}-other", AssumeRolePolicyDocument=trust())["Role"]
    document = trust(
        {
            "AWS": [user["Arn"], other["Arn"], ACCOUNT, "arn:aws:iam::111122223333:root", "*"],
            "Service": "ec2.amazonaws.com",
        },
        ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    )
    iam.create_role(RoleName=f"{unique}-r", AssumeRolePolicyDocument=document)
    assert iam.get_role(RoleName=f"{unique}-r")["Role"]["AssumeRolePolicyDocument"] == (
        json.loads(document)
    )
    # A user's ARN must carry its path, as IAM resolves it to the user's unique id.
    pathless = f"arn:aws:iam::{ACCOUNT}:user/{unique}-u"
    assert error_of(
        iam.create_role, RoleName=f"{unique}-r2", AssumeRolePolicyDocument=trust({"AWS": pathless})
    ) == (400, "MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{pathless}"')


def test_trust_policy_size_quota(iam: Any, unique: str) -> None:
    head = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
    head += '"Principal":{"AWS":"*"},"Condition":{"StringEquals":{"sts:ExternalId":"'
    tail = '"}}}]}'

    def of_size(size: int) -> str:
        return head + "x" * (size - len(head) - len(tail)) + tail

    name = f"{unique}-big"
    # 2,048 characters (whitespace not counted) fit; one more does not.
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=of_size(2048))
    spaced = of_size(2048).replace(",", ", ")
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=spaced)
    expected = (409, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048")
    assert error_of(iam.update_assume_role_policy, RoleName=name, PolicyDocument=of_size(2049)) == (
        expected
    )
    assert (
        error_of(iam.create_role, RoleName=f"{name}2", AssumeRolePolicyDocument=of_size(2049))
        == expected
    )


def test_tags(iam: Any, unique: str) -> None:
    name = f"{unique}-t"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    assert iam.list_role_tags(RoleName=name)["Tags"] == []
    iam.tag_role(RoleName=name, Tags=[{"Key": "Env", "Value": "prod"}, {"Key": "b", "Value": ""}])
    iam.tag_role(RoleName=name, Tags=[{"Key": "env", "Value": "dev"}])
    tags = iam.list_role_tags(RoleName=name)
    assert tags["Tags"] == [{"Key": "b", "Value": ""}, {"Key": "env", "Value": "dev"}]
    assert tags["IsTruncated"] is False
    first = iam.list_role_tags(RoleName=name, MaxItems=1)
    assert first["IsTruncated"] is True
    assert len(first["Tags"]) == 1
    rest = iam.list_role_tags(RoleName=name, Marker=first["Marker"])
    assert first["Tags"] + rest["Tags"] == tags["Tags"]
    assert iam.get_role(RoleName=name)["Role"]["Tags"] == tags["Tags"]
    iam.untag_role(RoleName=name, TagKeys=["ENV", "missing"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "b", "Value": ""}]
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert error_of(iam.tag_role, RoleName=name, Tags=many) == (
        409,
        "LimitExceeded",
        "The number of tags has reached the maximum limit.",
    )
    duplicate = [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
    assert error_of(
        iam.create_role, RoleName=f"{name}2", AssumeRolePolicyDocument=trust(), Tags=duplicate
    ) == (
        400,
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )


def test_inline_policies(iam: Any, unique: str) -> None:
    name = f"{unique}-i"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    iam.put_role_policy(RoleName=name, PolicyName="S3", PolicyDocument=policy_json("s3:*"))
    got = iam.get_role_policy(RoleName=name.upper(), PolicyName="S3")
    got.pop("ResponseMetadata")
    assert got == {"RoleName": name, "PolicyName": "S3", "PolicyDocument": policy_document("s3:*")}
    iam.put_role_policy(RoleName=name, PolicyName="S3", PolicyDocument=policy_json("s3:Get*"))
    assert iam.get_role_policy(RoleName=name, PolicyName="S3")["PolicyDocument"] == (
        policy_document("s3:Get*")
    )
    iam.put_role_policy(RoleName=name, PolicyName="A", PolicyDocument=policy_json())
    names, pages = all_pages(iam, "list_role_policies", "PolicyNames", 1, RoleName=name)
    assert (names, pages) == (["A", "S3"], 2)
    # An identity policy, not a trust policy: no Principal.
    with_principal = trust(Resource="*")
    assert error_of(
        iam.put_role_policy, RoleName=name, PolicyName="T", PolicyDocument=with_principal
    ) == (
        400,
        "MalformedPolicyDocument",
        "Policy document should not specify a principal.",
    )
    iam.delete_role_policy(RoleName=name, PolicyName="S3")
    missing = (404, "NoSuchEntity", "The role policy with name S3 cannot be found.")
    assert error_of(iam.get_role_policy, RoleName=name, PolicyName="S3") == missing
    assert error_of(iam.delete_role_policy, RoleName=name, PolicyName="S3") == missing
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["A"]


def test_inline_policies_share_10240_characters(iam: Any, unique: str) -> None:
    name = f"{unique}-size"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    iam.put_role_policy(RoleName=name, PolicyName="a", PolicyDocument=document_of_size(5000))
    iam.put_role_policy(RoleName=name, PolicyName="b", PolicyDocument=document_of_size(5240))
    assert error_of(
        iam.put_role_policy, RoleName=name, PolicyName="c", PolicyDocument=document_of_size(200)
    ) == (409, "LimitExceeded", f"Maximum policy size of 10240 bytes exceeded for role {name}")
    # Replacing a policy counts only its new size.
    iam.put_role_policy(RoleName=name, PolicyName="b", PolicyDocument=document_of_size(5000))


def test_attached_policies_quota_and_listing(iam: Any, unique: str) -> None:
    name = f"{unique}-a"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    arns = [
        iam.create_policy(
            PolicyName=f"{unique}-p{i:02}", Path="/team/", PolicyDocument=policy_json()
        )["Policy"]["Arn"]
        for i in range(11)
    ]
    for arn in arns[:10]:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    iam.attach_role_policy(RoleName=name, PolicyArn=arns[0])  # attached already: fine
    assert error_of(iam.attach_role_policy, RoleName=name, PolicyArn=arns[10]) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
    )
    attached, pages = all_pages(
        iam, "list_attached_role_policies", "AttachedPolicies", 4, RoleName=name
    )
    assert pages == 3
    assert [p["PolicyArn"] for p in attached] == sorted(arns[:10])
    assert (
        iam.list_attached_role_policies(RoleName=name, PathPrefix="/other/")["AttachedPolicies"]
        == []
    )
    assert iam.get_policy(PolicyArn=arns[0])["Policy"]["AttachmentCount"] == 1
    entities = iam.list_entities_for_policy(PolicyArn=arns[0])
    assert entities["PolicyRoles"] == [
        {"RoleName": name, "RoleId": iam.get_role(RoleName=name)["Role"]["RoleId"]}
    ]
    assert entities["PolicyUsers"] == []
    assert entities["PolicyGroups"] == []
    assert iam.list_entities_for_policy(PolicyArn=arns[0], EntityFilter="User")["PolicyRoles"] == []
    assert error_of(iam.delete_policy, PolicyArn=arns[0]) == (
        409,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
    )
    iam.detach_role_policy(RoleName=name, PolicyArn=arns[0])
    assert error_of(iam.detach_role_policy, RoleName=name, PolicyArn=arns[0]) == (
        404,
        "NoSuchEntity",
        f"Policy {arns[0]} was not found.",
    )
    iam.delete_policy(PolicyArn=arns[0])


def test_delete_conflicts(iam: Any, unique: str) -> None:
    name = f"{unique}-d"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy_json())
    iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY_ACCESS)
    assert error_of(iam.delete_role, RoleName=name) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
    )
    iam.delete_role_policy(RoleName=name, PolicyName="p")
    assert error_of(iam.delete_role, RoleName=name) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
    )
    iam.detach_role_policy(RoleName=name, PolicyArn=READ_ONLY_ACCESS)
    # A permissions boundary and tags do not block the deletion.
    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=READ_ONLY_ACCESS)
    iam.tag_role(RoleName=name, Tags=[{"Key": "k", "Value": "v"}])
    iam.delete_role(RoleName=name)
    # The name is free again, with a new id.
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    assert iam.list_role_tags(RoleName=name)["Tags"] == []


def test_permissions_boundary(iam: Any, unique: str) -> None:
    boundary = iam.create_policy(PolicyName=f"{unique}-b", PolicyDocument=policy_json("iam:Get*"))[
        "Policy"
    ]["Arn"]
    name = f"{unique}-pb"
    created = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=trust(), PermissionsBoundary=boundary
    )["Role"]
    expected = {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": boundary,
    }
    assert created["PermissionsBoundary"] == expected
    assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"] == expected
    listed = next(r for r in iam.list_roles()["Roles"] if r["RoleName"] == name)
    assert "PermissionsBoundary" not in listed
    policy = iam.get_policy(PolicyArn=boundary)["Policy"]
    assert (policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]) == (0, 1)
    used = iam.list_entities_for_policy(PolicyArn=boundary, PolicyUsageFilter="PermissionsBoundary")
    assert [r["RoleName"] for r in used["PolicyRoles"]] == [name]
    listed = iam.list_policies(
        Scope="Local", PolicyUsageFilter="PermissionsBoundary", MaxItems=1000
    )
    assert boundary in {p["Arn"] for p in listed["Policies"]}
    assert error_of(iam.delete_policy, PolicyArn=boundary)[1] == "DeleteConflict"

    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=ADMINISTRATOR_ACCESS)
    assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        ADMINISTRATOR_ACCESS
    )
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    iam.delete_role_permissions_boundary(RoleName=name)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
    missing = f"arn:aws:iam::{ACCOUNT}:policy/{unique}-none"
    assert error_of(
        iam.put_role_permissions_boundary, RoleName=name, PermissionsBoundary=missing
    ) == (
        404,
        "NoSuchEntity",
        f"Scope ARN: {missing} does not exist or is not attachable.",
    )
    assert error_of(
        iam.create_role,
        RoleName=f"{name}2",
        AssumeRolePolicyDocument=trust(),
        PermissionsBoundary=missing,
    ) == (404, "NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.")
    iam.delete_policy(PolicyArn=boundary)


def test_list_roles_paginates(iam: Any, unique: str) -> None:
    names = [f"{unique}-{i:02}" for i in range(7)]
    for name in reversed(names):
        iam.create_role(RoleName=name, Path=f"/{unique}/", AssumeRolePolicyDocument=trust())
    roles, pages = all_pages(iam, "list_roles", "Roles", 3, PathPrefix=f"/{unique}/")
    assert [r["RoleName"] for r in roles] == names
    assert pages == 3


def test_roles_per_account_quota(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", extra_args=["--roles-quota", "2"])
    try:
        iam = server.client("iam")
        iam.create_role(RoleName="one", AssumeRolePolicyDocument=trust())
        iam.create_role(RoleName="two", AssumeRolePolicyDocument=trust())
        assert error_of(iam.create_role, RoleName="three", AssumeRolePolicyDocument=trust()) == (
            409,
            "LimitExceeded",
            "Cannot exceed quota for RolesPerAccount: 2",
        )
        assert iam.get_account_summary()["SummaryMap"]["RolesQuota"] == 2
        iam.delete_role(RoleName="two")
        iam.create_role(RoleName="three", AssumeRolePolicyDocument=trust())
    finally:
        server.stop()


def test_simulate_principal_policy_with_a_role(iam: Any, unique: str) -> None:
    name = f"{unique}-sim"
    role = iam.create_role(RoleName=name, Path="/sim/", AssumeRolePolicyDocument=trust())["Role"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="Inline",
        PolicyDocument=policy_json(["iam:GetRole", "iam:CreateUser"]),
    )
    iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY_ACCESS)
    results = iam.simulate_principal_policy(
        PolicySourceArn=role["Arn"],
        ActionNames=["iam:GetRole", "iam:CreateUser", "iam:DeleteUser", "s3:GetObject"],
    )["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {
        "iam:GetRole": "allowed",
        "iam:CreateUser": "allowed",
        "iam:DeleteUser": "implicitDeny",
        "s3:GetObject": "implicitDeny",
    }
    matched = {
        (m["SourcePolicyType"], m["SourcePolicyId"])
        for r in results
        if r["EvalActionName"] == "iam:GetRole"
        for m in r["MatchedStatements"]
    }
    assert ("role", "Inline") in matched
    assert ("aws-managed", "ReadOnlyAccess") in matched

    # The role's boundary caps what its policies allow.
    boundary = iam.create_policy(
        PolicyName=f"{unique}-cap", PolicyDocument=policy_json("iam:Get*")
    )["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary)
    capped = iam.simulate_principal_policy(
        PolicySourceArn=role["Arn"], ActionNames=["iam:GetRole", "iam:CreateUser"]
    )["EvaluationResults"]
    assert {r["EvalActionName"]: r["EvalDecision"] for r in capped} == {
        "iam:GetRole": "allowed",
        "iam:CreateUser": "implicitDeny",
    }
    create_user = next(r for r in capped if r["EvalActionName"] == "iam:CreateUser")
    assert create_user["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False
    }
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=role["Arn"])
    assert keys["ContextKeyNames"] == []

    # The ARN must name the role with its path.
    wrong_path = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert error_of(
        iam.simulate_principal_policy, PolicySourceArn=wrong_path, ActionNames=["iam:GetRole"]
    ) == (404, "NoSuchEntity", f"The role with name {name} cannot be found.")
    # A resource policy needs a CallerArn when the source is not a user.
    status, code, _ = error_of(
        iam.simulate_principal_policy,
        PolicySourceArn=role["Arn"],
        ActionNames=["s3:GetObject"],
        ResourcePolicy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
                ],
            }
        ),
    )
    assert (status, code) == (400, "InvalidInput")


def test_role_operations_are_authorized_against_the_role(
    server: RunningServer, iam: Any, unique: str
) -> None:
    allowed, denied = f"{unique}-mine", f"{unique}-theirs"
    for name, path in ((allowed, "/team/"), (denied, "/other/")):
        iam.create_role(
            RoleName=name,
            Path=path,
            AssumeRolePolicyDocument=trust(),
            Tags=[{"Key": "owner", "Value": "team" if path == "/team/" else "other"}],
        )
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="TeamRoles",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["iam:GetRole", "iam:TagRole"],
                        "Resource": f"arn:aws:iam::{ACCOUNT}:role/team/*",
                    },
                    {
                        "Effect": "Allow",
                        "Action": "iam:ListRoleTags",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:ResourceTag/owner": "team"}},
                    },
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert client.get_role(RoleName=allowed)["Role"]["RoleName"] == allowed
    assert client.list_role_tags(RoleName=allowed)["Tags"] == [{"Key": "owner", "Value": "team"}]
    me = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    theirs = f"arn:aws:iam::{ACCOUNT}:role/other/{denied}"
    assert error_of(client.get_role, RoleName=denied) == (
        403,
        "AccessDenied",
        f"User: {me} is not authorized to perform: iam:GetRole on resource: {theirs} "
        "because no identity-based policy allows the iam:GetRole action",
    )
    assert error_of(client.list_role_tags, RoleName=denied)[1] == "AccessDenied"
    assert error_of(client.delete_role, RoleName=allowed)[1] == "AccessDenied"


def test_deleted_principals_show_as_their_unique_ids(iam: Any, unique: str) -> None:
    user = iam.create_user(UserName=f"{unique}-u", Path="/p/")["User"]
    other = iam.create_role(RoleName=f"{unique}-o", AssumeRolePolicyDocument=trust())["Role"]
    name = f"{unique}-trusting"
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=trust({"AWS": [user["Arn"], other["Arn"], ACCOUNT]}),
    )
    iam.delete_user(UserName=user["UserName"])
    iam.delete_role(RoleName=other["RoleName"])

    def principals() -> Any:
        document = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        return document["Statement"][0]["Principal"]["AWS"]

    # As AWS shows it: the unique ids of the deleted user and role.
    assert principals() == [user["UserId"], other["RoleId"], ACCOUNT]
    # A new user of the same name is someone else: the trust policy does not name it.
    again = iam.create_user(UserName=user["UserName"], Path="/p/")["User"]
    assert again["UserId"] != user["UserId"]
    assert principals() == [user["UserId"], other["RoleId"], ACCOUNT]
    # The stored document still validates when written back.
    iam.update_assume_role_policy(
        RoleName=name, PolicyDocument=trust({"AWS": [user["UserId"], again["Arn"]]})
    )


def test_trust_follows_a_renamed_user(iam: Any, unique: str) -> None:
    user = iam.create_user(UserName=f"{unique}-a")["User"]
    name = f"{unique}-follows"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust({"AWS": user["Arn"]}))

    iam.update_user(UserName=f"{unique}-a", NewUserName=f"{unique}-b", NewPath="/moved/")

    renamed = iam.get_user(UserName=f"{unique}-b")["User"]["Arn"]
    document = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    # The renamed user is still trusted; whoever takes the old name next is not.
    assert document["Statement"][0]["Principal"]["AWS"] == renamed

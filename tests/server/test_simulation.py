"""The IAM policy simulator through boto3 and the AWS CLI: decisions, matched statements,
missing context values, boundaries, pagination, errors, and agreement with enforcement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.iam_helpers import ACCOUNT, error_of
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

# The AWS CLI's documented simulate-custom-policy example, verbatim.
DOC_EXAMPLE = (
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
    '"Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}'
)


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


def allow(action: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def date_entry(value: str) -> dict[str, Any]:
    return {
        "ContextKeyName": "aws:CurrentTime",
        "ContextKeyValues": [value],
        "ContextKeyType": "date",
    }


def test_custom_policy_reproduces_the_documented_example(iam: Any) -> None:
    out = iam.simulate_custom_policy(
        PolicyInputList=[DOC_EXAMPLE],
        ActionNames=["dynamodb:CreateBackup"],
        ContextEntries=[date_entry("2019-04-25T11:00:00Z")],
    )
    assert out["IsTruncated"] is False
    [result] = out["EvaluationResults"]
    assert result["EvalActionName"] == "dynamodb:CreateBackup"
    assert result["EvalResourceName"] == "*"
    assert result["EvalDecision"] == "allowed"
    assert result["MissingContextValues"] == []
    assert "ResourceSpecificResults" not in result
    assert "PermissionsBoundaryDecisionDetail" not in result
    assert result["MatchedStatements"] == [
        {
            "SourcePolicyId": "PolicyInputList.1",
            "SourcePolicyType": "none",
            "StartPosition": {"Line": 1, "Column": 38},
            "EndPosition": {"Line": 1, "Column": 167},
        }
    ]

    earlier = iam.simulate_custom_policy(
        PolicyInputList=[DOC_EXAMPLE],
        ActionNames=["dynamodb:CreateBackup"],
        ContextEntries=[date_entry("2014-04-25T11:00:00Z")],
    )["EvaluationResults"][0]
    assert earlier["EvalDecision"] == "implicitDeny"
    assert earlier["MatchedStatements"] == []


def test_keys_not_given_are_missing_not_invented(iam: Any) -> None:
    # Enforcement would supply aws:CurrentTime; the simulator only uses ContextEntries.
    [result] = iam.simulate_custom_policy(
        PolicyInputList=[DOC_EXAMPLE], ActionNames=["dynamodb:CreateBackup"]
    )["EvaluationResults"]
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:CurrentTime"]


def test_explicit_deny_lists_only_the_deny(iam: Any) -> None:
    policy = doc(
        {"Sid": "All", **allow("iam:*")},
        {"Sid": "NoUsers", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"},
    )
    results = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("iam:ListUsers")), policy],
        ActionNames=["iam:CreateUser", "iam:ListUsers"],
    )["EvaluationResults"]
    denied, allowed = results
    assert denied["EvalDecision"] == "explicitDeny"
    [deny] = denied["MatchedStatements"]
    assert deny["SourcePolicyId"] == "PolicyInputList.2"
    assert (deny["StartPosition"]["Line"], deny["EndPosition"]["Line"]) == (10, 15)
    assert allowed["EvalDecision"] == "allowed"
    assert [m["SourcePolicyId"] for m in allowed["MatchedStatements"]] == [
        "PolicyInputList.1",
        "PolicyInputList.2",
    ]


def test_context_entry_types(iam: Any) -> None:
    policy = doc(
        allow(
            "s3:GetObject",
            Condition={
                "NumericLessThan": {"s3:max-keys": "10"},
                "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]},
                "Bool": {"aws:SecureTransport": "true"},
            },
        )
    )

    def decide(*entries: tuple[str, list[str], str]) -> str:
        [result] = iam.simulate_custom_policy(
            PolicyInputList=[policy],
            ActionNames=["s3:GetObject"],
            ContextEntries=[
                {"ContextKeyName": n, "ContextKeyValues": v, "ContextKeyType": t}
                for n, v, t in entries
            ],
        )["EvaluationResults"]
        return str(result["EvalDecision"])

    good = [
        ("s3:max-keys", ["5"], "numeric"),
        ("aws:SourceIp", ["10.1.2.3"], "ip"),
        ("aws:TagKeys", ["a"], "stringList"),
        ("aws:SecureTransport", ["true"], "boolean"),
    ]
    assert decide(*good) == "allowed"
    assert decide(*good[:3], ("aws:SecureTransport", ["false"], "boolean")) == "implicitDeny"
    assert decide(("s3:max-keys", ["50"], "numeric"), *good[1:]) == "implicitDeny"
    assert decide(good[0], ("aws:SourceIp", ["192.0.2.1"], "ip"), *good[2:]) == "implicitDeny"
    assert decide(*good[:2], ("aws:TagKeys", ["a", "c"], "stringList"), good[3]) == "implicitDeny"


def test_custom_policy_errors(iam: Any) -> None:
    status, code, _ = error_of(
        iam.simulate_custom_policy, PolicyInputList=[DOC_EXAMPLE], ActionNames=["dynamodb:*"]
    )
    assert (status, code) == (400, "InvalidInput")
    assert error_of(
        iam.simulate_custom_policy,
        PolicyInputList=[doc(allow("iamListUsers"))],
        ActionNames=["iam:ListUsers"],
    ) == (
        400,
        "MalformedPolicyDocument",
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
    )
    assert error_of(
        iam.simulate_custom_policy, PolicyInputList=["{not json"], ActionNames=["iam:ListUsers"]
    ) == (400, "MalformedPolicyDocument", "Syntax errors in policy.")
    status, code, _ = error_of(
        iam.simulate_custom_policy,
        PolicyInputList=[DOC_EXAMPLE],
        ActionNames=["iam:ListUsers"],
        Marker="bogus",
    )
    assert (status, code) == (400, "InvalidInput")


def test_principal_policy_for_a_user_includes_its_groups(iam: Any, unique: str) -> None:
    user, group = f"{unique}-u", f"{unique}-g"
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="Own", PolicyDocument=doc(allow("iam:GetUser")))
    iam.put_group_policy(
        GroupName=group, PolicyName="Keys", PolicyDocument=doc(allow("iam:ListAccessKeys"))
    )
    arn = iam.create_policy(
        PolicyName=f"{unique}-self",
        PolicyDocument=doc(
            allow("iam:CreateAccessKey", "arn:aws:iam::*:user/${aws:username}"),
        ),
    )["Policy"]["Arn"]
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    me = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    other = f"arn:aws:iam::{ACCOUNT}:user/{unique}-other"

    results = iam.simulate_principal_policy(
        PolicySourceArn=me,
        ActionNames=["iam:GetUser", "iam:ListAccessKeys", "iam:CreateAccessKey", "iam:CreateUser"],
        ResourceArns=[me, other],
    )["EvaluationResults"]
    decisions = {(r["EvalActionName"], r["EvalResourceName"]): r for r in results}
    assert len(results) == 8
    assert {k: r["EvalDecision"] for k, r in decisions.items()} == {
        ("iam:GetUser", me): "allowed",
        ("iam:GetUser", other): "allowed",
        ("iam:ListAccessKeys", me): "allowed",
        ("iam:ListAccessKeys", other): "allowed",
        ("iam:CreateAccessKey", me): "allowed",
        ("iam:CreateAccessKey", other): "implicitDeny",
        ("iam:CreateUser", me): "implicitDeny",
        ("iam:CreateUser", other): "implicitDeny",
    }
    sources = {
        (m["SourcePolicyId"], m["SourcePolicyType"])
        for r in results
        for m in r["MatchedStatements"]
    }
    assert sources == {
        ("Own", "user"),
        ("Keys", "group"),
        (f"{unique}-self", "user-managed"),
        ("IAMReadOnlyAccess", "aws-managed"),
    }
    created = decisions[("iam:CreateAccessKey", me)]
    assert created["ResourceSpecificResults"] == [
        {
            "EvalResourceName": me,
            "EvalResourceDecision": "allowed",
            "MatchedStatements": created["MatchedStatements"],
            "MissingContextValues": [],
        }
    ]

    # For a group there is no user to substitute: ${aws:username} is missing.
    [by_group] = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:group/{group}",
        ActionNames=["iam:CreateAccessKey"],
        ResourceArns=[me],
    )["EvaluationResults"]
    assert by_group["EvalDecision"] == "implicitDeny"
    assert by_group["MissingContextValues"] == ["aws:username"]

    # ContextEntries override the user's own keys; PolicyInputList adds policies.
    [as_other] = iam.simulate_principal_policy(
        PolicySourceArn=me,
        ActionNames=["iam:CreateAccessKey"],
        ResourceArns=[other],
        PolicyInputList=[doc(allow("iam:CreateAccessKey", me))],
        ContextEntries=[
            {
                "ContextKeyName": "aws:username",
                "ContextKeyValues": [f"{unique}-other"],
                "ContextKeyType": "string",
            }
        ],
    )["EvaluationResults"]
    assert as_other["EvalDecision"] == "allowed"
    assert [m["SourcePolicyType"] for m in as_other["MatchedStatements"]] == ["user-managed"]

    keys = iam.get_context_keys_for_principal_policy(
        PolicySourceArn=me, PolicyInputList=[DOC_EXAMPLE]
    )["ContextKeyNames"]
    assert keys == ["aws:username", "aws:CurrentTime"]


def test_permissions_boundary(iam: Any, unique: str) -> None:
    user = f"{unique}-b"
    boundary = iam.create_policy(
        PolicyName=f"{unique}-boundary", PolicyDocument=doc(allow("iam:Get*"))
    )["Policy"]["Arn"]
    iam.create_user(UserName=user, PermissionsBoundary=boundary)
    iam.put_user_policy(UserName=user, PolicyName="All", PolicyDocument=doc(allow("iam:*")))
    arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"

    get_user, list_users = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["iam:GetUser", "iam:ListUsers"]
    )["EvaluationResults"]
    assert get_user["EvalDecision"] == "allowed"
    assert get_user["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert {m["SourcePolicyType"] for m in get_user["MatchedStatements"]} == {
        "user",
        "user-managed",
    }
    assert list_users["EvalDecision"] == "implicitDeny"
    assert list_users["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False
    }

    # A boundary given in the request replaces the user's own.
    [replaced] = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["iam:ListUsers"],
        PermissionsBoundaryPolicyInputList=[doc(allow("iam:List*"))],
    )["EvaluationResults"]
    assert replaced["EvalDecision"] == "allowed"
    assert ("PermissionsBoundaryPolicyInputList.1", "none") in {
        (m["SourcePolicyId"], m["SourcePolicyType"]) for m in replaced["MatchedStatements"]
    }


def test_resource_policy_and_caller(iam: Any, unique: str) -> None:
    user = f"{unique}-r"
    iam.create_user(UserName=user)
    me = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    resource_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": me},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*",
                }
            ],
        }
    )
    [result] = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("s3:ListBucket"))],
        ActionNames=["s3:GetObject"],
        ResourceArns=["arn:aws:s3:::b/k"],
        ResourcePolicy=resource_policy,
        CallerArn=me,
    )["EvaluationResults"]
    assert result["EvalDecision"] == "allowed"
    assert [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in result["MatchedStatements"]] == [
        ("ResourcePolicy", "resource")
    ]
    status, code, _ = error_of(
        iam.simulate_custom_policy,
        PolicyInputList=[doc(allow("s3:ListBucket"))],
        ActionNames=["s3:GetObject"],
        ResourcePolicy=resource_policy,
    )
    assert (status, code) == (400, "InvalidInput")


def test_pagination(iam: Any) -> None:
    actions = [f"iam:{a}" for a in ("GetUser", "ListUsers", "CreateUser", "DeleteUser", "GetGroup")]
    first = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("iam:*"))], ActionNames=actions, MaxItems=2
    )
    assert first["IsTruncated"] is True
    assert [r["EvalActionName"] for r in first["EvaluationResults"]] == actions[:2]
    pages = iam.get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[doc(allow("iam:*"))],
        ActionNames=actions,
        PaginationConfig={"PageSize": 2},
    )
    seen = [r["EvalActionName"] for page in pages for r in page["EvaluationResults"]]
    assert seen == actions


def test_principal_errors(iam: Any, unique: str) -> None:
    assert error_of(
        iam.simulate_principal_policy,
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/{unique}-nobody",
        ActionNames=["iam:GetUser"],
    ) == (404, "NoSuchEntity", f"The user with name {unique}-nobody cannot be found.")
    status, code, _ = error_of(
        iam.simulate_principal_policy,
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/{unique}-role",
        ActionNames=["iam:GetUser"],
    )
    assert (status, code) == (404, "NoSuchEntity")
    status, code, _ = error_of(
        iam.get_context_keys_for_principal_policy,
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:group/{unique}-nogroup",
    )
    assert (status, code) == (404, "NoSuchEntity")
    assert iam.get_context_keys_for_custom_policy(
        PolicyInputList=[
            DOC_EXAMPLE,
            doc(
                allow(
                    "iam:GetUser",
                    "arn:aws:iam::*:user/${aws:username}",
                    Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                )
            ),
        ]
    )["ContextKeyNames"] == ["aws:CurrentTime", "aws:username", "aws:MultiFactorAuthPresent"]


# -- the guide: the simulator agrees with enforcement ------------------------------------

COMBINED = json.loads(
    """{
"Version": "2012-10-17",
"Statement": [
{"Sid": "ManageOwnAccessKeys", "Effect": "Allow",
 "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed",
            "iam:ListAccessKeys", "iam:UpdateAccessKey"],
 "Resource": "arn:aws:iam::*:user/${aws:username}"},
{"Sid": "ManageOwnSSHKeys", "Effect": "Allow",
 "Action": ["iam:UploadSSHPublicKey", "iam:DeleteSSHPublicKey", "iam:GetSSHPublicKey",
            "iam:ListSSHPublicKeys", "iam:UpdateSSHPublicKey"],
 "Resource": "arn:aws:iam::*:user/${aws:username}"},
{"Sid": "ViewAccountInfo", "Effect": "Allow",
 "Action": ["iam:GetAccountSummary", "iam:ListAccountAliases", "iam:GetLoginProfile",
            "iam:ListMFADevices"],
 "Resource": "*"}
]}"""
)
JDOE = f"arn:aws:iam::{ACCOUNT}:user/jdoe"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def _enforced(jdoe: Any, action: str, target: str | None) -> str:
    """What enforcement decides: the real call with jdoe's own key."""
    user_param: dict[str, str] = {} if target is None else {"UserName": target}
    calls = {
        "iam:CreateAccessKey": lambda: jdoe.create_access_key(**user_param),
        "iam:ListAccessKeys": lambda: jdoe.list_access_keys(**user_param),
        "iam:UpdateAccessKey": lambda: jdoe.update_access_key(
            AccessKeyId="AKIAIOSFODNN7EXAMPLE", Status="Inactive", **user_param
        ),
        "iam:DeleteAccessKey": lambda: jdoe.delete_access_key(
            AccessKeyId="AKIAIOSFODNN7EXAMPLE", **user_param
        ),
        "iam:GetAccountSummary": jdoe.get_account_summary,
        "iam:CreateUser": lambda: jdoe.create_user(UserName="mallory"),
    }
    try:
        created = calls[action]()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        # Authorized, then the made-up key id is not found: enforcement allowed it.
        return "allowed" if code == "NoSuchEntity" else code
    if action == "iam:CreateAccessKey":  # keep within the two-keys quota
        key = created["AccessKey"]
        jdoe.delete_access_key(UserName=key["UserName"], AccessKeyId=key["AccessKeyId"])
    return "allowed"


def _simulated(aws: AwsCli, actions: list[str], resources: list[str]) -> dict[tuple[str, str], Any]:
    """What the simulator decides, through the real `aws` command (one call)."""
    out = aws.run(
        "iam",
        "simulate-principal-policy",
        "--policy-source-arn",
        JDOE,
        "--action-names",
        *actions,
        "--resource-arns",
        *resources,
    ).json()
    return {(r["EvalActionName"], r["EvalResourceName"]): r for r in out["EvaluationResults"]}


@pytest.mark.slow
def test_simulator_agrees_with_enforcement_for_the_guide(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    admin = fresh_server.client("iam")
    policy_arn = admin.create_policy(
        PolicyName="SelfManageAccessKeys", PolicyDocument=json.dumps(COMBINED, indent=2)
    )["Policy"]["Arn"]
    admin.create_group(GroupName="Developers")
    admin.attach_group_policy(GroupName="Developers", PolicyArn=policy_arn)
    for name in ("jdoe", "alice"):
        admin.create_user(UserName=name)
        admin.add_user_to_group(GroupName="Developers", UserName=name)
    key = admin.create_access_key(UserName="jdoe")["AccessKey"]
    jdoe = fresh_server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    aws = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)

    cases = [
        ("iam:CreateAccessKey", None, JDOE, "allowed"),
        ("iam:ListAccessKeys", None, JDOE, "allowed"),
        ("iam:UpdateAccessKey", "jdoe", JDOE, "allowed"),
        ("iam:DeleteAccessKey", "jdoe", JDOE, "allowed"),
        ("iam:CreateAccessKey", "alice", ALICE, "implicitDeny"),
        ("iam:ListAccessKeys", "alice", ALICE, "implicitDeny"),
        ("iam:UpdateAccessKey", "alice", ALICE, "implicitDeny"),
        ("iam:DeleteAccessKey", "alice", ALICE, "implicitDeny"),
        ("iam:GetAccountSummary", None, "*", "allowed"),
        ("iam:CreateUser", None, f"arn:aws:iam::{ACCOUNT}:user/mallory", "implicitDeny"),
    ]
    simulated = _simulated(aws, sorted({c[0] for c in cases}), sorted({c[2] for c in cases}))
    for action, target, resource, expected in cases:
        enforced = _enforced(jdoe, action, target)
        assert enforced == ("allowed" if expected == "allowed" else "AccessDenied"), action
        assert simulated[(action, resource)]["EvalDecision"] == expected, (action, resource)

    # The guide's MFA condition on CreateAccessKey/DeleteAccessKey: long-term keys carry
    # no aws:MultiFactorAuthPresent, so both paths deny, and the simulator says why.
    with_mfa = json.loads(json.dumps(COMBINED))
    first = with_mfa["Statement"][0]
    first["Action"] = ["iam:CreateAccessKey", "iam:DeleteAccessKey"]
    first["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    rest = dict(COMBINED["Statement"][0], Sid="OtherOwnKeyActions")
    rest["Action"] = ["iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey"]
    with_mfa["Statement"].insert(1, rest)
    admin.create_policy_version(
        PolicyArn=policy_arn, PolicyDocument=json.dumps(with_mfa, indent=2), SetAsDefault=True
    )
    simulated = _simulated(
        aws, ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys"], [JDOE]
    )
    for action, target in (("iam:CreateAccessKey", None), ("iam:DeleteAccessKey", "jdoe")):
        assert _enforced(jdoe, action, target) == "AccessDenied"
        result = simulated[(action, JDOE)]
        assert result["EvalDecision"] == "implicitDeny"
        assert result["MissingContextValues"] == ["aws:MultiFactorAuthPresent"]
    assert _enforced(jdoe, "iam:ListAccessKeys", None) == "allowed"
    assert simulated[("iam:ListAccessKeys", JDOE)]["EvalDecision"] == "allowed"

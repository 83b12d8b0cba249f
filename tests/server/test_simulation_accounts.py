"""The policy simulator with accounts and resource policies, through boto3: ResourcePolicy
with ResourceOwner and CallerArn as AWS documents them (same-account grants by the
resource policy alone, cross-account access needing both sides, Principal/NotPrincipal
against the caller, a resource ARN naming another account), AWS's errors for a bad
CallerArn or ResourceOwner, and OrganizationsDecisionDetail (absent without an
organization)."""

from __future__ import annotations

import json
from typing import Any

from tests.server.iam_helpers import ACCOUNT, error_of

OTHER = "210987654321" if ACCOUNT != "210987654321" else "123456789013"
OBJECT = "arn:aws:s3:::shared-bucket/report.csv"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def bucket_policy(principal: Any, *, effect: str = "Allow", not_principal: bool = False) -> str:
    key = "NotPrincipal" if not_principal else "Principal"
    return doc({"Effect": effect, key: principal, "Action": "s3:GetObject", "Resource": OBJECT})


def decide(iam: Any, **params: Any) -> dict[str, Any]:
    params.setdefault("ActionNames", ["s3:GetObject"])
    params.setdefault("ResourceArns", [OBJECT])
    [result] = iam.simulate_custom_policy(**params)["EvaluationResults"]
    return dict(result)


def user_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def test_same_account_the_resource_policy_alone_grants(iam: Any, unique: str) -> None:
    me = user_arn(ACCOUNT, f"{unique}-reader")
    result = decide(
        iam,
        PolicyInputList=[doc(allow("s3:ListBucket"))],
        ResourcePolicy=bucket_policy({"AWS": me}),
        CallerArn=me,
    )
    assert result["EvalDecision"] == "allowed"
    assert [m["SourcePolicyType"] for m in result["MatchedStatements"]] == ["resource"]
    assert "OrganizationsDecisionDetail" not in result


def test_cross_account_needs_the_resource_policy_and_the_identity_policy(
    iam: Any, unique: str
) -> None:
    # The caller is of this account, the resource of another (ResourceOwner).
    me = user_arn(ACCOUNT, f"{unique}-reader")
    trusting_me = bucket_policy({"AWS": me})
    only_resource = decide(
        iam,
        PolicyInputList=[doc(allow("s3:ListBucket"))],
        ResourcePolicy=trusting_me,
        ResourceOwner=f"arn:aws:iam::{OTHER}:root",
        CallerArn=me,
    )
    assert only_resource["EvalDecision"] == "implicitDeny"
    both = decide(
        iam,
        PolicyInputList=[doc(allow("s3:GetObject"))],
        ResourcePolicy=trusting_me,
        ResourceOwner=f"arn:aws:iam::{OTHER}:root",
        CallerArn=me,
    )
    assert both["EvalDecision"] == "allowed"
    assert sorted(m["SourcePolicyType"] for m in both["MatchedStatements"]) == [
        "none",
        "resource",
    ]
    only_identity = decide(
        iam,
        PolicyInputList=[doc(allow("s3:GetObject"))],
        ResourcePolicy=bucket_policy({"AWS": user_arn(ACCOUNT, "someone-else")}),
        ResourceOwner=OTHER,  # the bare account id is accepted too
        CallerArn=me,
    )
    assert only_identity["EvalDecision"] == "implicitDeny"


def test_cross_account_the_boundary_still_applies(iam: Any, unique: str) -> None:
    me = user_arn(ACCOUNT, f"{unique}-reader")
    bounded = decide(
        iam,
        PolicyInputList=[doc(allow("s3:GetObject"))],
        PermissionsBoundaryPolicyInputList=[doc(allow("s3:ListBucket"))],
        ResourcePolicy=bucket_policy({"AWS": ACCOUNT}),
        ResourceOwner=OTHER,
        CallerArn=me,
    )
    assert bounded["EvalDecision"] == "implicitDeny"
    assert bounded["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}


def test_a_caller_of_another_account(iam: Any) -> None:
    # CallerArn need not exist here: it is whom the resource policy is matched against.
    stranger = user_arn(OTHER, "partner")
    # The resource is this account's (the default owner would be the caller's).
    mine = decide(
        iam,
        PolicyInputList=[doc(allow("s3:GetObject"))],
        ResourcePolicy=bucket_policy({"AWS": f"arn:aws:iam::{OTHER}:root"}),
        ResourceOwner=ACCOUNT,
        CallerArn=stranger,
    )
    assert mine["EvalDecision"] == "allowed"
    # Without ResourceOwner the resource is the caller's own: the identity policy alone.
    own = decide(iam, PolicyInputList=[doc(allow("s3:GetObject"))], CallerArn=stranger)
    assert own["EvalDecision"] == "allowed"


def test_principal_and_not_principal_are_matched_against_the_caller(iam: Any, unique: str) -> None:
    me = user_arn(ACCOUNT, f"{unique}-reader")
    other_user = user_arn(ACCOUNT, f"{unique}-other")
    nobody = doc(allow("s3:ListBucket"))
    assert (
        decide(
            iam,
            PolicyInputList=[nobody],
            ResourcePolicy=bucket_policy({"AWS": other_user}),
            CallerArn=me,
        )["EvalDecision"]
        == "implicitDeny"
    )
    everyone_but_other = bucket_policy({"AWS": other_user}, not_principal=True)
    assert (
        decide(iam, PolicyInputList=[nobody], ResourcePolicy=everyone_but_other, CallerArn=me)[
            "EvalDecision"
        ]
        == "allowed"
    )
    assert (
        decide(
            iam, PolicyInputList=[nobody], ResourcePolicy=everyone_but_other, CallerArn=other_user
        )["EvalDecision"]
        == "implicitDeny"
    )
    # A resource-policy Deny naming the caller wins over the identity policy.
    denied = decide(
        iam,
        PolicyInputList=[doc(allow("s3:GetObject"))],
        ResourcePolicy=bucket_policy({"AWS": me}, effect="Deny"),
        CallerArn=me,
    )
    assert denied["EvalDecision"] == "explicitDeny"
    assert [m["SourcePolicyType"] for m in denied["MatchedStatements"]] == ["resource"]


def test_a_resource_arn_naming_another_account(iam: Any, unique: str) -> None:
    name = f"{unique}-src"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="all-iam", PolicyDocument=doc(allow("iam:*")))
    source = user_arn(ACCOUNT, name)
    theirs = f"arn:aws:iam::{OTHER}:user/someone"
    ours = f"arn:aws:iam::{ACCOUNT}:user/someone"
    results = iam.simulate_principal_policy(
        PolicySourceArn=source, ActionNames=["iam:GetUser"], ResourceArns=[ours, theirs]
    )["EvaluationResults"]
    # IAM users have no resource policy: another account's are out of reach.
    assert [(r["EvalResourceName"], r["EvalDecision"]) for r in results] == [
        (ours, "allowed"),
        (theirs, "implicitDeny"),
    ]
    assert all("OrganizationsDecisionDetail" not in r for r in results)


def test_principal_policy_with_another_caller(iam: Any, unique: str) -> None:
    name = f"{unique}-david"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=doc(allow("s3:GetObject")))
    bob = user_arn(ACCOUNT, f"{unique}-bob")  # need not exist
    result = iam.simulate_principal_policy(
        PolicySourceArn=user_arn(ACCOUNT, name),
        ActionNames=["s3:GetObject"],
        ResourceArns=[OBJECT],
        ResourcePolicy=bucket_policy({"AWS": bob}, effect="Deny"),
        CallerArn=bob,
    )["EvaluationResults"][0]
    # Bob, as if he had David's policies: the Deny naming Bob applies.
    assert result["EvalDecision"] == "explicitDeny"


def test_bad_caller_arn_and_resource_owner_are_refused(iam: Any) -> None:
    base = {
        "PolicyInputList": [doc(allow("s3:GetObject"))],
        "ActionNames": ["s3:GetObject"],
        "ResourcePolicy": bucket_policy("*"),
    }
    for caller in (
        f"arn:aws:iam::{ACCOUNT}:role/r",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
        f"arn:aws:iam::{ACCOUNT}:group/g",
        "arn:aws:iam::12345:user/x",
        "arn:aws:iam::x",
    ):
        status, code, message = error_of(iam.simulate_custom_policy, CallerArn=caller, **base)
        assert (status, code) == (400, "InvalidInput"), caller
        assert message == f"CallerArn {caller} must be the ARN of an IAM user."
    for owner in ("12345", f"arn:aws:iam::{ACCOUNT}:user/x", "arn:aws:s3:::bucket"):
        assert error_of(
            iam.simulate_custom_policy,
            CallerArn=user_arn(ACCOUNT, "x"),
            ResourceOwner=owner,
            **base,
        ) == (400, "InvalidInput", f"'{owner}' is not a valid as a Resource Owner.")

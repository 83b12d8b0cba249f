"""Policy documents are validated strictly on every write, with AWS's codes and messages.

Each invalid document is sent to CreatePolicy, CreatePolicyVersion, PutUserPolicy and
PutGroupPolicy; each must be refused, and a read afterwards must show nothing stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.server.iam_helpers import document_of_size, error_of, policy_json

SYNTAX = "Syntax errors in policy."


def _doc(**statement: Any) -> str:
    body = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **statement}
    return json.dumps({"Version": "2012-10-17", "Statement": [body]})


def _without(key: str) -> str:
    body = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    del body[key]
    return json.dumps({"Version": "2012-10-17", "Statement": [body]})


DUPLICATE_SIDS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Same", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Sid": "Same", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
        ],
    }
)

# (document, AWS's MalformedPolicyDocument message)
MALFORMED = {
    "bad-json": ('{"Version": "2012-10-17", "Statement": [', SYNTAX),
    "bad-version": (
        _doc().replace("2012-10-17", "2012-10-18"),
        SYNTAX,
    ),
    "unknown-operator": (
        _doc(Condition={"StringEqualz": {"aws:username": "bob"}}),
        SYNTAX,
    ),
    "principal": (_doc(Principal={"AWS": "*"}), "Policy document should not specify a principal."),
    "empty-action": (_doc(Action=[]), "Policy statement must contain actions."),
    "missing-resource": (_without("Resource"), "Policy statement must contain resources."),
    "effect-case": (_doc(Effect="allow"), "The policy failed legacy parsing"),
    "duplicate-sid": (
        DUPLICATE_SIDS,
        "Statement IDs (SID) in a single policy must be unique.",
    ),
    "no-vendor": (
        _doc(Action="GetObject"),
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
    ),
    # Resource ARNs (issue 16 item 5): fewer than six parts, partitions, regions.
    "arn-five-parts-with-empty-field": (
        _doc(Resource="arn:aws:iam::user/alice"),
        "The policy failed legacy parsing",
    ),
    "arn-five-parts": (
        _doc(Resource="arn:aws:s3:us-east-1:bucket"),
        'Resource arn:aws:s3:us-east-1:bucket must be in ARN format or "*".',
    ),
    "arn-no-service": (
        _doc(Resource="arn:aws"),
        "Resource vendor must be fully qualified and cannot contain regexes.",
    ),
    "arn-wildcard-service": (
        _doc(Resource="arn:aws:s3*:::bucket"),
        "Resource vendor must be fully qualified and cannot contain regexes.",
    ),
    "arn-unknown-partition": (
        _doc(Resource="arn:aws-moon:s3:::bucket"),
        'Partition "aws-moon" is not valid for resource "arn:aws-moon:s3:::bucket".',
    ),
    "arn-unknown-partition-short": (
        _doc(Resource="arn:amazon:s3"),
        'Partition "amazon" is not valid for resource "arn:amazon:s3".',
    ),
    "arn-iam-region": (
        _doc(Resource="arn:aws:iam:us-east-1:123456789012:user/alice"),
        "IAM resource arn:aws:iam:us-east-1:123456789012:user/alice cannot contain region "
        "information.",
    ),
    "arn-iam-path": (
        _doc(Resource="arn:aws:iam::123456789012:bucket/alice"),
        'IAM resource path must either be "*" or start with user/, group/, role/, policy/, '
        "instance-profile/, mfa/, server-certificate/, federated-user/, sms-mfa/, "
        "saml-provider/, oidc-provider/, report/, access-report/.",
    ),
    "arn-s3-region": (
        _doc(Resource="arn:aws:s3:eu-west-1::bucket/key"),
        "Resource arn:aws:s3:eu-west-1::bucket/key can not contain region information.",
    ),
    # Several faults: the one AWS's validation meets first (Sid uniqueness before the
    # action's prefix, though the prefix fault comes first in the document).
    "several-faults": (
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "Same", "Effect": "Allow", "Action": "GetObject", "Resource": "*"},
                    {"Sid": "Same", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "x"},
                ],
            }
        ),
        "Statement IDs (SID) in a single policy must be unique.",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_documents_are_refused_everywhere(iam: Any, unique: str, case: str) -> None:
    document, message = MALFORMED[case]
    expected = (400, "MalformedPolicyDocument", message)
    user, group, name = f"{unique}-u", f"{unique}-g", f"{unique}-p"
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    arn = iam.create_policy(PolicyName=f"{name}-ok", PolicyDocument=policy_json())["Policy"]["Arn"]

    assert error_of(iam.create_policy, PolicyName=name, PolicyDocument=document) == expected
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=document) == expected
    assert (
        error_of(iam.put_user_policy, UserName=user, PolicyName=name, PolicyDocument=document)
        == expected
    )
    assert (
        error_of(iam.put_group_policy, GroupName=group, PolicyName=name, PolicyDocument=document)
        == expected
    )

    _assert_nothing_stored(iam, user, group, name, arn)


def _assert_nothing_stored(iam: Any, user: str, group: str, name: str, arn: str) -> None:
    policies = iam.list_policies(Scope="Local", MaxItems=1000)["Policies"]
    assert name not in {p["PolicyName"] for p in policies}
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]
    assert error_of(iam.get_user_policy, UserName=user, PolicyName=name)[1] == "NoSuchEntity"
    assert error_of(iam.get_group_policy, GroupName=group, PolicyName=name)[1] == "NoSuchEntity"
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == []


def test_managed_policies_must_declare_the_current_version(iam: Any, unique: str) -> None:
    expected = (
        400,
        "MalformedPolicyDocument",
        "Policy document must be version 2012-10-17 or greater.",
    )
    old = _doc().replace("2012-10-17", "2008-10-17")
    unversioned = json.dumps({"Statement": json.loads(_doc())["Statement"]})
    arn = iam.create_policy(PolicyName=f"{unique}-ok", PolicyDocument=policy_json())["Policy"][
        "Arn"
    ]
    for document in (old, unversioned):
        assert error_of(iam.create_policy, PolicyName=f"{unique}-p", PolicyDocument=document) == (
            expected
        )
        assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=document) == (
            expected
        )
    # Inline policies may still use the older language version.
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="old", PolicyDocument=old)
    iam.put_user_policy(UserName=user, PolicyName="none", PolicyDocument=unversioned)
    assert sorted(iam.list_user_policies(UserName=user)["PolicyNames"]) == ["none", "old"]


def test_oversize_managed_policy_is_limit_exceeded(iam: Any, unique: str) -> None:
    expected = (409, "LimitExceeded", "Cannot exceed quota for PolicySize: 6144")
    name = f"{unique}-big"
    arn = iam.create_policy(PolicyName=f"{unique}-ok", PolicyDocument=policy_json())["Policy"][
        "Arn"
    ]
    too_big = document_of_size(6145)
    assert error_of(iam.create_policy, PolicyName=name, PolicyDocument=too_big) == expected
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=too_big) == expected
    # Whitespace does not count towards the quota.
    spaced = document_of_size(6144).replace(",", ",    ")
    created = iam.create_policy(PolicyName=name, PolicyDocument=spaced)["Policy"]
    assert created["DefaultVersionId"] == "v1"
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]


def test_oversize_inline_policy_keeps_the_aggregate_message(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    assert error_of(
        iam.put_user_policy,
        UserName=user,
        PolicyName="big",
        PolicyDocument=document_of_size(2049),
    ) == (409, "LimitExceeded", f"Maximum policy size of 2048 bytes exceeded for user {user}")
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []


def test_s3_arn_with_a_region_is_refused_and_unprefixed_condition_keys_are_accepted(
    iam: Any, unique: str
) -> None:
    resource = "arn:aws:s3:us-west-2:123456789012:test/athena"
    s3_with_region = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}],
        }
    )
    # AWS's text, "can not" in two words (aws/aws-cdk#22445).
    assert error_of(
        iam.create_policy, PolicyName=f"{unique}-s3", PolicyDocument=s3_with_region
    ) == (
        400,
        "MalformedPolicyDocument",
        f"Resource {resource} can not contain region information.",
    )
    # A condition key with no vendor prefix is accepted (act-security-labs/iam-simulate#55).
    unprefixed = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"username": "x"}},
                }
            ],
        }
    )
    created = iam.create_policy(PolicyName=f"{unique}-cond", PolicyDocument=unprefixed)
    iam.delete_policy(PolicyArn=created["Policy"]["Arn"])


def test_an_account_root_user_is_a_valid_iam_resource(iam: Any, unique: str) -> None:
    # AWS's own root-task policies name arn:aws:iam::*:root (NotResource), so IAM takes it.
    for index, resource in enumerate(("arn:aws:iam::*:root", "arn:aws:iam::123456789012:root")):
        document = _doc(Action="iam:ListAccessKeys", Resource=resource)
        created = iam.create_policy(PolicyName=f"{unique}-root{index}", PolicyDocument=document)
        iam.delete_policy(PolicyArn=created["Policy"]["Arn"])
    # Anything else after the account is still refused.
    refused = error_of(
        iam.create_policy,
        PolicyName=f"{unique}-rooted",
        PolicyDocument=_doc(Resource="arn:aws:iam::123456789012:rooted"),
    )
    assert refused[1] == "MalformedPolicyDocument"

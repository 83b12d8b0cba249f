"""Inline policies of users and groups through boto3: documents, sizes and errors."""

from __future__ import annotations

import json
from typing import Any

from tests.server.iam_helpers import (
    bad_pattern,
    document_of_size,
    error_of,
    policy_document,
    policy_json,
    too_long,
)


def test_user_policy_put_get_replace_list_delete(iam: Any, unique: str) -> None:
    user = f"{unique}-Ann"
    iam.create_user(UserName=user)
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::b/${aws:username}/*&x y%",
            }
        ],
    }
    iam.put_user_policy(UserName=user, PolicyName="S3", PolicyDocument=json.dumps(document))
    got = iam.get_user_policy(UserName=user.lower(), PolicyName="S3")
    got.pop("ResponseMetadata")
    assert got == {"UserName": user, "PolicyName": "S3", "PolicyDocument": document}

    iam.put_user_policy(UserName=user, PolicyName="S3", PolicyDocument=policy_json("s3:Get*"))
    assert iam.get_user_policy(UserName=user, PolicyName="S3")["PolicyDocument"] == (
        policy_document("s3:Get*")
    )
    iam.put_user_policy(UserName=user, PolicyName="Another", PolicyDocument=policy_json())
    listed = iam.list_user_policies(UserName=user)
    assert listed["PolicyNames"] == ["Another", "S3"]
    assert listed["IsTruncated"] is False

    iam.delete_user_policy(UserName=user, PolicyName="S3")
    assert error_of(iam.get_user_policy, UserName=user, PolicyName="S3") == (
        404,
        "NoSuchEntity",
        "The user policy with name S3 cannot be found.",
    )
    assert error_of(iam.delete_user_policy, UserName=user, PolicyName="S3") == (
        404,
        "NoSuchEntity",
        "The user policy with name S3 cannot be found.",
    )
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["Another"]


def test_group_policy_put_get_replace_list_delete(iam: Any, unique: str) -> None:
    group = f"{unique}-Ops"
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="Ops", PolicyDocument=policy_json())
    got = iam.get_group_policy(GroupName=group.upper(), PolicyName="Ops")
    got.pop("ResponseMetadata")
    assert got == {"GroupName": group, "PolicyName": "Ops", "PolicyDocument": policy_document()}
    iam.put_group_policy(GroupName=group, PolicyName="Ops", PolicyDocument=policy_json("ec2:*"))
    assert iam.get_group_policy(GroupName=group, PolicyName="Ops")["PolicyDocument"] == (
        policy_document("ec2:*")
    )
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["Ops"]
    iam.delete_group_policy(GroupName=group, PolicyName="Ops")
    assert error_of(iam.get_group_policy, GroupName=group, PolicyName="Ops") == (
        404,
        "NoSuchEntity",
        "The group policy with name Ops cannot be found.",
    )
    assert error_of(iam.delete_group_policy, GroupName=group, PolicyName="Ops")[1] == (
        "NoSuchEntity"
    )
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == []


def test_inline_policies_of_unknown_owners(iam: Any, unique: str) -> None:
    user, group = f"{unique}-nouser", f"{unique}-nogroup"
    no_user = (404, "NoSuchEntity", f"The user with name {user} cannot be found.")
    no_group = (404, "NoSuchEntity", f"The group with name {group} cannot be found.")
    doc = policy_json()
    assert error_of(iam.put_user_policy, UserName=user, PolicyName="p", PolicyDocument=doc) == (
        no_user
    )
    assert error_of(iam.get_user_policy, UserName=user, PolicyName="p") == no_user
    assert error_of(iam.list_user_policies, UserName=user) == no_user
    assert error_of(iam.delete_user_policy, UserName=user, PolicyName="p") == no_user
    assert error_of(iam.put_group_policy, GroupName=group, PolicyName="p", PolicyDocument=doc) == (
        no_group
    )
    assert error_of(iam.get_group_policy, GroupName=group, PolicyName="p") == no_group
    assert error_of(iam.list_group_policies, GroupName=group) == no_group
    assert error_of(iam.delete_group_policy, GroupName=group, PolicyName="p") == no_group


def test_inline_documents_are_checked(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    syntax = (400, "MalformedPolicyDocument", "Syntax errors in policy.")
    for bad in ("{", '{"Version": "2012-10-17"}', '"just a string"'):
        assert error_of(iam.put_user_policy, UserName=user, PolicyName="p", PolicyDocument=bad) == (
            syntax
        )
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []
    # Unlike a managed policy, an inline policy may leave Version out.
    without_version = {"Statement": policy_document()["Statement"]}
    iam.put_user_policy(
        UserName=user, PolicyName="old-style", PolicyDocument=json.dumps(without_version)
    )
    assert iam.get_user_policy(UserName=user, PolicyName="old-style")["PolicyDocument"] == (
        without_version
    )


def test_inline_policy_name_constraints(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    long_name = "n" * 129
    doc = policy_json()
    assert error_of(
        iam.put_user_policy, UserName=user, PolicyName=long_name, PolicyDocument=doc
    ) == (400, "ValidationError", too_long(long_name, "policyName", 128))
    assert error_of(iam.put_user_policy, UserName=user, PolicyName="a*b", PolicyDocument=doc) == (
        400,
        "ValidationError",
        bad_pattern("a*b", "policyName"),
    )


def test_user_inline_policies_share_2048_characters(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="a", PolicyDocument=document_of_size(1000))
    # Whitespace is not counted; the two together are exactly at the quota.
    roomy = document_of_size(1048).replace(",", ", \n\t")
    iam.put_user_policy(UserName=user, PolicyName="b", PolicyDocument=roomy)
    # Replacing a policy counts its new size instead of the old one.
    iam.put_user_policy(UserName=user, PolicyName="b", PolicyDocument=document_of_size(1048))
    expected = (409, "LimitExceeded", f"Maximum policy size of 2048 bytes exceeded for user {user}")
    assert error_of(
        iam.put_user_policy, UserName=user, PolicyName="b", PolicyDocument=document_of_size(1049)
    ) == (expected)
    assert error_of(
        iam.put_user_policy, UserName=user, PolicyName="c", PolicyDocument=document_of_size(200)
    ) == (expected)
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["a", "b"]


def test_group_inline_policies_share_5120_characters(iam: Any, unique: str) -> None:
    group = f"{unique}-g"
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="a", PolicyDocument=document_of_size(3000))
    iam.put_group_policy(GroupName=group, PolicyName="b", PolicyDocument=document_of_size(2120))
    assert error_of(
        iam.put_group_policy, GroupName=group, PolicyName="c", PolicyDocument=document_of_size(200)
    ) == (409, "LimitExceeded", f"Maximum policy size of 5120 bytes exceeded for group {group}")

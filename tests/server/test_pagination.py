"""Marker / MaxItems / IsTruncated on every IAM List operation, through boto3 paginators.

Each listing is read in pages smaller than itself; the pages together must hold every
item exactly once, in the order of the single-page listing.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.server.iam_helpers import (
    ADMINISTRATOR_ACCESS,
    all_pages,
    error_of,
    policy_json,
    validation_message,
)


def _assert_paged_like_whole(
    iam: Any, operation: str, key: str, page_size: int, min_pages: int, **params: Any
) -> list[Any]:
    whole = getattr(iam, operation)(MaxItems=1000, **params)
    assert whole["IsTruncated"] is False
    items, pages = all_pages(iam, operation, key, page_size, **params)
    assert pages >= min_pages
    assert items == whole[key]
    listed: list[Any] = items
    return listed


def test_list_users_pages_under_a_path_prefix(iam: Any, unique: str) -> None:
    path = f"/{unique}/"
    names = [f"{unique}-u{i}" for i in range(5)]
    for name in reversed(names):
        iam.create_user(UserName=name, Path=path)
    iam.create_user(UserName=f"{unique}-elsewhere")
    users = _assert_paged_like_whole(iam, "list_users", "Users", 2, 3, PathPrefix=path)
    assert [u["UserName"] for u in users] == names

    first = iam.list_users(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] is True
    second = iam.list_users(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in second["Users"]] == names[2:4]


def test_groups_memberships_and_members_page(iam: Any, unique: str) -> None:
    path = f"/{unique}/"
    groups = [f"{unique}-g{i}" for i in range(3)]
    users = [f"{unique}-u{i}" for i in range(3)]
    for user in users:
        iam.create_user(UserName=user)
    for group in groups:
        iam.create_group(GroupName=group, Path=path)
        for user in users:
            iam.add_user_to_group(GroupName=group, UserName=user)

    listed = _assert_paged_like_whole(iam, "list_groups", "Groups", 2, 2, PathPrefix=path)
    assert [g["GroupName"] for g in listed] == groups
    of_user = _assert_paged_like_whole(
        iam, "list_groups_for_user", "Groups", 2, 2, UserName=users[0]
    )
    assert [g["GroupName"] for g in of_user] == groups
    members = _assert_paged_like_whole(iam, "get_group", "Users", 2, 2, GroupName=groups[0])
    assert [u["UserName"] for u in members] == users


def test_policies_versions_tags_and_entities_page(iam: Any, unique: str) -> None:
    path = f"/{unique}/"
    arns = [
        iam.create_policy(
            PolicyName=f"{unique}-p{i}",
            Path=path,
            PolicyDocument=policy_json(),
            Tags=[{"Key": f"k{j}", "Value": str(j)} for j in range(5)],
        )["Policy"]["Arn"]
        for i in range(3)
    ]
    local = _assert_paged_like_whole(
        iam, "list_policies", "Policies", 2, 2, Scope="Local", PathPrefix=path
    )
    assert [p["Arn"] for p in local] == arns

    aws = _assert_paged_like_whole(iam, "list_policies", "Policies", 2, 3, Scope="AWS")
    assert ADMINISTRATOR_ACCESS in {p["Arn"] for p in aws}

    for i in range(3):
        iam.create_policy_version(PolicyArn=arns[0], PolicyDocument=policy_json(f"s3:A{i}"))
    versions = _assert_paged_like_whole(
        iam, "list_policy_versions", "Versions", 3, 2, PolicyArn=arns[0]
    )
    assert [v["VersionId"] for v in versions] == ["v4", "v3", "v2", "v1"]

    tags = _assert_paged_like_whole(iam, "list_policy_tags", "Tags", 2, 3, PolicyArn=arns[1])
    assert tags == [{"Key": f"k{j}", "Value": str(j)} for j in range(5)]

    names = [f"{unique}-e{i}" for i in range(2)]
    for name in names:
        iam.create_user(UserName=name)
        iam.attach_user_policy(UserName=name, PolicyArn=arns[2])
        iam.create_group(GroupName=name)
        iam.attach_group_policy(GroupName=name, PolicyArn=arns[2])
    whole = iam.list_entities_for_policy(PolicyArn=arns[2])
    paginator = iam.get_paginator("list_entities_for_policy")
    pages = list(paginator.paginate(PolicyArn=arns[2], PaginationConfig={"PageSize": 1}))
    assert len(pages) == 4
    for key in ("PolicyUsers", "PolicyGroups", "PolicyRoles"):
        assert [e for page in pages for e in page[key]] == whole[key]
    assert [u["UserName"] for u in whole["PolicyUsers"]] == names
    assert [g["GroupName"] for g in whole["PolicyGroups"]] == names

    iam.attach_user_policy(UserName=names[0], PolicyArn=arns[0])
    attached = _assert_paged_like_whole(
        iam, "list_policies", "Policies", 1, 2, Scope="Local", PathPrefix=path, OnlyAttached=True
    )
    assert [p["Arn"] for p in attached] == [arns[0], arns[2]]


def test_attached_and_inline_policies_page(iam: Any, unique: str) -> None:
    user, group = f"{unique}-u", f"{unique}-g"
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    arns = [
        iam.create_policy(PolicyName=f"{unique}-p{i}", PolicyDocument=policy_json())["Policy"][
            "Arn"
        ]
        for i in range(3)
    ]
    for arn in arns:
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
        iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    for i in range(3):
        iam.put_user_policy(UserName=user, PolicyName=f"inline{i}", PolicyDocument=policy_json())
        iam.put_group_policy(GroupName=group, PolicyName=f"inline{i}", PolicyDocument=policy_json())

    expected = [{"PolicyName": f"{unique}-p{i}", "PolicyArn": arns[i]} for i in range(3)]
    assert (
        _assert_paged_like_whole(
            iam, "list_attached_user_policies", "AttachedPolicies", 2, 2, UserName=user
        )
        == expected
    )
    assert (
        _assert_paged_like_whole(
            iam, "list_attached_group_policies", "AttachedPolicies", 2, 2, GroupName=group
        )
        == expected
    )
    inline = ["inline0", "inline1", "inline2"]
    assert (
        _assert_paged_like_whole(iam, "list_user_policies", "PolicyNames", 2, 2, UserName=user)
        == inline
    )
    assert (
        _assert_paged_like_whole(iam, "list_group_policies", "PolicyNames", 2, 2, GroupName=group)
        == inline
    )


def test_access_keys_and_user_tags_page(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user, Tags=[{"Key": f"t{j}", "Value": ""} for j in range(5)])
    ids = [iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"] for _ in range(2)]
    keys = _assert_paged_like_whole(
        iam, "list_access_keys", "AccessKeyMetadata", 1, 2, UserName=user
    )
    assert sorted(k["AccessKeyId"] for k in keys) == sorted(ids)
    tags = _assert_paged_like_whole(iam, "list_user_tags", "Tags", 2, 3, UserName=user)
    assert [t["Key"] for t in tags] == [f"t{j}" for j in range(5)]


# Every List operation, with arguments naming entities every server has from bootstrap.
LISTINGS: list[tuple[str, dict[str, str]]] = [
    ("list_users", {}),
    ("list_groups", {}),
    ("list_groups_for_user", {"UserName": "admin"}),
    ("get_group", {"GroupName": "Administrators"}),
    ("list_policies", {}),
    ("list_policy_versions", {"PolicyArn": ADMINISTRATOR_ACCESS}),
    ("list_attached_user_policies", {"UserName": "admin"}),
    ("list_attached_group_policies", {"GroupName": "Administrators"}),
    ("list_user_policies", {"UserName": "admin"}),
    ("list_group_policies", {"GroupName": "Administrators"}),
    ("list_access_keys", {"UserName": "admin"}),
    ("list_user_tags", {"UserName": "admin"}),
    ("list_policy_tags", {"PolicyArn": ADMINISTRATOR_ACCESS}),
    ("list_entities_for_policy", {"PolicyArn": ADMINISTRATOR_ACCESS}),
    ("list_account_aliases", {}),
]


def test_max_items_over_1000_is_refused_everywhere(iam: Any) -> None:
    expected = (
        400,
        "ValidationError",
        validation_message("1001", "maxItems", "Member must have value less than or equal to 1000"),
    )
    for operation, params in LISTINGS:
        assert (operation, error_of(getattr(iam, operation), MaxItems=1001, **params)) == (
            operation,
            expected,
        )


def test_a_marker_iamd_did_not_issue_is_refused_everywhere(iam: Any) -> None:
    # Not base64 at all, and base64 of text that is no marker of ours ("foobar").
    for marker in ("garbage!", "Zm9vYmFy"):
        for operation, params in LISTINGS:
            got = error_of(getattr(iam, operation), Marker=marker, **params)
            assert (operation, marker, got) == (
                operation,
                marker,
                (400, "InvalidInput", "Invalid Marker."),
            )


def test_an_offset_marker_int_refuses_is_invalid_not_a_failure(iam: Any) -> None:
    # In-memory listings (aliases, tags) resume at an offset; "²" passes str.isdigit
    # but not int(), and twenty digits overflow: both are a bad marker.
    for offset in ("²", "9" * 20):
        marker = base64.urlsafe_b64encode(f"iamd1:{offset}".encode()).decode()
        assert error_of(iam.list_account_aliases, Marker=marker) == (
            400,
            "InvalidInput",
            "Invalid Marker.",
        )

"""IAM groups and memberships through boto3: shapes, renames, quotas and every error."""

from __future__ import annotations

from typing import Any

from tests.server.iam_helpers import (
    ACCOUNT,
    GROUP_ID,
    READ_ONLY_ACCESS,
    assert_recent_utc,
    bad_pattern,
    error_of,
    policy_json,
    too_long,
)


def test_create_group_returns_the_aws_shape(iam: Any, unique: str) -> None:
    name = f"{unique}-Devs"
    created = iam.create_group(GroupName=name, Path="/eng/")["Group"]
    assert set(created) == {"Path", "GroupName", "GroupId", "Arn", "CreateDate"}
    assert created["GroupName"] == name
    assert created["Path"] == "/eng/"
    assert GROUP_ID.fullmatch(created["GroupId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/eng/{name}"
    assert_recent_utc(created["CreateDate"])

    got = iam.get_group(GroupName=name.upper())
    assert got["Group"] == created
    assert got["Users"] == []
    assert got["IsTruncated"] is False


def test_group_names_are_unique_ignoring_case(iam: Any, unique: str) -> None:
    iam.create_group(GroupName=f"{unique}-ADMINS")
    name = f"{unique}-admins"
    assert error_of(iam.create_group, GroupName=name) == (
        409,
        "EntityAlreadyExists",
        f"Group with name {name} already exists.",
    )


def test_group_name_constraints(iam: Any) -> None:
    long_name = "g" * 129
    assert error_of(iam.create_group, GroupName=long_name) == (
        400,
        "ValidationError",
        too_long(long_name, "groupName", 128),
    )
    assert error_of(iam.create_group, GroupName="a/b") == (
        400,
        "ValidationError",
        bad_pattern("a/b", "groupName"),
    )


def test_unknown_group_is_no_such_entity_everywhere(iam: Any, unique: str) -> None:
    name, user = f"{unique}-nogroup", f"{unique}-member"
    iam.create_user(UserName=user)
    expected = (404, "NoSuchEntity", f"The group with name {name} cannot be found.")
    assert error_of(iam.get_group, GroupName=name) == expected
    assert error_of(iam.delete_group, GroupName=name) == expected
    assert error_of(iam.update_group, GroupName=name, NewGroupName=f"{name}2") == expected
    assert error_of(iam.add_user_to_group, GroupName=name, UserName=user) == expected
    assert error_of(iam.remove_user_from_group, GroupName=name, UserName=user) == expected
    assert error_of(iam.list_attached_group_policies, GroupName=name) == expected
    assert error_of(iam.attach_group_policy, GroupName=name, PolicyArn=READ_ONLY_ACCESS) == (
        expected
    )
    assert error_of(iam.list_group_policies, GroupName=name) == expected


def test_membership_add_list_remove(iam: Any, unique: str) -> None:
    group, user = f"{unique}-g", f"{unique}-u"
    created_group = iam.create_group(GroupName=group)["Group"]
    created_user = iam.create_user(UserName=user, Path="/p/", Tags=[{"Key": "k", "Value": "v"}])[
        "User"
    ]
    iam.add_user_to_group(GroupName=group, UserName=user)
    # Adding again is not an error.
    iam.add_user_to_group(GroupName=group, UserName=user.upper())

    members = iam.get_group(GroupName=group)["Users"]
    assert members == [{k: v for k, v in created_user.items() if k != "Tags"}]
    assert iam.list_groups_for_user(UserName=user)["Groups"] == [created_group]

    iam.remove_user_from_group(GroupName=group, UserName=user)
    assert iam.get_group(GroupName=group)["Users"] == []
    assert iam.list_groups_for_user(UserName=user)["Groups"] == []


def test_membership_of_an_unknown_user(iam: Any, unique: str) -> None:
    group, user = f"{unique}-g", f"{unique}-nobody"
    iam.create_group(GroupName=group)
    expected = (404, "NoSuchEntity", f"The user with name {user} cannot be found.")
    assert error_of(iam.add_user_to_group, GroupName=group, UserName=user) == expected
    assert error_of(iam.remove_user_from_group, GroupName=group, UserName=user) == expected


def test_removing_a_user_who_is_not_a_member(iam: Any, unique: str) -> None:
    group, user = f"{unique}-g", f"{unique}-outsider"
    iam.create_group(GroupName=group)
    iam.create_user(UserName=user)
    assert error_of(iam.remove_user_from_group, GroupName=group, UserName=user) == (
        404,
        "NoSuchEntity",
        f"The user with name {user} cannot be found in group {group}.",
    )


def test_a_user_can_be_in_at_most_ten_groups(iam: Any, unique: str) -> None:
    user = f"{unique}-joiner"
    iam.create_user(UserName=user)
    for i in range(10):
        iam.create_group(GroupName=f"{unique}-g{i:02}")
        iam.add_user_to_group(GroupName=f"{unique}-g{i:02}", UserName=user)
    iam.create_group(GroupName=f"{unique}-g10")
    assert error_of(iam.add_user_to_group, GroupName=f"{unique}-g10", UserName=user) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for GroupsPerUser: 10",
    )
    # Re-adding to a group the user is already in is still fine at the limit.
    iam.add_user_to_group(GroupName=f"{unique}-g00", UserName=user)
    assert len(iam.list_groups_for_user(UserName=user)["Groups"]) == 10


def test_update_group_renames_keeping_members_and_policies(iam: Any, unique: str) -> None:
    old, new, user = f"{unique}-old", f"{unique}-new", f"{unique}-u"
    created = iam.create_group(GroupName=old)["Group"]
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=old, UserName=user)
    iam.attach_group_policy(GroupName=old, PolicyArn=READ_ONLY_ACCESS)
    iam.put_group_policy(GroupName=old, PolicyName="inline", PolicyDocument=policy_json())

    iam.update_group(GroupName=old, NewGroupName=new, NewPath="/moved/")

    assert error_of(iam.get_group, GroupName=old) == (
        404,
        "NoSuchEntity",
        f"The group with name {old} cannot be found.",
    )
    got = iam.get_group(GroupName=new)
    assert got["Group"]["GroupId"] == created["GroupId"]
    assert got["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/moved/{new}"
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [new]
    attached = iam.list_attached_group_policies(GroupName=new)["AttachedPolicies"]
    assert attached == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY_ACCESS}]
    assert iam.list_group_policies(GroupName=new)["PolicyNames"] == ["inline"]


def test_rename_group_onto_an_existing_name_is_refused(iam: Any, unique: str) -> None:
    iam.create_group(GroupName=f"{unique}-one")
    iam.create_group(GroupName=f"{unique}-two")
    target = f"{unique}-One"
    assert error_of(iam.update_group, GroupName=f"{unique}-two", NewGroupName=target) == (
        409,
        "EntityAlreadyExists",
        f"Group with name {target} already exists.",
    )


def test_list_groups_by_path_prefix(iam: Any, unique: str) -> None:
    iam.create_group(GroupName=f"{unique}-b", Path=f"/{unique}/")
    iam.create_group(GroupName=f"{unique}-a", Path=f"/{unique}/sub/")
    iam.create_group(GroupName=f"{unique}-c")
    listed = iam.list_groups(PathPrefix=f"/{unique}/")
    assert [g["GroupName"] for g in listed["Groups"]] == [f"{unique}-a", f"{unique}-b"]
    assert listed["IsTruncated"] is False


def test_delete_group_conflicts(iam: Any, unique: str) -> None:
    group, user = f"{unique}-busy", f"{unique}-u"
    iam.create_group(GroupName=group)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(GroupName=group, PolicyName="inline", PolicyDocument=policy_json())
    iam.attach_group_policy(GroupName=group, PolicyArn=READ_ONLY_ACCESS)

    def conflict() -> tuple[int, str, str]:
        return error_of(iam.delete_group, GroupName=group)

    assert conflict() == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
    )
    iam.remove_user_from_group(GroupName=group, UserName=user)
    assert conflict() == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
    )
    iam.delete_group_policy(GroupName=group, PolicyName="inline")
    assert conflict() == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
    )
    iam.detach_group_policy(GroupName=group, PolicyArn=READ_ONLY_ACCESS)
    iam.delete_group(GroupName=group)
    assert error_of(iam.get_group, GroupName=group)[1] == "NoSuchEntity"
    # The user outlives the group.
    assert iam.list_groups_for_user(UserName=user)["Groups"] == []

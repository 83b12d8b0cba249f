"""IAM users through boto3: shapes, renames, the implicit caller, tags and every error."""

from __future__ import annotations

from typing import Any

from tests.server.iam_helpers import (
    ACCOUNT,
    ADMINISTRATOR_ACCESS,
    USER_ID,
    assert_recent_utc,
    bad_pattern,
    error_of,
    new_user_client,
    policy_json,
    too_long,
    validation_message,
)
from tests.support.servers import RunningServer


def test_create_user_returns_the_aws_shape(iam: Any, unique: str) -> None:
    name = f"{unique}-Jane"
    created = iam.create_user(
        UserName=name, Path="/division_abc/subdivision_xyz/", Tags=[{"Key": "team", "Value": "a"}]
    )["User"]
    assert set(created) == {"Path", "UserName", "UserId", "Arn", "CreateDate", "Tags"}
    assert created["UserName"] == name
    assert created["Path"] == "/division_abc/subdivision_xyz/"
    assert USER_ID.fullmatch(created["UserId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/division_abc/subdivision_xyz/{name}"
    assert created["Tags"] == [{"Key": "team", "Value": "a"}]
    assert_recent_utc(created["CreateDate"])

    fetched = iam.get_user(UserName=name.lower())["User"]
    assert fetched == created


def test_create_user_defaults_to_the_root_path_and_no_tags(iam: Any, unique: str) -> None:
    created = iam.create_user(UserName=f"{unique}-plain")["User"]
    assert created["Path"] == "/"
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{unique}-plain"
    assert "Tags" not in created
    assert "PasswordLastUsed" not in created


def test_list_users_omits_tags_and_filters_by_path_prefix(iam: Any, unique: str) -> None:
    path = f"/{unique}/"
    iam.create_user(UserName=f"{unique}-b", Path=path, Tags=[{"Key": "k", "Value": "v"}])
    iam.create_user(UserName=f"{unique}-a", Path=f"{path}deeper/")
    iam.create_user(UserName=f"{unique}-c")
    listed = iam.list_users(PathPrefix=path)
    assert listed["IsTruncated"] is False
    assert "Marker" not in listed
    assert [u["UserName"] for u in listed["Users"]] == [f"{unique}-a", f"{unique}-b"]
    for user in listed["Users"]:
        assert set(user) == {"Path", "UserName", "UserId", "Arn", "CreateDate"}


def test_user_names_are_unique_ignoring_case(iam: Any, unique: str) -> None:
    iam.create_user(UserName=f"{unique}-ADMINS")
    name = f"{unique}-admins"
    assert error_of(iam.create_user, UserName=name) == (
        409,
        "EntityAlreadyExists",
        f"User with name {name} already exists.",
    )


def test_recreated_user_gets_a_new_id_and_the_same_arn(iam: Any, unique: str) -> None:
    name = f"{unique}-again"
    first = iam.create_user(UserName=name)["User"]
    iam.delete_user(UserName=name)
    second = iam.create_user(UserName=name)["User"]
    assert second["Arn"] == first["Arn"]
    assert second["UserId"] != first["UserId"]


def test_unknown_user_is_no_such_entity_everywhere(iam: Any, unique: str) -> None:
    name = f"{unique}-ghost"
    expected = (404, "NoSuchEntity", f"The user with name {name} cannot be found.")
    assert error_of(iam.get_user, UserName=name) == expected
    assert error_of(iam.delete_user, UserName=name) == expected
    assert error_of(iam.update_user, UserName=name, NewUserName=f"{name}2") == expected
    assert error_of(iam.tag_user, UserName=name, Tags=[{"Key": "k", "Value": "v"}]) == expected
    assert error_of(iam.untag_user, UserName=name, TagKeys=["k"]) == expected
    assert error_of(iam.list_user_tags, UserName=name) == expected
    assert error_of(iam.list_groups_for_user, UserName=name) == expected


def test_user_name_longer_than_64_is_refused_on_create(iam: Any) -> None:
    name = "u" * 65
    assert error_of(iam.create_user, UserName=name) == (
        400,
        "ValidationError",
        too_long(name, "userName", 64),
    )


def test_existing_user_operations_accept_up_to_128(iam: Any) -> None:
    # GetUser takes existingUserNameType (1-128): 100 characters is merely unknown.
    name = "u" * 100
    assert error_of(iam.get_user, UserName=name)[1] == "NoSuchEntity"
    longer = "u" * 129
    assert error_of(iam.get_user, UserName=longer) == (
        400,
        "ValidationError",
        too_long(longer, "userName", 128),
    )


def test_user_name_with_a_space_is_refused(iam: Any) -> None:
    assert error_of(iam.create_user, UserName="jane doe") == (
        400,
        "ValidationError",
        bad_pattern("jane doe", "userName"),
    )


def test_path_must_start_and_end_with_a_slash(iam: Any, unique: str) -> None:
    # AWS's own sentence, not the pattern (aws-cloudformation/cfn-lint#722).
    assert error_of(iam.create_user, UserName=f"{unique}-p", Path="/no-trailing") == (
        400,
        "ValidationError",
        "The specified value for path is invalid. It must begin and end with / and "
        "contain only alphanumeric characters and/or / characters.",
    )


def test_path_longer_than_512_is_refused(iam: Any, unique: str) -> None:
    path = "/" + "p" * 511 + "/"
    assert error_of(iam.create_user, UserName=f"{unique}-p", Path=path) == (
        400,
        "ValidationError",
        too_long(path, "path", 512),
    )


def test_update_user_renames_and_moves(iam: Any, server: RunningServer, unique: str) -> None:
    old, new = f"{unique}-old", f"{unique}-new"
    client, key = new_user_client(server, iam, old)
    created = iam.get_user(UserName=old)["User"]

    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")

    assert error_of(iam.get_user, UserName=old) == (
        404,
        "NoSuchEntity",
        f"The user with name {old} cannot be found.",
    )
    renamed = iam.get_user(UserName=new)["User"]
    assert renamed["UserId"] == created["UserId"]
    assert renamed["Path"] == "/moved/"
    assert renamed["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moved/{new}"
    # The renamed user's key still works, and now speaks for the new name.
    assert client.get_user()["User"]["UserName"] == new
    keys = iam.list_access_keys(UserName=new)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["UserName"]) for k in keys] == [(key["AccessKeyId"], new)]
    who = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert who["Arn"] == renamed["Arn"]
    assert who["UserId"] == renamed["UserId"]


def test_update_user_path_only_keeps_the_name(iam: Any, unique: str) -> None:
    name = f"{unique}-mover"
    iam.create_user(UserName=name)
    iam.update_user(UserName=name, NewPath="/elsewhere/")
    assert iam.get_user(UserName=name)["User"]["Arn"].endswith(f":user/elsewhere/{name}")


def test_rename_onto_an_existing_name_is_refused(iam: Any, unique: str) -> None:
    iam.create_user(UserName=f"{unique}-one")
    iam.create_user(UserName=f"{unique}-two")
    target = f"{unique}-ONE"
    assert error_of(iam.update_user, UserName=f"{unique}-two", NewUserName=target) == (
        409,
        "EntityAlreadyExists",
        f"User with name {target} already exists.",
    )
    assert iam.get_user(UserName=f"{unique}-two")["User"]["UserName"] == f"{unique}-two"


def test_rename_changing_only_case_is_allowed(iam: Any, unique: str) -> None:
    iam.create_user(UserName=f"{unique}-casey")
    iam.update_user(UserName=f"{unique}-casey", NewUserName=f"{unique}-Casey")
    assert iam.get_user(UserName=f"{unique}-casey")["User"]["UserName"] == f"{unique}-Casey"


def test_get_user_without_a_name_returns_the_caller(
    iam: Any, server: RunningServer, unique: str
) -> None:
    admin = iam.get_user()["User"]
    assert admin["UserName"] == "admin"
    assert admin["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"
    client, _ = new_user_client(server, iam, f"{unique}-me")
    me = client.get_user()["User"]
    assert me == iam.get_user(UserName=f"{unique}-me")["User"]


def test_get_caller_identity(iam: Any, server: RunningServer, unique: str) -> None:
    admin = server.client("sts").get_caller_identity()
    assert admin["Account"] == ACCOUNT
    assert admin["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"
    assert admin["UserId"] == iam.get_user()["User"]["UserId"]

    name = f"{unique}-who"
    user = iam.create_user(UserName=name, Path="/team/")["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    # No policy at all: GetCallerIdentity cannot be denied.
    who = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert {k: who[k] for k in ("UserId", "Account", "Arn")} == {
        "UserId": user["UserId"],
        "Account": ACCOUNT,
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/team/{name}",
    }


def test_delete_user_conflicts_in_aws_order(iam: Any, unique: str) -> None:
    name, group = f"{unique}-busy", f"{unique}-grp"
    iam.create_user(UserName=name)
    iam.create_group(GroupName=group)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=policy_json())
    iam.attach_user_policy(UserName=name, PolicyArn=ADMINISTRATOR_ACCESS)
    iam.add_user_to_group(GroupName=group, UserName=name)

    def conflict() -> tuple[int, str, str]:
        return error_of(iam.delete_user, UserName=name)

    assert conflict() == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete access keys first.",
    )
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    assert conflict() == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
    )
    iam.delete_user_policy(UserName=name, PolicyName="inline")
    assert conflict() == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
    )
    iam.detach_user_policy(UserName=name, PolicyArn=ADMINISTRATOR_ACCESS)
    assert conflict() == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
    )
    iam.remove_user_from_group(GroupName=group, UserName=name)
    iam.delete_user(UserName=name)
    assert error_of(iam.get_user, UserName=name)[1] == "NoSuchEntity"


def test_user_tags_add_replace_ignoring_case_and_remove(iam: Any, unique: str) -> None:
    name = f"{unique}-tagged"
    iam.create_user(UserName=name, Tags=[{"Key": "Team", "Value": "a"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "b"}, {"Key": "env", "Value": ""}])
    tags = iam.list_user_tags(UserName=name)
    assert tags["IsTruncated"] is False
    assert sorted((t["Key"], t["Value"]) for t in tags["Tags"]) == [("env", ""), ("team", "b")]
    iam.untag_user(UserName=name, TagKeys=["TEAM", "absent"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "env", "Value": ""}]
    assert iam.get_user(UserName=name)["User"]["Tags"] == [{"Key": "env", "Value": ""}]


def test_duplicate_tag_keys_in_one_request_are_refused(iam: Any, unique: str) -> None:
    tags = [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
    assert error_of(iam.create_user, UserName=f"{unique}-dup", Tags=tags) == (
        400,
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )


def test_at_most_fifty_tags_per_user(iam: Any, unique: str) -> None:
    name = f"{unique}-many"
    iam.create_user(UserName=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    # Replacing an existing key does not count twice.
    iam.tag_user(UserName=name, Tags=[{"Key": "K0", "Value": "w"}, {"Key": "k49", "Value": "v"}])
    assert len(iam.list_user_tags(UserName=name)["Tags"]) == 50
    status, code, _ = error_of(iam.tag_user, UserName=name, Tags=[{"Key": "k50", "Value": "v"}])
    assert (status, code) == (409, "LimitExceeded")
    assert len(iam.list_user_tags(UserName=name)["Tags"]) == 50


def test_more_than_fifty_tags_in_one_request_fail_validation(iam: Any, unique: str) -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    status, code, message = error_of(iam.create_user, UserName=f"{unique}-x", Tags=tags)
    assert (status, code) == (400, "ValidationError")
    assert message.startswith("1 validation error detected: Value '[{Key=k0, Value=v}, ")
    assert message.endswith(
        "' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    )


def test_tag_key_outside_the_pattern_is_refused(iam: Any, unique: str) -> None:
    status, code, message = error_of(
        iam.create_user, UserName=f"{unique}-x", Tags=[{"Key": "bad*key", "Value": "v"}]
    )
    assert (status, code) == (400, "ValidationError")
    assert "at 'tags.1.member.key' failed to satisfy constraint" in message
    assert message == validation_message(
        "bad*key",
        "tags.1.member.key",
        r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
    )

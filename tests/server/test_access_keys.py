"""Access keys through boto3: shapes, the implicit caller, status, quota, last use."""

from __future__ import annotations

from typing import Any

from tests.server.iam_helpers import (
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    assert_recent_utc,
    error_of,
    new_user_client,
    validation_message,
)
from tests.support.servers import RunningServer

INVALID_TOKEN = (
    403,
    "InvalidClientTokenId",
    "The security token included in the request is invalid.",
)


def test_create_access_key_returns_the_aws_shape(
    iam: Any, server: RunningServer, unique: str
) -> None:
    user = f"{unique}-Keyed"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user.lower())["AccessKey"]
    assert set(key) == {"UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate"}
    assert key["UserName"] == user
    assert ACCESS_KEY_ID.fullmatch(key["AccessKeyId"])
    assert SECRET_ACCESS_KEY.fullmatch(key["SecretAccessKey"])
    assert key["Status"] == "Active"
    assert_recent_utc(key["CreateDate"])

    listed = iam.list_access_keys(UserName=user)
    assert listed["IsTruncated"] is False
    assert listed["AccessKeyMetadata"] == [
        {k: key[k] for k in ("UserName", "AccessKeyId", "Status", "CreateDate")}
    ]
    # The new key signs requests at once.
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{user}")


def test_a_user_without_keys_lists_none(iam: Any, unique: str) -> None:
    iam.create_user(UserName=f"{unique}-keyless")
    listed = iam.list_access_keys(UserName=f"{unique}-keyless")
    assert listed["AccessKeyMetadata"] == []
    assert listed["IsTruncated"] is False


def test_at_most_two_keys_active_or_not(iam: Any, unique: str) -> None:
    user = f"{unique}-two"
    iam.create_user(UserName=user)
    first = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    iam.create_access_key(UserName=user)
    iam.update_access_key(UserName=user, AccessKeyId=first, Status="Inactive")
    assert error_of(iam.create_access_key, UserName=user) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
    )
    iam.delete_access_key(UserName=user, AccessKeyId=first)
    iam.create_access_key(UserName=user)
    assert len(iam.list_access_keys(UserName=user)["AccessKeyMetadata"]) == 2


def test_inactive_and_deleted_keys_stop_working(
    iam: Any, server: RunningServer, unique: str
) -> None:
    user = f"{unique}-switch"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    key_id = key["AccessKeyId"]
    sts = server.client("sts", key_id, key["SecretAccessKey"])
    sts.get_caller_identity()

    iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    assert error_of(sts.get_caller_identity) == INVALID_TOKEN

    iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Active")
    sts.get_caller_identity()

    iam.delete_access_key(UserName=user, AccessKeyId=key_id)
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == []
    assert error_of(sts.get_caller_identity) == INVALID_TOKEN


def test_status_must_be_active_or_inactive(iam: Any, unique: str) -> None:
    user = f"{unique}-status"
    iam.create_user(UserName=user)
    key_id = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    status, code, message = error_of(
        iam.update_access_key, UserName=user, AccessKeyId=key_id, Status="Paused"
    )
    assert (status, code) == (400, "ValidationError")
    assert message.startswith(
        validation_message("Paused", "status", "Member must satisfy enum value set: [")
    )


def test_unknown_keys_and_users(iam: Any, unique: str) -> None:
    user, other = f"{unique}-owner", f"{unique}-other"
    iam.create_user(UserName=user)
    iam.create_user(UserName=other)
    key_id = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    ghost = "AKIAZZZZZZZZZZZZZZZZ"
    no_key = (404, "NoSuchEntity", f"The Access Key with id {ghost} cannot be found.")
    assert error_of(iam.delete_access_key, UserName=user, AccessKeyId=ghost) == no_key
    assert (
        error_of(iam.update_access_key, UserName=user, AccessKeyId=ghost, Status="Inactive")
        == no_key
    )
    # A key is found only under its own user.
    assert error_of(iam.delete_access_key, UserName=other, AccessKeyId=key_id) == (
        404,
        "NoSuchEntity",
        f"The Access Key with id {key_id} cannot be found.",
    )
    nobody = f"{unique}-nobody"
    no_user = (404, "NoSuchEntity", f"The user with name {nobody} cannot be found.")
    assert error_of(iam.create_access_key, UserName=nobody) == no_user
    assert error_of(iam.list_access_keys, UserName=nobody) == no_user
    assert error_of(iam.delete_access_key, UserName=nobody, AccessKeyId=key_id) == no_user


def test_without_user_name_keys_are_the_callers(
    iam: Any, server: RunningServer, unique: str
) -> None:
    user = f"{unique}-self"
    client, first = new_user_client(server, iam, user)
    own = client.list_access_keys()["AccessKeyMetadata"]
    assert [(k["UserName"], k["AccessKeyId"]) for k in own] == [(user, first["AccessKeyId"])]

    second = client.create_access_key()["AccessKey"]
    assert second["UserName"] == user
    ids = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    assert ids == {first["AccessKeyId"], second["AccessKeyId"]}

    client.update_access_key(AccessKeyId=second["AccessKeyId"], Status="Inactive")
    client.delete_access_key(AccessKeyId=second["AccessKeyId"])
    assert [k["AccessKeyId"] for k in client.list_access_keys()["AccessKeyMetadata"]] == [
        first["AccessKeyId"]
    ]
    # The admin's own keys are not this user's.
    admin_keys = iam.list_access_keys()["AccessKeyMetadata"]
    assert {k["UserName"] for k in admin_keys} == {"admin"}


def test_last_used_of_a_new_and_of_a_used_key(iam: Any, server: RunningServer, unique: str) -> None:
    user = f"{unique}-lastused"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    fresh = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert fresh["UserName"] == user
    assert fresh["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}

    server.client(
        "sts", key["AccessKeyId"], key["SecretAccessKey"], region="eu-west-3"
    ).get_caller_identity()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts"
    assert used["Region"] == "eu-west-3"
    assert_recent_utc(used["LastUsedDate"])

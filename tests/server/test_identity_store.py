"""The Identity Center instance and its identity store through boto3 against a real
server: users, groups and memberships, with AWS's errors and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.servers import RunningServer, start_server


@pytest.fixture(scope="module")
def ic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own: an account has one instance."""
    running = start_server(tmp_path_factory.mktemp("iamd-identity-store"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def store(ic_server: RunningServer) -> tuple[Any, str, str]:
    """(identitystore client, store id, instance ARN) of the admin account's instance."""
    admin = ic_server.client("sso-admin")
    arn = admin.create_instance(Name="Corp")["InstanceArn"]
    instances = admin.list_instances()["Instances"]
    assert [i["InstanceArn"] for i in instances] == [arn]
    return ic_server.client("identitystore"), instances[0]["IdentityStoreId"], arn


def _error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return dict(raised.value.response["Error"]) | {
        key: raised.value.response[key]
        for key in ("ResourceType", "ResourceId", "Reason")
        if key in raised.value.response
    }


def _user(ids: Any, store_id: str, name: str, **extra: Any) -> str:
    return str(
        ids.create_user(
            IdentityStoreId=store_id,
            UserName=name,
            DisplayName=name.title(),
            Name={"GivenName": name.title(), "FamilyName": "Doe"},
            **extra,
        )["UserId"]
    )


def test_the_instance_is_described_renamed_and_unique(
    ic_server: RunningServer, store: tuple[Any, str, str]
) -> None:
    _ids, store_id, arn = store
    admin = ic_server.client("sso-admin")
    described = admin.describe_instance(InstanceArn=arn)
    assert described["IdentityStoreId"] == store_id
    assert described["Status"] == "ACTIVE"
    assert described["Name"] == "Corp"
    assert described["OwnerAccountId"] == ic_server.client("sts").get_caller_identity()["Account"]
    assert store_id.startswith("d-")
    assert len(store_id) == 12
    assert _error(admin.create_instance, Name="Again")["Code"] == "ConflictException"
    admin.update_instance(InstanceArn=arn, Name="Corporate")
    assert admin.describe_instance(InstanceArn=arn)["Name"] == "Corporate"
    missing = "arn:aws:sso:::instance/ssoins-0000000000000000"
    assert _error(admin.describe_instance, InstanceArn=missing)["Code"] == (
        "ResourceNotFoundException"
    )


def test_users_are_created_described_updated_listed_and_deleted(
    store: tuple[Any, str, str],
) -> None:
    ids, store_id, _arn = store
    user_id = _user(
        ids,
        store_id,
        "jdoe",
        Emails=[{"Value": "jdoe@example.com", "Type": "work", "Primary": True}],
    )
    assert user_id.startswith(store_id[2:] + "-")
    user = ids.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert (user["UserName"], user["DisplayName"], user["UserStatus"]) == (
        "jdoe",
        "Jdoe",
        "ENABLED",
    )
    assert user["Name"] == {"GivenName": "Jdoe", "FamilyName": "Doe"}
    assert user["Emails"][0]["Value"] == "jdoe@example.com"

    ids.update_user(
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[
            {"AttributePath": "displayName", "AttributeValue": "John Doe"},
            {"AttributePath": "name.givenName", "AttributeValue": "John"},
            {"AttributePath": "title"},
        ],
    )
    user = ids.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert user["DisplayName"] == "John Doe"
    assert user["Name"] == {"GivenName": "John", "FamilyName": "Doe"}

    by_name = ids.get_user_id(
        IdentityStoreId=store_id,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "JDOE"}
        },
    )
    assert by_name["UserId"] == user_id
    by_email = ids.get_user_id(
        IdentityStoreId=store_id,
        AlternateIdentifier={
            "UniqueAttribute": {
                "AttributePath": "emails.value",
                "AttributeValue": "jdoe@example.com",
            }
        },
    )
    assert by_email["UserId"] == user_id
    filtered = ids.list_users(
        IdentityStoreId=store_id, Filters=[{"AttributePath": "UserName", "AttributeValue": "jdoe"}]
    )["Users"]
    assert [u["UserId"] for u in filtered] == [user_id]

    ids.delete_user(IdentityStoreId=store_id, UserId=user_id)
    gone = _error(ids.describe_user, IdentityStoreId=store_id, UserId=user_id)
    assert (gone["Code"], gone["ResourceType"], gone["ResourceId"]) == (
        "ResourceNotFoundException",
        "USER",
        user_id,
    )


def test_a_user_name_is_unique_ignoring_case(store: tuple[Any, str, str]) -> None:
    ids, store_id, _arn = store
    _user(ids, store_id, "unique-one")
    twice = _error(
        ids.create_user, IdentityStoreId=store_id, UserName="UNIQUE-ONE", DisplayName="x"
    )
    assert (twice["Code"], twice["Reason"]) == (
        "ConflictException",
        "UNIQUENESS_CONSTRAINT_VIOLATION",
    )


def test_users_are_paged_with_tokens_bound_to_their_list(store: tuple[Any, str, str]) -> None:
    ids, store_id, _arn = store
    made = {_user(ids, store_id, f"pager-{index}") for index in range(7)}
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"IdentityStoreId": store_id, "MaxResults": 3}
        if token:
            params["NextToken"] = token
        page = ids.list_users(**params)
        pages += 1
        seen += [u["UserId"] for u in page["Users"]]
        token = page.get("NextToken")
        if not token:
            break
        groups_token = token
    assert made <= set(seen)
    assert len(seen) == len(set(seen))
    assert pages >= 3
    wrong = _error(ids.list_groups, IdentityStoreId=store_id, NextToken=groups_token)
    assert wrong["Code"] == "ValidationException"
    assert _error(ids.list_users, IdentityStoreId=store_id, MaxResults=101)["Code"] == (
        "ValidationException"
    )


def test_groups_and_memberships(store: tuple[Any, str, str]) -> None:
    ids, store_id, _arn = store
    alice = _user(ids, store_id, "alice")
    bob = _user(ids, store_id, "bob")
    admins = ids.create_group(IdentityStoreId=store_id, DisplayName="Admins", Description="ops")[
        "GroupId"
    ]
    readers = ids.create_group(IdentityStoreId=store_id, DisplayName="Readers")["GroupId"]
    assert _error(ids.create_group, IdentityStoreId=store_id, DisplayName="admins")["Code"] == (
        "ConflictException"
    )
    group = ids.describe_group(IdentityStoreId=store_id, GroupId=admins)
    assert (group["DisplayName"], group["Description"]) == ("Admins", "ops")
    ids.update_group(
        IdentityStoreId=store_id,
        GroupId=admins,
        Operations=[{"AttributePath": "description", "AttributeValue": "operators"}],
    )
    assert ids.describe_group(IdentityStoreId=store_id, GroupId=admins)["Description"] == (
        "operators"
    )
    by_name = ids.get_group_id(
        IdentityStoreId=store_id,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "Readers"}
        },
    )
    assert by_name["GroupId"] == readers

    membership = ids.create_group_membership(
        IdentityStoreId=store_id, GroupId=admins, MemberId={"UserId": alice}
    )["MembershipId"]
    again = _error(
        ids.create_group_membership,
        IdentityStoreId=store_id,
        GroupId=admins,
        MemberId={"UserId": alice},
    )
    assert again["Code"] == "ConflictException"
    described = ids.describe_group_membership(IdentityStoreId=store_id, MembershipId=membership)
    assert (described["GroupId"], described["MemberId"]) == (admins, {"UserId": alice})
    assert (
        ids.get_group_membership_id(
            IdentityStoreId=store_id, GroupId=admins, MemberId={"UserId": alice}
        )["MembershipId"]
        == membership
    )
    listed = ids.list_group_memberships(IdentityStoreId=store_id, GroupId=admins)
    assert [m["MemberId"]["UserId"] for m in listed["GroupMemberships"]] == [alice]
    of_alice = ids.list_group_memberships_for_member(
        IdentityStoreId=store_id, MemberId={"UserId": alice}
    )
    assert [m["GroupId"] for m in of_alice["GroupMemberships"]] == [admins]
    results = ids.is_member_in_groups(
        IdentityStoreId=store_id, MemberId={"UserId": alice}, GroupIds=[admins, readers]
    )["Results"]
    assert [(r["GroupId"], r["MembershipExists"]) for r in results] == [
        (admins, True),
        (readers, False),
    ]
    missing_user = _error(
        ids.create_group_membership,
        IdentityStoreId=store_id,
        GroupId=readers,
        MemberId={"UserId": f"{store_id[2:]}-00000000-0000-0000-0000-000000000000"},
    )
    assert (missing_user["Code"], missing_user["ResourceType"]) == (
        "ResourceNotFoundException",
        "USER",
    )

    # Deleting a user or a group takes its memberships with it.
    ids.create_group_membership(IdentityStoreId=store_id, GroupId=readers, MemberId={"UserId": bob})
    ids.delete_user(IdentityStoreId=store_id, UserId=bob)
    assert (
        ids.list_group_memberships(IdentityStoreId=store_id, GroupId=readers)["GroupMemberships"]
        == []
    )
    ids.delete_group(IdentityStoreId=store_id, GroupId=admins)
    gone = _error(ids.describe_group_membership, IdentityStoreId=store_id, MembershipId=membership)
    assert (gone["Code"], gone["ResourceType"]) == ("ResourceNotFoundException", "GROUP_MEMBERSHIP")


def test_another_accounts_store_and_bad_input(
    ic_server: RunningServer, store: tuple[Any, str, str]
) -> None:
    ids, store_id, _arn = store
    unknown = _error(ids.list_users, IdentityStoreId="d-0000000000")
    assert (unknown["Code"], unknown["ResourceType"]) == (
        "ResourceNotFoundException",
        "IDENTITY_STORE",
    )
    assert _error(ids.create_user, IdentityStoreId=store_id, DisplayName="no name")["Code"] == (
        "ValidationException"
    )
    bad_path = _error(
        ids.update_user,
        IdentityStoreId=store_id,
        UserId=_user(ids, store_id, "pathy"),
        Operations=[{"AttributePath": "passwordHash", "AttributeValue": "x"}],
    )
    assert bad_path["Code"] == "ValidationException"
    assert _error(ids.describe_user, IdentityStoreId=store_id, UserId="not-an-id")["Code"] == (
        "ValidationException"
    )

    # A user of the same account who may not call identitystore is refused by policy.
    iam = ic_server.client("iam")
    iam.create_user(UserName="no-sso")
    key = iam.create_access_key(UserName="no-sso")["AccessKey"]
    outsider = ic_server.client("identitystore", key["AccessKeyId"], key["SecretAccessKey"])
    assert _error(outsider.list_users, IdentityStoreId=store_id)["Code"] == "AccessDeniedException"

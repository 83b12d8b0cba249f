"""Instance profiles through boto3: the profile, its one role, tags, listing, quotas,
and where profiles show elsewhere (DeleteRole, the summary, authorization details)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.server.iam_helpers import (
    ACCOUNT,
    all_pages,
    assert_recent_utc,
    bad_pattern,
    error_of,
    policy_json,
    too_long,
    validation_message,
)
from tests.support.servers import start_server

PROFILE_ID = re.compile(r"AIPA[A-Z2-7]{17}")
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
IN_PROFILE = "Cannot delete entity, must remove roles from instance profile first."


def _role(iam: Any, name: str, path: str = "/") -> dict[str, Any]:
    role: dict[str, Any] = iam.create_role(
        RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST
    )["Role"]
    return role


def test_create_get_add_role_remove_role_delete(iam: Any, unique: str) -> None:
    name = f"{unique}-web"
    created = iam.create_instance_profile(
        InstanceProfileName=name, Path="/apps/", Tags=[{"Key": "team", "Value": "web"}]
    )["InstanceProfile"]
    assert PROFILE_ID.fullmatch(created["InstanceProfileId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/apps/{name}"
    assert created["Path"] == "/apps/"
    assert created["InstanceProfileName"] == name
    assert created["Roles"] == []
    assert created["Tags"] == [{"Key": "team", "Value": "web"}]
    assert_recent_utc(created["CreateDate"])

    role = _role(iam, f"{unique}-web-role", "/ec2/")
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
    # Any case of the names finds them, as AWS's do.
    got = iam.get_instance_profile(InstanceProfileName=name.upper())["InstanceProfile"]
    assert got["InstanceProfileId"] == created["InstanceProfileId"]
    assert got["Tags"] == [{"Key": "team", "Value": "web"}]
    (held,) = got["Roles"]
    assert held["RoleName"] == role["RoleName"]
    assert held["RoleId"] == role["RoleId"]
    assert held["Arn"] == role["Arn"]
    assert held["Path"] == "/ec2/"
    assert held["AssumeRolePolicyDocument"] == json.loads(TRUST)

    for_role = iam.list_instance_profiles_for_role(RoleName=role["RoleName"])
    assert [p["InstanceProfileName"] for p in for_role["InstanceProfiles"]] == [name]
    assert for_role["IsTruncated"] is False
    # Listings leave the tags out, as AWS's do.
    assert "Tags" not in for_role["InstanceProfiles"][0]

    # Neither the profile nor the role can go while the role is in the profile.
    assert error_of(iam.delete_instance_profile, InstanceProfileName=name) == (
        409,
        "DeleteConflict",
        IN_PROFILE,
    )
    assert error_of(iam.delete_role, RoleName=role["RoleName"]) == (
        409,
        "DeleteConflict",
        IN_PROFILE,
    )

    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
    assert iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Roles"] == []
    assert iam.list_instance_profiles_for_role(RoleName=role["RoleName"])["InstanceProfiles"] == []
    iam.delete_role(RoleName=role["RoleName"])
    iam.delete_instance_profile(InstanceProfileName=name)
    assert error_of(iam.get_instance_profile, InstanceProfileName=name) == (
        404,
        "NoSuchEntity",
        f"Instance Profile {name} cannot be found.",
    )


def test_one_role_per_profile(iam: Any, unique: str) -> None:
    name = f"{unique}-one"
    iam.create_instance_profile(InstanceProfileName=name)
    first = _role(iam, f"{unique}-first")["RoleName"]
    second = _role(iam, f"{unique}-second")["RoleName"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=first)
    quota = (409, "LimitExceeded", "Cannot exceed quota for InstanceRolesPerInstanceProfile: 1")
    assert error_of(
        iam.add_role_to_instance_profile, InstanceProfileName=name, RoleName=second
    ) == (quota)
    assert error_of(iam.add_role_to_instance_profile, InstanceProfileName=name, RoleName=first) == (
        quota
    )
    # One role can be in several profiles.
    other = f"{unique}-two"
    iam.create_instance_profile(InstanceProfileName=other)
    iam.add_role_to_instance_profile(InstanceProfileName=other, RoleName=first)
    profiles = iam.list_instance_profiles_for_role(RoleName=first)["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in profiles] == [name, other]


def test_missing_entities_and_conflicts(iam: Any, unique: str) -> None:
    name = f"{unique}-p"
    ghost = f"{unique}-ghost"
    no_profile = (404, "NoSuchEntity", f"Instance Profile {ghost} cannot be found.")
    no_role = (404, "NoSuchEntity", f"The role with name {ghost} cannot be found.")
    assert error_of(iam.get_instance_profile, InstanceProfileName=ghost) == no_profile
    assert error_of(iam.delete_instance_profile, InstanceProfileName=ghost) == no_profile
    assert error_of(iam.list_instance_profile_tags, InstanceProfileName=ghost) == no_profile
    assert (
        error_of(
            iam.tag_instance_profile, InstanceProfileName=ghost, Tags=[{"Key": "k", "Value": "v"}]
        )
        == no_profile
    )
    assert error_of(iam.untag_instance_profile, InstanceProfileName=ghost, TagKeys=["k"]) == (
        no_profile
    )
    assert error_of(iam.list_instance_profiles_for_role, RoleName=ghost) == no_role

    created = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert error_of(iam.create_instance_profile, InstanceProfileName=name.upper()) == (
        409,
        "EntityAlreadyExists",
        f"Instance Profile {name.upper()} already exists.",
    )
    # The failed create left the original untouched.
    again = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert again["InstanceProfileId"] == created["InstanceProfileId"]
    assert (
        error_of(iam.add_role_to_instance_profile, InstanceProfileName=ghost, RoleName=ghost)
        == no_profile
    )
    assert error_of(iam.add_role_to_instance_profile, InstanceProfileName=name, RoleName=ghost) == (
        no_role
    )
    assert (
        error_of(iam.remove_role_from_instance_profile, InstanceProfileName=name, RoleName=ghost)
        == no_role
    )
    # A role that exists but is not in the profile.
    role = _role(iam, f"{unique}-elsewhere")["RoleName"]
    assert error_of(
        iam.remove_role_from_instance_profile, InstanceProfileName=name, RoleName=role
    ) == (404, "NoSuchEntity", f"The role with name {role} cannot be found.")


def test_bad_names_and_paths_are_validation_errors(iam: Any) -> None:
    long_name = "p" * 129
    assert error_of(iam.create_instance_profile, InstanceProfileName=long_name) == (
        400,
        "ValidationError",
        too_long(long_name, "instanceProfileName", 128),
    )
    assert error_of(iam.create_instance_profile, InstanceProfileName="bad name") == (
        400,
        "ValidationError",
        bad_pattern("bad name", "instanceProfileName"),
    )
    status, code, message = error_of(
        iam.create_instance_profile, InstanceProfileName="ok", Path="no-slashes"
    )
    assert (status, code) == (400, "ValidationError")
    assert message.startswith("The specified value for path is invalid.")
    assert error_of(iam.list_instance_profiles, PathPrefix="no-slash") == (
        400,
        "ValidationError",
        validation_message(
            "no-slash",
            "pathPrefix",
            "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
        ),
    )
    assert error_of(iam.list_instance_profiles, Marker="not-a-marker") == (
        400,
        "InvalidInput",
        "Invalid Marker.",
    )


def test_list_paginates_and_filters_by_path(iam: Any, unique: str) -> None:
    names = [f"{unique}-{i:02}" for i in range(7)]
    for name in reversed(names):
        iam.create_instance_profile(InstanceProfileName=name, Path=f"/{unique}/")
    iam.create_instance_profile(InstanceProfileName=f"{unique}-elsewhere", Path="/other/")
    profiles, pages = all_pages(
        iam, "list_instance_profiles", "InstanceProfiles", 3, PathPrefix=f"/{unique}/"
    )
    assert [p["InstanceProfileName"] for p in profiles] == names
    assert pages == 3
    assert all("Tags" not in p for p in profiles)

    role = _role(iam, f"{unique}-many")["RoleName"]
    for name in names:
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    for_role, pages = all_pages(
        iam, "list_instance_profiles_for_role", "InstanceProfiles", 2, RoleName=role
    )
    assert [p["InstanceProfileName"] for p in for_role] == names
    assert pages == 4
    assert all([r["RoleName"] for r in p["Roles"]] == [role] for p in for_role)


def test_tags(iam: Any, unique: str) -> None:
    name = f"{unique}-tagged"
    iam.create_instance_profile(InstanceProfileName=name)
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == []
    iam.tag_instance_profile(
        InstanceProfileName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    iam.tag_instance_profile(InstanceProfileName=name, Tags=[{"Key": "A", "Value": "3"}])
    first = iam.list_instance_profile_tags(InstanceProfileName=name, MaxItems=1)
    assert first["IsTruncated"] is True
    rest = iam.list_instance_profile_tags(InstanceProfileName=name, Marker=first["Marker"])
    assert first["Tags"] + rest["Tags"] == [
        {"Key": "b", "Value": "2"},
        {"Key": "A", "Value": "3"},
    ]
    iam.untag_instance_profile(InstanceProfileName=name, TagKeys=["a", "missing"])
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == [
        {"Key": "b", "Value": "2"}
    ]
    assert error_of(
        iam.tag_instance_profile,
        InstanceProfileName=name,
        Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}],
    ) == (
        400,
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )
    many = [{"Key": f"k{i}", "Value": ""} for i in range(50)]
    assert error_of(iam.tag_instance_profile, InstanceProfileName=name, Tags=many) == (
        409,
        "LimitExceeded",
        "The number of tags has reached the maximum limit.",
    )


def test_quota_summary_and_authorization_details(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", extra_args=["--instance-profiles-quota", "2"])
    try:
        iam = server.client("iam")
        summary = iam.get_account_summary()["SummaryMap"]
        assert (summary["InstanceProfiles"], summary["InstanceProfilesQuota"]) == (0, 2)
        iam.create_instance_profile(InstanceProfileName="one", Tags=[{"Key": "k", "Value": "v"}])
        iam.create_instance_profile(InstanceProfileName="two", Path="/x/")
        assert error_of(iam.create_instance_profile, InstanceProfileName="three") == (
            409,
            "LimitExceeded",
            "Cannot exceed quota for InstanceProfilesPerAccount: 2",
        )
        assert iam.get_account_summary()["SummaryMap"]["InstanceProfiles"] == 2

        role = _role(iam, "app")
        iam.put_role_policy(RoleName="app", PolicyName="p", PolicyDocument=policy_json())
        iam.add_role_to_instance_profile(InstanceProfileName="one", RoleName="app")
        iam.add_role_to_instance_profile(InstanceProfileName="two", RoleName="app")
        (detail,) = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
        profiles = detail["InstanceProfileList"]
        assert [p["InstanceProfileName"] for p in profiles] == ["one", "two"]
        assert profiles[0]["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/one"
        assert profiles[0]["Tags"] == [{"Key": "k", "Value": "v"}]
        assert profiles[1]["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/x/two"
        assert [r["RoleId"] for r in profiles[1]["Roles"]] == [role["RoleId"]]

        # DeleteRole names the inline policies first, then the profiles.
        assert error_of(iam.delete_role, RoleName="app")[2] == (
            "Cannot delete entity, must delete policies first."
        )
        iam.delete_role_policy(RoleName="app", PolicyName="p")
        assert error_of(iam.delete_role, RoleName="app")[2] == IN_PROFILE
        for name in ("one", "two"):
            iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName="app")
            iam.delete_instance_profile(InstanceProfileName=name)
        iam.delete_role(RoleName="app")
        assert iam.get_account_summary()["SummaryMap"]["InstanceProfiles"] == 0
        iam.create_instance_profile(InstanceProfileName="three")
    finally:
        server.stop()


def test_authorized_against_the_profile_arn(iam: Any, unique: str) -> None:
    user = f"{unique}-limited"
    iam.create_user(UserName=user)
    allowed = f"{unique}-mine"
    denied = f"{unique}-theirs"
    iam.create_instance_profile(InstanceProfileName=allowed, Path="/team/")
    iam.create_instance_profile(InstanceProfileName=denied, Path="/other/")
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:GetInstanceProfile",
                    "Resource": f"arn:aws:iam::{ACCOUNT}:instance-profile/team/*",
                }
            ],
        }
    )
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    import boto3

    client = boto3.client(
        "iam",
        endpoint_url=iam.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    assert client.get_instance_profile(InstanceProfileName=allowed)["InstanceProfile"]
    status, code, _ = error_of(client.get_instance_profile, InstanceProfileName=denied)
    assert (status, code) == (403, "AccessDenied")


@pytest.mark.postgres
def test_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    server = start_server(tmp_path / "data", database_url=fresh_postgres_url)
    try:
        iam = server.client("iam")
        iam.create_instance_profile(InstanceProfileName="pg", Tags=[{"Key": "k", "Value": "v"}])
        assert error_of(iam.create_instance_profile, InstanceProfileName="PG")[1] == (
            "EntityAlreadyExists"
        )
        _role(iam, "pg-role")
        iam.add_role_to_instance_profile(InstanceProfileName="pg", RoleName="pg-role")
        assert error_of(iam.delete_role, RoleName="pg-role")[2] == IN_PROFILE
        listed = iam.list_instance_profiles_for_role(RoleName="pg-role")["InstanceProfiles"]
        assert [p["InstanceProfileName"] for p in listed] == ["pg"]
        iam.remove_role_from_instance_profile(InstanceProfileName="pg", RoleName="pg-role")
        iam.delete_instance_profile(InstanceProfileName="pg")
        iam.delete_role(RoleName="pg-role")
        role = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]
        task = iam.delete_service_linked_role(RoleName=role["RoleName"])["DeletionTaskId"]
        status = iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"]
        assert status == "SUCCEEDED"
        assert iam.get_account_summary()["SummaryMap"]["InstanceProfiles"] == 0
    finally:
        server.stop()

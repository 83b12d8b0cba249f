"""The IAM access advisor through a real server and boto3: which services a user,
group, role or policy may use, and when each was last used."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from tests.support.servers import RunningServer, start_server

ACCOUNT = "123456789012"


def _doc(*actions: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        }
    )


def _user(iam: Any, name: str, *actions: str) -> tuple[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_doc(*actions))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _report(iam: Any, arn: str, **params: Any) -> tuple[str, dict[str, Any], list[str]]:
    """The job id, its completed first page, and every status seen on the way."""
    job_id = iam.generate_service_last_accessed_details(Arn=arn, **params)["JobId"]
    seen = []
    deadline = time.monotonic() + 20
    while True:
        got = iam.get_service_last_accessed_details(JobId=job_id)
        seen.append(got["JobStatus"])
        if got["JobStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return job_id, got, seen
        time.sleep(0.05)


def _by_namespace(got: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["ServiceNamespace"]: s for s in got["ServicesLastAccessed"]}


def test_a_users_services_with_and_without_use(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-u"
    key_id, secret = _user(
        iam,
        name,
        "iam:GetUser",
        "sts:GetCallerIdentity",
        "codecommit:GitPush",
        "organizations:DescribeOrganization",
    )
    server.client("iam", key_id, secret, region="eu-west-1").get_user()
    server.client("sts", key_id, secret, region="eu-west-1").get_caller_identity()
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"

    job_id, got, seen = _report(iam, arn)

    assert got["JobStatus"] == "COMPLETED"
    assert set(seen) <= {"IN_PROGRESS", "COMPLETED"}
    assert seen[-1] == "COMPLETED"
    assert got["JobType"] == "SERVICE_LEVEL"
    assert got["JobCompletionDate"] >= got["JobCreationDate"]
    assert got["IsTruncated"] is False
    services = _by_namespace(got)
    assert sorted(services) == ["codecommit", "iam", "organizations", "sts"]
    for used in ("iam", "sts"):
        assert services[used]["LastAuthenticatedEntity"] == arn
        assert services[used]["LastAuthenticatedRegion"] == "eu-west-1"
        assert services[used]["TotalAuthenticatedEntities"] == 1
        assert abs(services[used]["LastAuthenticated"].timestamp() - time.time()) < 60
    assert services["iam"]["ServiceName"] == "AWS Identity and Access Management"
    for unused in ("codecommit", "organizations"):
        assert "LastAuthenticated" not in services[unused]
        assert services[unused]["TotalAuthenticatedEntities"] == 0

    entities = iam.get_service_last_accessed_details_with_entities(
        JobId=job_id, ServiceNamespace="sts"
    )
    assert [e["EntityInfo"]["Arn"] for e in entities["EntityDetailsList"]] == [arn]
    assert entities["EntityDetailsList"][0]["EntityInfo"]["Type"] == "USER"
    assert entities["JobStatus"] == "COMPLETED"


def test_action_level_for_iam_and_paging(server: RunningServer, iam: Any, unique: str) -> None:
    name = f"{unique}-u"
    key_id, secret = _user(iam, name, "iam:GetUser", "iam:ListUsers", "sts:*", "organizations:*")
    server.client("iam", key_id, secret).get_user()
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"

    job_id, got, _ = _report(iam, arn, Granularity="ACTION_LEVEL")

    assert got["JobType"] == "ACTION_LEVEL"
    services = _by_namespace(got)
    actions = {a["ActionName"]: a for a in services["iam"]["TrackedActionsLastAccessed"]}
    assert set(actions) == {"GetUser", "ListUsers"}
    assert actions["GetUser"]["LastAccessedEntity"] == arn
    assert actions["GetUser"]["LastAccessedRegion"] == "us-east-1"
    assert "LastAccessedTime" not in actions["ListUsers"]
    assert "TrackedActionsLastAccessed" not in services["sts"]  # not tracked by action

    first = iam.get_service_last_accessed_details(JobId=job_id, MaxItems=2)
    assert first["IsTruncated"] is True
    rest = iam.get_service_last_accessed_details(JobId=job_id, MaxItems=2, Marker=first["Marker"])
    assert rest["IsTruncated"] is False
    paged = [
        s["ServiceNamespace"] for s in first["ServicesLastAccessed"] + rest["ServicesLastAccessed"]
    ]
    assert paged == [s["ServiceNamespace"] for s in got["ServicesLastAccessed"]]


def test_a_role_sessions_use_is_the_roles(server: RunningServer, iam: Any, unique: str) -> None:
    name = f"{unique}-r"
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    role_arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=name, PolicyName="p", PolicyDocument=_doc("iam:GetRole", "organizations:ListRoots")
    )
    creds = server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="advisor")[
        "Credentials"
    ]
    server.client(
        "iam", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"]
    ).get_role(RoleName=name)

    job_id, got, _ = _report(iam, role_arn)

    services = _by_namespace(got)
    assert services["iam"]["LastAuthenticatedEntity"] == role_arn
    assert "LastAuthenticated" not in services["organizations"]
    entities = iam.get_service_last_accessed_details_with_entities(
        JobId=job_id, ServiceNamespace="iam"
    )
    assert entities["EntityDetailsList"][0]["EntityInfo"]["Type"] == "ROLE"


def test_group_and_policy_reports_show_their_entities_use(
    server: RunningServer, iam: Any, unique: str
) -> None:
    group = f"{unique}-g"
    iam.create_group(GroupName=group)
    iam.put_group_policy(
        GroupName=group, PolicyName="p", PolicyDocument=_doc("iam:GetUser", "sts:GetCallerIdentity")
    )
    policy_arn = iam.create_policy(PolicyName=f"{unique}-p", PolicyDocument=_doc("iam:GetUser"))[
        "Policy"
    ]["Arn"]
    users = []
    for n in ("a", "b", "idle"):
        user = f"{unique}-{n}"
        key = _user(iam, user, "iam:GetUser")
        iam.add_user_to_group(GroupName=group, UserName=user)
        iam.attach_user_policy(UserName=user, PolicyArn=policy_arn)
        users.append((user, key))
    for _name, (key_id, secret) in users[:2]:
        server.client("iam", key_id, secret).get_user()

    job_id, got, _ = _report(iam, f"arn:aws:iam::{ACCOUNT}:group/{group}")
    services = _by_namespace(got)
    assert services["iam"]["TotalAuthenticatedEntities"] == 2
    assert services["iam"]["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/{unique}-b"
    assert "LastAuthenticated" not in services["sts"]
    listed = iam.get_service_last_accessed_details_with_entities(
        JobId=job_id, ServiceNamespace="iam"
    )
    assert sorted(e["EntityInfo"]["Name"] for e in listed["EntityDetailsList"]) == [
        f"{unique}-a",
        f"{unique}-b",
    ]

    _, by_policy, _ = _report(iam, policy_arn)
    assert list(_by_namespace(by_policy)) == ["iam"]
    assert _by_namespace(by_policy)["iam"]["TotalAuthenticatedEntities"] == 2


@pytest.mark.parametrize(
    ("call", "params", "code"),
    [
        (
            "generate_service_last_accessed_details",
            {"Arn": "arn:aws:s3:::not-an-iam-entity"},
            "InvalidInput",
        ),
        (
            "generate_service_last_accessed_details",
            {"Arn": f"arn:aws:iam::{ACCOUNT}:user/nobody-here"},
            "NoSuchEntity",
        ),
        (
            "generate_service_last_accessed_details",
            {"Arn": f"arn:aws:iam::{ACCOUNT}:policy/NoSuchPolicy"},
            "NoSuchEntity",
        ),
        (
            "generate_service_last_accessed_details",
            {"Arn": "arn:aws:iam::210987654321:user/someone-else"},
            "AccessDenied",
        ),
        (
            "get_service_last_accessed_details",
            {"JobId": "00000000-0000-0000-0000-000000000000"},
            "NoSuchEntity",
        ),
        (
            "get_service_last_accessed_details_with_entities",
            {"JobId": "00000000-0000-0000-0000-000000000000", "ServiceNamespace": "iam"},
            "NoSuchEntity",
        ),
    ],
)
def test_bad_input_gets_awss_errors(iam: Any, call: str, params: dict[str, Any], code: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        getattr(iam, call)(**params)
    assert raised.value.response["Error"]["Code"] == code


def test_a_bad_marker_and_granularity(iam: Any, unique: str) -> None:
    iam.create_user(UserName=f"{unique}-u")
    arn = f"arn:aws:iam::{ACCOUNT}:user/{unique}-u"
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        iam.generate_service_last_accessed_details(Arn=arn, Granularity="NOPE")
    assert raised.value.response["Error"]["Code"] in {"InvalidInput", "ValidationError"}
    job_id, _, _ = _report(iam, arn)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        iam.get_service_last_accessed_details(JobId=job_id, Marker="garbage!")
    assert raised.value.response["Error"]["Code"] == "InvalidInput"


def test_an_aws_managed_policys_report(iam: Any, unique: str) -> None:
    arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)

    job_id, got, _ = _report(iam, arn)

    assert got["JobStatus"] == "COMPLETED"
    assert "iam" in _by_namespace(got)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        iam.get_service_last_accessed_details_with_entities(
            JobId=job_id, ServiceNamespace="codecommit"
        )
    assert raised.value.response["Error"]["Code"] == "InvalidInput"


def test_a_deleted_users_use_is_not_its_new_namesakes(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-u"
    key_id, secret = _user(iam, name, "iam:GetUser")
    server.client("iam", key_id, secret).get_user()
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert "LastAuthenticated" in _by_namespace(_report(iam, arn)[1])["iam"]
    iam.delete_access_key(UserName=name, AccessKeyId=key_id)
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.delete_user(UserName=name)
    time.sleep(0.01)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_doc("iam:GetUser"))

    assert "LastAuthenticated" not in _by_namespace(_report(iam, arn)[1])["iam"]


@pytest.mark.postgres
def test_a_job_started_on_one_node_is_read_on_another(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    env = {"IAMD_MASTER_KEY": "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="}
    node_a = start_server(tmp_path / "a", database_url=fresh_postgres_url, extra_env=env)
    node_b = start_server(tmp_path / "b", database_url=fresh_postgres_url, extra_env=env)
    try:
        iam_a, iam_b = node_a.client("iam"), node_b.client("iam")
        key_id, secret = _user(iam_a, "advised", "iam:GetUser", "sts:GetCallerIdentity")
        node_a.client("iam", key_id, secret).get_user()
        arn = iam_a.get_user(UserName="advised")["User"]["Arn"]
        job_id, on_a, _seen = _report(iam_a, arn)
        assert on_a["JobStatus"] == "COMPLETED"

        on_b = iam_b.get_service_last_accessed_details(JobId=job_id)
        assert on_b["JobStatus"] == "COMPLETED"
        assert on_b["ServicesLastAccessed"] == on_a["ServicesLastAccessed"]
        assert _by_namespace(on_b)["iam"]["TotalAuthenticatedEntities"] == 1
        entities = iam_b.get_service_last_accessed_details_with_entities(
            JobId=job_id, ServiceNamespace="iam"
        )["EntityDetailsList"]
        assert [e["EntityInfo"]["Arn"] for e in entities] == [arn]
    finally:
        node_a.stop()
        node_b.stop()

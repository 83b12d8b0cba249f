"""sts:GetFederationToken through boto3: the federated user's identity, its permissions
(the user's ∩ the session policies, nothing without one), what its credentials may not
call, its condition keys, and AWS's errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from tests.server.iam_helpers import ACCOUNT, error_of
from tests.server.test_sts_sessions import session_client, user_with_key
from tests.support.servers import RunningServer


def allow(actions: str | list[str], condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def federating_user(iam: Any, name: str, *actions: str) -> Any:
    """A user allowed GetFederationToken (and TagSession) plus `actions`; its STS client
    is returned."""
    key_id, secret = user_with_key(iam, name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="federate",
        PolicyDocument=allow(["sts:GetFederationToken", "sts:TagSession", *actions]),
    )
    return key_id, secret


def test_federation_token_is_a_federated_user_of_the_account(
    server: RunningServer, iam: Any, unique: str
) -> None:
    key_id, secret = federating_user(iam, f"{unique}-u")
    sts = server.client("sts", key_id, secret)
    before = datetime.now(UTC)
    policy = allow("codecommit:ListRepositories")
    response = sts.get_federation_token(Name="bob@example.com", Policy=policy)
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/bob@example.com"
    assert response["FederatedUser"] == {
        "FederatedUserId": f"{ACCOUNT}:bob@example.com",
        "Arn": arn,
    }
    assert 0 < response["PackedPolicySize"] <= 100
    credentials = response["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    # 12 hours by default.
    lifetime = credentials["Expiration"] - before
    assert timedelta(hours=12) - timedelta(seconds=5) < lifetime <= timedelta(hours=12, seconds=5)
    identity = session_client(server, credentials, "sts").get_caller_identity()
    assert identity == {
        "UserId": f"{ACCOUNT}:bob@example.com",
        "Account": ACCOUNT,
        "Arn": arn,
        "ResponseMetadata": identity["ResponseMetadata"],
    }
    short = sts.get_federation_token(Name="ab", DurationSeconds=900, Policy=policy)
    assert short["Credentials"]["Expiration"] - before <= timedelta(seconds=905)
    longest = sts.get_federation_token(Name="ab", DurationSeconds=129_600, Policy=policy)
    assert longest["Credentials"]["Expiration"] - before > timedelta(hours=35, minutes=59)


def test_the_session_may_do_only_what_both_the_user_and_the_policy_allow(
    server: RunningServer, iam: Any, unique: str
) -> None:
    key_id, secret = federating_user(
        iam, f"{unique}-u", "codecommit:ListRepositories", "codecommit:GetRepository"
    )
    codecommit = server.client("codecommit")
    codecommit.create_repository(repositoryName=f"{unique}-repo")
    sts = server.client("sts", key_id, secret)
    credentials = sts.get_federation_token(
        Name="fed",
        Policy=allow(["codecommit:ListRepositories", "codecommit:CreateRepository"]),
    )["Credentials"]
    federated = session_client(server, credentials, "codecommit")
    # Both allow it.
    names = [r["repositoryName"] for r in federated.list_repositories()["repositories"]]
    assert f"{unique}-repo" in names
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/fed"
    # The session policy allows it, the user does not.
    status, code, message = error_of(federated.create_repository, repositoryName=f"{unique}-x")
    assert (status, code) == (403, "AccessDeniedException")
    assert message.startswith(
        f"User: {arn} is not authorized to perform: codecommit:CreateRepository"
    )
    # The user allows it, the session policy does not.
    status, code, message = error_of(federated.get_repository, repositoryName=f"{unique}-repo")
    assert code == "AccessDeniedException"
    assert "because no session policy allows the codecommit:GetRepository action" in message

    # A managed policy passed as PolicyArns limits the session the same way.
    policy_arn = iam.create_policy(
        PolicyName=f"{unique}-get", PolicyDocument=allow("codecommit:GetRepository")
    )["Policy"]["Arn"]
    credentials = sts.get_federation_token(Name="fed2", PolicyArns=[{"arn": policy_arn}])[
        "Credentials"
    ]
    federated = session_client(server, credentials, "codecommit")
    assert federated.get_repository(repositoryName=f"{unique}-repo")["repositoryMetadata"]
    assert error_of(federated.list_repositories)[1] == "AccessDeniedException"


def test_without_a_session_policy_the_session_may_do_nothing(
    server: RunningServer, iam: Any, unique: str
) -> None:
    key_id, secret = federating_user(iam, f"{unique}-u", "codecommit:*")
    response = server.client("sts", key_id, secret).get_federation_token(Name="nopolicy")
    assert "PackedPolicySize" not in response
    federated = session_client(server, response["Credentials"], "codecommit")
    assert error_of(federated.list_repositories)[1] == "AccessDeniedException"
    # GetCallerIdentity needs no permission.
    sts = session_client(server, response["Credentials"], "sts")
    assert sts.get_caller_identity()["UserId"] == f"{ACCOUNT}:nopolicy"


def test_federated_credentials_cannot_call_iam_or_sts_but_get_caller_identity(
    server: RunningServer, iam: Any, unique: str
) -> None:
    key_id, secret = federating_user(iam, f"{unique}-u", "iam:*", "sts:*")
    credentials = server.client("sts", key_id, secret).get_federation_token(
        Name="fed", Policy=allow(["iam:*", "sts:*"])
    )["Credentials"]
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/fed"
    federated_iam = session_client(server, credentials, "iam")
    status, code, message = error_of(federated_iam.list_users)
    assert (status, code) == (403, "AccessDenied")
    assert message.startswith(f"User: {arn} is not authorized")
    federated_sts = session_client(server, credentials, "sts")
    assert error_of(federated_sts.get_session_token) == (
        403,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    )
    assert error_of(federated_sts.get_federation_token, Name="again") == (
        403,
        "AccessDenied",
        "Cannot call GetFederationToken with session credentials",
    )
    status, code, message = error_of(
        federated_sts.assume_role,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/any",
        RoleSessionName="s1",
    )
    assert (status, code) == (403, "AccessDenied")
    assert "GetFederationToken" in message
    assert federated_sts.get_caller_identity()["Arn"] == arn


def test_session_credentials_cannot_ask_for_a_federation_token(
    server: RunningServer, iam: Any, unique: str
) -> None:
    key_id, secret = federating_user(iam, f"{unique}-u")
    credentials = server.client("sts", key_id, secret).get_session_token()["Credentials"]
    sts = session_client(server, credentials, "sts")
    assert error_of(sts.get_federation_token, Name="fed") == (
        403,
        "AccessDenied",
        "Cannot call GetFederationToken with session credentials",
    )


def test_errors_of_get_federation_token(server: RunningServer, iam: Any, unique: str) -> None:
    key_id, secret = user_with_key(iam, f"{unique}-none")
    plain = server.client("sts", key_id, secret)
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{unique}-none"
    assert error_of(plain.get_federation_token, Name="fed") == (
        403,
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: sts:GetFederationToken on resource: "
        f"arn:aws:sts::{ACCOUNT}:federated-user/fed because no identity-based policy allows "
        "the sts:GetFederationToken action",
    )
    key_id, secret = user_with_key(iam, f"{unique}-notag")
    iam.put_user_policy(
        UserName=f"{unique}-notag",
        PolicyName="federate",
        PolicyDocument=allow("sts:GetFederationToken"),
    )
    notag = server.client("sts", key_id, secret)
    status, code, message = error_of(
        notag.get_federation_token, Name="fed", Tags=[{"Key": "team", "Value": "red"}]
    )
    assert (status, code) == (403, "AccessDenied")
    assert "sts:TagSession" in message

    key_id, secret = federating_user(iam, f"{unique}-u")
    # What boto3 would refuse itself must be refused by the server too.
    sts = boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
    for bad in ("a", "x" * 33, "has space", "slash/no"):
        status, code, message = error_of(sts.get_federation_token, Name=bad)
        assert (status, code) == (400, "ValidationError"), bad
        assert "'name'" in message, message
    for duration in (899, 129_601):
        status, code, _ = error_of(sts.get_federation_token, Name="fed", DurationSeconds=duration)
        assert (status, code) == (400, "ValidationError")
    assert error_of(sts.get_federation_token, Name="fed", Policy="{not json")[1] == (
        "MalformedPolicyDocument"
    )
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": f"codecommit:Get{i:04}", "Resource": "*"}
                for i in range(60)
            ],
        },
        separators=(",", ":"),
    )
    assert len(big) > 2048
    assert error_of(sts.get_federation_token, Name="fed", Policy=big)[:2] == (
        400,
        "ValidationError",
    )
    many_tags = [{"Key": f"k{i:02}", "Value": "v" * 200} for i in range(12)]
    assert error_of(sts.get_federation_token, Name="fed", Tags=many_tags)[:2] == (
        400,
        "PackedPolicyTooLarge",
    )


def test_condition_keys_of_a_federated_user(server: RunningServer, iam: Any, unique: str) -> None:
    key_id, secret = federating_user(iam, f"{unique}-u", "codecommit:ListRepositories")
    iam.tag_user(UserName=f"{unique}-u", Tags=[{"Key": "dept", "Value": "ops"}])
    sts = server.client("sts", key_id, secret)
    policy = allow(
        "codecommit:ListRepositories",
        {
            "StringEquals": {
                "aws:PrincipalType": "FederatedUser",
                "aws:userid": f"{ACCOUNT}:${{aws:PrincipalTag/team}}",
                "aws:PrincipalArn": f"arn:aws:sts::{ACCOUNT}:federated-user/red",
                "aws:PrincipalTag/team": "red",
                "aws:PrincipalTag/dept": "ops",
            },
            "Null": {"aws:username": "true"},
        },
    )
    red = sts.get_federation_token(
        Name="red", Policy=policy, Tags=[{"Key": "team", "Value": "red"}]
    )["Credentials"]
    assert "repositories" in session_client(server, red, "codecommit").list_repositories()
    # Another session tag, or another name, and the conditions no longer hold.
    blue = sts.get_federation_token(
        Name="red", Policy=policy, Tags=[{"Key": "team", "Value": "blue"}]
    )["Credentials"]
    assert error_of(session_client(server, blue, "codecommit").list_repositories)[1] == (
        "AccessDeniedException"
    )
    # A session tag overrides the user's tag of the same key.
    overridden = sts.get_federation_token(
        Name="red",
        Policy=policy,
        Tags=[{"Key": "team", "Value": "red"}, {"Key": "DEPT", "Value": "dev"}],
    )["Credentials"]
    assert error_of(session_client(server, overridden, "codecommit").list_repositories)[1] == (
        "AccessDeniedException"
    )


def test_the_users_policies_are_read_as_they_are_now(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-u"
    key_id, secret = federating_user(iam, name)
    iam.put_user_policy(
        UserName=name, PolicyName="list", PolicyDocument=allow("codecommit:ListRepositories")
    )
    credentials = server.client("sts", key_id, secret).get_federation_token(
        Name="fed", Policy=allow("codecommit:*")
    )["Credentials"]
    federated = session_client(server, credentials, "codecommit")
    assert "repositories" in federated.list_repositories()
    iam.delete_user_policy(UserName=name, PolicyName="list")
    assert error_of(federated.list_repositories)[1] == "AccessDeniedException"
    # Deleting the user ends its federated users' sessions.
    iam.delete_user_policy(UserName=name, PolicyName="federate")
    iam.delete_access_key(UserName=name, AccessKeyId=key_id)
    iam.delete_user(UserName=name)
    assert error_of(federated.list_repositories)[:2] == (403, "UnrecognizedClientException")

"""Service-specific credentials (CodeCommit's HTTPS git credentials) through boto3 and
the AWS CLI against a real server: shapes, quotas, errors, self-service, DeleteUser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.server.iam_helpers import assert_recent_utc, error_of, new_user_client
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

CODECOMMIT = "codecommit.amazonaws.com"
KEYSPACES = "cassandra.amazonaws.com"
CREDENTIAL_ID = re.compile(r"ACCA[A-Z2-7]{17}")
PASSWORD = re.compile(r"[A-Za-z0-9+/]{43}=")
SELF_MANAGE = "arn:aws:iam::aws:policy/IAMSelfManageServiceSpecificCredentials"


def _account(server: RunningServer) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def test_create_list_update_reset_delete(server: RunningServer, iam: Any, unique: str) -> None:
    user = f"{unique}-git"
    iam.create_user(UserName=user)
    created = iam.create_service_specific_credential(UserName=user, ServiceName=CODECOMMIT)[
        "ServiceSpecificCredential"
    ]
    cred_id = created["ServiceSpecificCredentialId"]
    assert CREDENTIAL_ID.fullmatch(cred_id)
    assert created["UserName"] == user
    assert created["ServiceName"] == CODECOMMIT
    assert created["ServiceUserName"] == f"{user}-at-{_account(server)}"
    assert created["Status"] == "Active"
    assert PASSWORD.fullmatch(created["ServicePassword"])
    assert_recent_utc(created["CreateDate"])

    listed = iam.list_service_specific_credentials(UserName=user)
    assert listed["ServiceSpecificCredentials"] == [
        {k: v for k, v in created.items() if k != "ServicePassword"}
    ]
    iam.update_service_specific_credential(
        UserName=user, ServiceSpecificCredentialId=cred_id, Status="Inactive"
    )
    (only,) = iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]
    assert only["Status"] == "Inactive"

    reset = iam.reset_service_specific_credential(
        UserName=user, ServiceSpecificCredentialId=cred_id
    )["ServiceSpecificCredential"]
    assert reset["ServiceSpecificCredentialId"] == cred_id
    assert PASSWORD.fullmatch(reset["ServicePassword"])
    assert reset["ServicePassword"] != created["ServicePassword"]

    iam.delete_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred_id)
    assert iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"] == []


def test_two_per_user_per_service_and_the_service_filter(iam: Any, unique: str) -> None:
    user = f"{unique}-quota"
    iam.create_user(UserName=user)
    for _ in range(2):
        iam.create_service_specific_credential(UserName=user, ServiceName=CODECOMMIT)
    assert error_of(
        iam.create_service_specific_credential, UserName=user, ServiceName=CODECOMMIT
    ) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2",
    )
    # The quota is per service: Keyspaces still has room.
    keyspaces = iam.create_service_specific_credential(UserName=user, ServiceName=KEYSPACES)
    assert keyspaces["ServiceSpecificCredential"]["ServiceName"] == KEYSPACES
    every = iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]
    assert len(every) == 3
    only = iam.list_service_specific_credentials(UserName=user, ServiceName=KEYSPACES)
    assert [c["ServiceName"] for c in only["ServiceSpecificCredentials"]] == [KEYSPACES]
    everyone = iam.list_service_specific_credentials(AllUsers=True, ServiceName=CODECOMMIT)
    assert {c["UserName"] for c in everyone["ServiceSpecificCredentials"]} >= {user}


def test_errors(iam: Any, unique: str) -> None:
    user = f"{unique}-err"
    iam.create_user(UserName=user)
    missing = "ACCAAAAAAAAAAAAAAAAAA"
    unsupported = (
        404,
        "NoSuchEntity",
        "No such service lambda.amazonaws.com is supported for Service Specific Credentials",
    )
    assert (
        error_of(
            iam.create_service_specific_credential,
            UserName=user,
            ServiceName="lambda.amazonaws.com",
        )
        == unsupported
    )
    assert (
        error_of(
            iam.list_service_specific_credentials, UserName=user, ServiceName="lambda.amazonaws.com"
        )
        == unsupported
    )
    nobody = f"{unique}-nobody"
    # A missing user is reported before an unsupported service.
    assert error_of(
        iam.create_service_specific_credential, UserName=nobody, ServiceName="nope"
    ) == (404, "NoSuchEntity", f"The user with name {nobody} cannot be found.")
    assert error_of(
        iam.create_service_specific_credential, UserName=nobody, ServiceName=CODECOMMIT
    ) == (404, "NoSuchEntity", f"The user with name {nobody} cannot be found.")
    assert error_of(iam.list_service_specific_credentials, UserName=nobody)[:2] == (
        404,
        "NoSuchEntity",
    )
    no_such = (404, "NoSuchEntity", f"No such credential {missing} exists")
    assert (
        error_of(
            iam.update_service_specific_credential,
            UserName=user,
            ServiceSpecificCredentialId=missing,
            Status="Active",
        )
        == no_such
    )
    assert (
        error_of(
            iam.reset_service_specific_credential,
            UserName=user,
            ServiceSpecificCredentialId=missing,
        )
        == no_such
    )
    assert (
        error_of(
            iam.delete_service_specific_credential,
            UserName=user,
            ServiceSpecificCredentialId=missing,
        )
        == no_such
    )
    # Another user's credential is as missing as one that never existed.
    other = f"{unique}-other"
    iam.create_user(UserName=other)
    theirs = iam.create_service_specific_credential(UserName=other, ServiceName=CODECOMMIT)[
        "ServiceSpecificCredential"
    ]["ServiceSpecificCredentialId"]
    assert error_of(
        iam.delete_service_specific_credential, UserName=user, ServiceSpecificCredentialId=theirs
    ) == (404, "NoSuchEntity", f"No such credential {theirs} exists")
    assert error_of(
        iam.update_service_specific_credential,
        UserName=other,
        ServiceSpecificCredentialId=theirs,
        Status="Expired",
    )[:2] == (400, "ValidationError")
    # An id outside the model's pattern is the codec's ValidationError, before any look-up.
    # (AWS leaves the value out of this message; iamd's codec quotes it, as elsewhere.)
    status, code, message = error_of(
        iam.delete_service_specific_credential,
        UserName=other,
        ServiceSpecificCredentialId="totally-wrong-credential-id-with-hyphens",
    )
    assert (status, code) == (400, "ValidationError")
    assert message.endswith(
        "at 'serviceSpecificCredentialId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w]+"
    )


def test_delete_user_refused_while_a_credential_exists(iam: Any, unique: str) -> None:
    user = f"{unique}-del"
    iam.create_user(UserName=user)
    cred = iam.create_service_specific_credential(UserName=user, ServiceName=CODECOMMIT)
    assert error_of(iam.delete_user, UserName=user) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove referenced objects first.",
    )
    iam.delete_service_specific_credential(
        UserName=user,
        ServiceSpecificCredentialId=cred["ServiceSpecificCredential"][
            "ServiceSpecificCredentialId"
        ],
    )
    iam.delete_user(UserName=user)


def test_self_service_with_aws_managed_policy(server: RunningServer, iam: Any, unique: str) -> None:
    me = f"{unique}-me"
    client, _key = new_user_client(server, iam, me, SELF_MANAGE)
    mine = client.create_service_specific_credential(UserName=me, ServiceName=CODECOMMIT)[
        "ServiceSpecificCredential"
    ]
    cred_id = mine["ServiceSpecificCredentialId"]
    # UserName omitted: the caller's own.
    listed = client.list_service_specific_credentials()["ServiceSpecificCredentials"]
    assert [c["ServiceSpecificCredentialId"] for c in listed] == [cred_id]
    client.update_service_specific_credential(
        ServiceSpecificCredentialId=cred_id, Status="Inactive"
    )
    assert client.reset_service_specific_credential(ServiceSpecificCredentialId=cred_id)[
        "ServiceSpecificCredential"
    ]["ServicePassword"]
    client.delete_service_specific_credential(ServiceSpecificCredentialId=cred_id)
    # Someone else's: AccessDenied, the policy names only ${aws:username}.
    other = f"{unique}-notme"
    iam.create_user(UserName=other)
    status, code, _message = error_of(
        client.create_service_specific_credential, UserName=other, ServiceName=CODECOMMIT
    )
    assert (status, code) == (403, "AccessDenied")


def test_the_cli_creates_and_lists(
    server: RunningServer, iam: Any, tmp_path: Path, unique: str
) -> None:
    user = f"{unique}-cli"
    iam.create_user(UserName=user)
    cli = AwsCli(server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    out = cli.run(
        "iam",
        "create-service-specific-credential",
        "--user-name",
        user,
        "--service-name",
        CODECOMMIT,
    ).json()["ServiceSpecificCredential"]
    assert PASSWORD.fullmatch(out["ServicePassword"])
    listed = cli.run("iam", "list-service-specific-credentials", "--user-name", user).json()
    assert [c["ServiceSpecificCredentialId"] for c in listed["ServiceSpecificCredentials"]] == [
        out["ServiceSpecificCredentialId"]
    ]
    failed = cli.run(
        "iam",
        "create-service-specific-credential",
        "--user-name",
        user,
        "--service-name",
        "nope.amazonaws.com",
        check=False,
    )
    assert failed.returncode != 0
    assert "No such service nope.amazonaws.com is supported" in failed.stderr

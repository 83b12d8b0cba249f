"""STS AssumeRoot through boto3 and a real server: only the management account, with
RootSessions on, for a member account; the session is that account's root user held to
its root-task policy by the policy engine, and it ends when RootSessions is turned off."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.server.test_organizations import create_account, error_of
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

TASK = "arn:aws:iam::aws:policy/root-task/"
AUDIT = {"arn": TASK + "IAMAuditRootUserCredentials"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("iamd-assume-root"), extra_args=["--audit-trail"]
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def member(server: RunningServer) -> str:
    """A member account of an organization with IAM's trusted access (RootSessions off)."""
    orgs = server.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    account = create_account(orgs, "Member", "member@example.com")
    orgs.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    return account


def _client(server: RunningServer, service: str, credentials: dict[str, Any]) -> Any:
    return server.client(
        service,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )


def _access_role(server: RunningServer, account: str, service: str) -> Any:
    session = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="ops",
    )["Credentials"]
    return _client(server, service, session)


def _events(server: RunningServer, client: Any, name: str) -> list[dict[str, Any]]:
    only = [{"AttributeKey": "EventName", "AttributeValue": name}]
    deadline = time.monotonic() + 10
    while not (events := client.lookup_events(LookupAttributes=only)["Events"]):
        assert time.monotonic() < deadline, f"no {name} event"
        time.sleep(0.2)
    return [json.loads(event["CloudTrailEvent"]) for event in events]


def test_refusals_before_and_after_root_sessions_are_on(server: RunningServer, member: str) -> None:
    sts = server.client("sts")
    off = error_of(sts.assume_root, TargetPrincipal=member, TaskPolicyArn=AUDIT)
    assert (off["Code"], off["Status"]) == ("AccessDenied", 403)
    assert off["Message"] == (
        "Centralized root access (RootSessions) is not enabled for the organization"
    )

    server.client("iam").enable_organizations_root_sessions()

    for arn in (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        TASK + "NoSuchTask",
        "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials/extra",
    ):
        bad = error_of(sts.assume_root, TargetPrincipal=member, TaskPolicyArn={"arn": arn})
        assert (bad["Code"], bad["Status"]) == ("ValidationError", 400), arn
        assert bad["Message"].startswith(
            "TaskPolicyArn must be one of the AWS managed root-task policies: "
            "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials, "
        )
    for target in ("12345678901x", f"arn:aws:iam::{member}:user/alice", f"{member}0"):
        bad = error_of(sts.assume_root, TargetPrincipal=target, TaskPolicyArn=AUDIT)
        assert (bad["Code"], bad["Message"]) == (
            "ValidationError",
            "TargetPrincipal must be a 12-digit account ID or arn:aws:iam::ACCOUNT:root",
        ), target

    too_long = error_of(
        sts.assume_root, TargetPrincipal=member, TaskPolicyArn=AUDIT, DurationSeconds=901
    )
    assert too_long["Code"] == "ValidationError"
    assert "less than or equal to 900" in too_long["Message"]

    # The management account's own root, and an account outside the organization.
    management = sts.get_caller_identity()["Account"]
    for target in (management, "999999999999"):
        refused = error_of(sts.assume_root, TargetPrincipal=target, TaskPolicyArn=AUDIT)
        assert (refused["Code"], refused["Message"]) == (
            "AccessDenied",
            "The TargetPrincipal is not an active member account of your organization",
        ), target

    # A member account may not open root sessions, even with administrator rights.
    as_member = _access_role(server, member, "sts")
    refused = error_of(as_member.assume_root, TargetPrincipal=member, TaskPolicyArn=AUDIT)
    assert (refused["Code"], refused["Message"]) == (
        "AccessDenied",
        "AssumeRoot must be called with credentials of the organization's management account",
    )


def test_the_session_is_the_member_root_held_to_its_task_policy(
    server: RunningServer, member: str
) -> None:
    server.client("iam").enable_organizations_root_sessions()
    member_iam = _access_role(server, member, "iam")
    member_iam.create_user(UserName="alice")
    member_iam.create_access_key(UserName="alice")

    before = datetime.now(UTC)
    answer = server.client("sts").assume_root(
        TargetPrincipal=f"arn:aws:iam::{member}:root", TaskPolicyArn=AUDIT
    )
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    lifetime = (credentials["Expiration"] - before).total_seconds()
    assert 895 <= lifetime <= 905  # 900 seconds by default

    identity = _client(server, "sts", credentials).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{member}:root"
    assert (identity["UserId"], identity["Account"]) == (member, member)

    root_iam = _client(server, "iam", credentials)
    # The task: the root user's own credentials, of which iamd's root has none.
    assert root_iam.list_access_keys()["AccessKeyMetadata"] == []
    assert root_iam.list_mfa_devices()["MFADevices"] == []
    assert root_iam.list_signing_certificates()["Certificates"] == []
    root_user = root_iam.get_user()["User"]
    assert (root_user["UserId"], root_user["Arn"]) == (member, f"arn:aws:iam::{member}:root")
    assert "UserName" not in root_user
    assert root_user["CreateDate"].tzinfo is not None
    no_password = error_of(root_iam.get_login_profile)
    assert (no_password["Code"], no_password["Message"]) == (
        "NoSuchEntity",
        "Login Profile for User root cannot be found.",
    )
    # Anything else, and the same actions on any other user, the task policy denies.
    for call, params, resource in (
        (root_iam.create_user, {"UserName": "mallory"}, "user/mallory"),
        (root_iam.list_access_keys, {"UserName": "alice"}, "user/alice"),
        (root_iam.list_users, {}, None),
    ):
        refused = error_of(call, **params)
        assert (refused["Code"], refused["Status"]) == ("AccessDenied", 403)
        assert refused["Message"].startswith(f"User: arn:aws:iam::{member}:root is not authorized")
        assert "with an explicit deny in an identity-based policy" in refused["Message"]
        if resource is not None:
            assert f"arn:aws:iam::{member}:{resource}" in refused["Message"]
    assert [u["UserName"] for u in member_iam.list_users()["Users"]] == ["alice"]

    # A deletion task session finds nothing to delete on iamd's root user.
    deleting = _client(
        server,
        "iam",
        server.client("sts").assume_root(
            TargetPrincipal=member, TaskPolicyArn={"arn": TASK + "IAMDeleteRootUserCredentials"}
        )["Credentials"],
    )
    for call, params, message in (
        (
            deleting.delete_access_key,
            {"AccessKeyId": "AKIAEXAMPLEEXAMPLE77"},
            "The Access Key with id AKIAEXAMPLEEXAMPLE77 cannot be found.",
        ),
        (
            deleting.delete_signing_certificate,
            {"CertificateId": "A" * 24},
            f"The Certificate with id {'A' * 24} cannot be found.",
        ),
        (deleting.delete_login_profile, {}, "Login Profile for User root cannot be found."),
    ):
        missing = error_of(call, **params)
        assert (missing["Code"], missing["Message"]) == ("NoSuchEntity", message)
    alice_key = member_iam.list_access_keys(UserName="alice")["AccessKeyMetadata"][0]
    refused = error_of(
        deleting.delete_access_key, UserName="alice", AccessKeyId=alice_key["AccessKeyId"]
    )
    assert refused["Code"] == "AccessDenied"
    assert member_iam.list_access_keys(UserName="alice")["AccessKeyMetadata"] == [alice_key]

    # A password task session may create no access key either.
    password = server.client("sts").assume_root(
        TargetPrincipal=member, TaskPolicyArn={"arn": TASK + "IAMCreateRootUserPassword"}
    )["Credentials"]
    denied = error_of(_client(server, "iam", password).list_access_keys)
    assert denied["Code"] == "AccessDenied"

    # The trail: AssumeRoot in the management account, as its caller; the session's
    # requests in the member account, as its root user.
    calls = _events(server, server.client("cloudtrail"), "AssumeRoot")
    assert calls[0]["eventSource"] == "sts.amazonaws.com"
    assert calls[0]["userIdentity"]["type"] == "IAMUser"
    assert calls[0]["userIdentity"]["accountId"] != member
    assert credentials["SecretAccessKey"] not in json.dumps(calls)
    assert credentials["SessionToken"] not in json.dumps(calls)
    member_trail = _access_role(server, member, "cloudtrail")
    listed = [
        e
        for e in _events(server, member_trail, "ListAccessKeys")
        if e["userIdentity"].get("accessKeyId") == credentials["AccessKeyId"]
    ]
    assert listed, "the root session's ListAccessKeys was not recorded"
    assert listed[0]["userIdentity"]["type"] == "Root"
    assert listed[0]["userIdentity"]["arn"] == f"arn:aws:iam::{member}:root"


def test_identity_policies_govern_assume_root_and_disabling_ends_sessions(
    server: RunningServer, member: str
) -> None:
    iam = server.client("iam")
    iam.enable_organizations_root_sessions()
    iam.create_user(UserName="auditor")
    iam.put_user_policy(
        UserName="auditor",
        PolicyName="audit-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRoot",
                        "Resource": f"arn:aws:iam::{member}:root",
                        "Condition": {"StringEquals": {"sts:TaskPolicyArn": AUDIT["arn"]}},
                    }
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    auditor = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    deadline = time.monotonic() + 10
    while True:  # a new key may take a moment to be seen by every worker
        try:
            session = auditor.assume_root(TargetPrincipal=member, TaskPolicyArn=AUDIT)
            break
        except Exception:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    refused = error_of(
        auditor.assume_root,
        TargetPrincipal=member,
        TaskPolicyArn={"arn": TASK + "S3UnlockBucketPolicy"},
    )
    assert refused["Code"] == "AccessDenied"
    assert refused["Message"] == (
        f"User: arn:aws:iam::{auditor.get_caller_identity()['Account']}:user/auditor is not "
        f"authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::{member}:root "
        "because no identity-based policy allows the sts:AssumeRoot action"
    )

    root_iam = _client(server, "iam", session["Credentials"])
    assert root_iam.list_access_keys()["AccessKeyMetadata"] == []
    iam.disable_organizations_root_sessions()
    ended = error_of(root_iam.list_access_keys)
    assert ended["Code"] == "InvalidClientTokenId"


def test_the_aws_cli_opens_and_uses_a_root_session(
    server: RunningServer, member: str, tmp_path: Path
) -> None:
    server.client("iam").enable_organizations_root_sessions()
    cli = AwsCli(server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    issued = cli.run(
        "sts",
        "assume-root",
        "--target-principal",
        member,
        "--task-policy-arn",
        f"arn={AUDIT['arn']}",
        "--duration-seconds",
        "300",
    ).json()["Credentials"]
    root = AwsCli(
        server,
        issued["AccessKeyId"],
        issued["SecretAccessKey"],
        tmp_path,
        session_token=issued["SessionToken"],
    )
    assert root.run("sts", "get-caller-identity").json()["Arn"] == f"arn:aws:iam::{member}:root"
    assert root.run("iam", "list-access-keys").json()["AccessKeyMetadata"] == []
    denied = root.run("iam", "create-user", "--user-name", "eve", check=False)
    assert denied.returncode != 0
    assert "AccessDenied" in denied.stderr

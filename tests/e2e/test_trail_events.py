"""The audit trail through real clients: one CloudTrail-shaped event per request, in
the SQLite file, with no secret in any encoding, and every acknowledged write's event
surviving kill -9."""

from __future__ import annotations

import base64
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server
from tests.support.trail_store import secret_forms, stored_event_count, stored_records

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of its own with the audit trail on (`--audit-trail`; off by default)."""
    running = start_server(tmp_path / "data", extra_args=["--audit-trail"])
    yield running
    running.stop()


def _events(data_dir: Path) -> list[dict[str, Any]]:
    return stored_records(data_dir / "iamd.sqlite3")


def _wait_for(data_dir: Path, predicate: Any, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        events = _events(data_dir)
        if predicate(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_events_of_writes_reads_denials_and_no_secret(fresh_server: RunningServer) -> None:
    iam = fresh_server.client("iam")
    iam.create_user(UserName="jdoe")
    created = iam.create_access_key(UserName="jdoe")["AccessKey"]
    iam.create_login_profile(
        UserName="jdoe", Password="Correct-Horse-Battery-9!", PasswordResetRequired=False
    )
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="jdoe-mfa")["VirtualMFADevice"]
    iam.get_user(UserName="jdoe")
    jdoe = fresh_server.client("iam", created["AccessKeyId"], created["SecretAccessKey"])
    with pytest.raises(botocore.exceptions.ClientError):
        jdoe.list_users()
    sts = fresh_server.client("sts", created["AccessKeyId"], created["SecretAccessKey"])
    token = sts.get_session_token()["Credentials"]
    bad = fresh_server.client("iam", created["AccessKeyId"], "not-the-secret-" + "x" * 25)
    with pytest.raises(botocore.exceptions.ClientError):
        bad.get_user()

    events = _wait_for(
        fresh_server.data_dir,
        lambda ev: (
            {"GetSessionToken", "ListUsers", "GetUser"} <= {e["eventName"] for e in ev}
            and sum(e["eventName"] == "GetUser" for e in ev) >= 2
        ),
    )
    by_name: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_name.setdefault(event["eventName"], []).append(event)

    key_event = by_name["CreateAccessKey"][0]
    assert key_event["eventVersion"] == "1.11"
    assert key_event["eventSource"] == "iam.amazonaws.com"
    assert key_event["eventType"] == "AwsApiCall"
    assert key_event["readOnly"] is False
    assert key_event["requestParameters"] == {"userName": "jdoe"}
    assert key_event["responseElements"]["accessKey"]["accessKeyId"] == created["AccessKeyId"]
    assert "secretAccessKey" not in key_event["responseElements"]["accessKey"]
    assert key_event["recipientAccountId"] == key_event["userIdentity"]["accountId"]
    assert key_event["userIdentity"]["type"] in ("Root", "IAMUser")

    profile = by_name["CreateLoginProfile"][0]
    assert profile["requestParameters"] == {"userName": "jdoe", "passwordResetRequired": False}

    denied = by_name["ListUsers"][0]
    assert denied["errorCode"] == "AccessDenied"
    assert "jdoe" in denied["errorMessage"]
    assert denied["userIdentity"]["type"] == "IAMUser"
    assert denied["userIdentity"]["userName"] == "jdoe"
    assert denied["userIdentity"]["accessKeyId"] == created["AccessKeyId"]
    assert denied["responseElements"] is None

    read = next(e for e in by_name["GetUser"] if "errorCode" not in e)
    assert read["readOnly"] is True
    assert read["responseElements"] is None
    assert read["requestParameters"] == {"userName": "jdoe"}

    failed_auth = next(e for e in by_name["GetUser"] if "errorCode" in e)
    assert failed_auth["errorCode"] == "SignatureDoesNotMatch"
    assert failed_auth["userIdentity"]["accessKeyId"] == created["AccessKeyId"]

    session = by_name["GetSessionToken"][0]
    assert session["eventSource"] == "sts.amazonaws.com"
    assert session["responseElements"]["credentials"]["accessKeyId"] == token["AccessKeyId"]
    assert "sessionToken" not in session["responseElements"]["credentials"]

    secrets = [
        created["SecretAccessKey"],
        ADMIN_SECRET,
        "Correct-Horse-Battery-9!",
        token["SecretAccessKey"],
        token["SessionToken"],
        mfa["Base32StringSeed"].decode(),
        base64.b64encode(mfa["QRCodePNG"]).decode()[:64],
    ]
    stored = (fresh_server.data_dir / "iamd.sqlite3").read_bytes()
    fresh_server.stop()
    stored += b"".join(p.read_bytes() for p in fresh_server.data_dir.glob("*-wal"))
    # The records are compressed in the file: search them as text too.
    records = json.dumps(stored_records(fresh_server.data_dir / "iamd.sqlite3"))
    assert '"eventName": "CreateAccessKey"' in records  # the search does see records
    text = stored.decode("latin-1") + records + fresh_server.log_text()
    for secret in secrets:
        for form in secret_forms(secret):
            assert form not in text, "a secret reached the trail or the log"


def test_every_acknowledged_create_user_has_its_event_after_kill_9(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", extra_args=["--audit-trail"])
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def create(worker: int) -> None:
        iam = running.client("iam")
        n = 0
        while not stop.is_set():
            name = f"load-{worker}-{n}"
            n += 1
            try:
                iam.create_user(UserName=name)
            except Exception:
                return  # the server is gone: this one was not acknowledged
            with lock:
                acknowledged.append(name)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    running.process.send_signal(signal.SIGKILL)
    running.process.wait()
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) > 20
    records = stored_records(tmp_path / "data" / "iamd.sqlite3")
    logged = {r["requestParameters"]["userName"] for r in records if r["eventName"] == "CreateUser"}
    missing = [name for name in acknowledged if name not in logged]
    assert not missing, f"{len(missing)} acknowledged CreateUser calls have no event"


def test_console_logins_success_failure_and_masked_unknown_user(
    fresh_server: RunningServer,
) -> None:
    from tests.support.sign_in import sign_in

    iam = fresh_server.client("iam")
    account = fresh_server.client("sts").get_caller_identity()["Account"]
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Alice-Password-123!")
    assert sign_in(fresh_server, account, "alice", "Alice-Password-123!")[0] == 200
    assert sign_in(fresh_server, account, "alice", "Wrong-Password-123!")[0] == 401
    # A password typed into the user-name box: never stored.
    assert sign_in(fresh_server, account, "Typed-Password-In-Name", "whatever-1")[0] == 401
    events = _wait_for(
        fresh_server.data_dir,
        lambda ev: sum(e["eventName"] == "ConsoleLogin" for e in ev) >= 3,
    )
    logins = [e for e in events if e["eventName"] == "ConsoleLogin"]
    assert len(logins) == 3
    ok, wrong, unknown = logins
    for event in logins:
        assert event["eventType"] == "AwsConsoleSignIn"
        assert event["eventSource"] == "signin.amazonaws.com"
        assert event["recipientAccountId"] == account
        assert event["requestParameters"] is None
    assert ok["responseElements"] == {"ConsoleLogin": "Success"}
    assert ok["userIdentity"]["userName"] == "alice"
    assert wrong["responseElements"] == {"ConsoleLogin": "Failure"}
    assert wrong["errorMessage"] == "Failed authentication"
    assert wrong["userIdentity"]["userName"] == "alice"
    assert unknown["userIdentity"]["userName"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert unknown["errorMessage"] == "No username found in supplied account"
    stored = (fresh_server.data_dir / "iamd.sqlite3").read_bytes()
    for secret in ("Typed-Password-In-Name", "Alice-Password-123!", "Wrong-Password-123!"):
        for form in secret_forms(secret):
            assert form.encode() not in stored


def test_git_pull_and_a_denied_git_push_over_ssh_are_events(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    from tests.e2e.test_git_over_ssh import _allow, _create_repository, _developer, _policy

    account = fresh_server.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:codecommit:us-east-1:{account}:trail-repo"
    dev = _developer(
        fresh_server,
        tmp_path,
        "gitreader",
        _policy(_allow(["codecommit:GitPull"], arn)),
        key_kind="ed25519",
    )
    url = _create_repository(fresh_server, "trail-repo")["cloneUrlSsh"]
    assert dev.home.git("clone", url, "work").returncode == 0
    work = dev.home.home / "work"
    dev.home.commit(work, "file.txt", "x\n")
    assert dev.home.git("push", "origin", "HEAD:refs/heads/main", cwd=work).returncode != 0
    events = _wait_for(
        fresh_server.data_dir,
        lambda ev: {"GitPull", "GitPush"} <= {e["eventName"] for e in ev},
    )
    pull = next(e for e in events if e["eventName"] == "GitPull")
    push = next(e for e in events if e["eventName"] == "GitPush")
    for event in (pull, push):
        assert event["eventSource"] == "codecommit.amazonaws.com"
        assert event["userIdentity"]["userName"] == "gitreader"
        assert event["additionalEventData"]["protocol"] == "SSH"
        assert event["resources"][0]["ARN"] == arn
    assert pull["readOnly"] is True
    assert "errorCode" not in pull
    assert push["errorCode"] == "AccessDenied"
    assert "codecommit:GitPush" in push["errorMessage"]


def test_a_lookup_reads_its_callers_completed_records_at_once(
    fresh_server: RunningServer,
) -> None:
    """A write's event is committed with the write before its response is known and
    completed by the next batch (a second later); a look-up right after the write sees
    the completed record, and a read's event that is still queued."""
    iam = fresh_server.client("iam")
    iam.create_user(UserName="atonce")
    iam.get_user(UserName="atonce")
    trail = fresh_server.client("cloudtrail")
    found = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "atonce"}]
    )["Events"]
    assert [e["EventName"] for e in found] == ["GetUser", "CreateUser"]
    created = json.loads(found[1]["CloudTrailEvent"])
    assert created["responseElements"]["user"]["userName"] == "atonce"


def test_lookup_events_with_boto3_attributes_paging_and_bad_input(
    fresh_server: RunningServer,
) -> None:
    iam = fresh_server.client("iam")
    iam.create_user(UserName="lookme")
    key = iam.create_access_key(UserName="lookme")["AccessKey"]
    for _ in range(3):
        iam.get_user(UserName="lookme")
    user = fresh_server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(botocore.exceptions.ClientError):
        user.list_roles()
    trail = fresh_server.client("cloudtrail")
    _wait_for(fresh_server.data_dir, lambda ev: any(e["eventName"] == "ListRoles" for e in ev))

    by_user = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "lookme"}]
    )["Events"]
    assert [e["EventName"] for e in by_user] == ["ListRoles"]
    record = json.loads(by_user[0]["CloudTrailEvent"])
    assert record["errorCode"] == "AccessDenied"
    assert by_user[0]["AccessKeyId"] == key["AccessKeyId"]
    by_key = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": key["AccessKeyId"]}]
    )["Events"]
    assert [e["EventName"] for e in by_key] == ["ListRoles"]
    created = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateAccessKey"}]
    )["Events"]
    assert len(created) == 1
    assert created[0]["ReadOnly"] == "false"
    assert key["SecretAccessKey"] not in created[0]["CloudTrailEvent"]
    event_id = created[0]["EventId"]
    assert [
        e["EventId"]
        for e in trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event_id}]
        )["Events"]
    ] == [event_id]
    by_resource = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "lookme"}]
    )["Events"]
    assert {"CreateUser", "CreateAccessKey", "GetUser"} <= {e["EventName"] for e in by_resource}
    assert {"ResourceType": "AWS::IAM::User", "ResourceName": "lookme"} in by_resource[0][
        "Resources"
    ]
    reads = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "true"}]
    )["Events"]
    assert reads
    assert all(e["ReadOnly"] == "true" for e in reads)
    sources = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}]
    )["Events"]
    assert sources
    assert all(e["EventSource"] == "iam.amazonaws.com" for e in sources)

    # Paging: two at a time, newest first, every event once. IAM's events only: each
    # look-up is an event of its own, which the next one sees.
    iam_events = [{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}]
    pages = trail.get_paginator("lookup_events").paginate(
        LookupAttributes=iam_events, PaginationConfig={"PageSize": 2}
    )
    ids = [e["EventId"] for page in pages for e in page["Events"]]
    assert len(ids) == len(set(ids)) >= 6
    everything = trail.lookup_events(LookupAttributes=iam_events, MaxResults=50)["Events"]
    assert [e["EventId"] for e in everything][: len(ids)] == ids[: len(everything)]

    first = trail.lookup_events(MaxResults=1)
    bad_inputs: list[tuple[dict[str, Any], str]] = [
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "Username", "AttributeValue": "a"},
                    {"AttributeKey": "EventName", "AttributeValue": "b"},
                ]
            },
            "InvalidLookupAttributesException",
        ),
        (
            {"StartTime": time.time(), "EndTime": time.time() - 3600},
            "InvalidTimeRangeException",
        ),
        (
            {
                "NextToken": first["NextToken"],
                "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "lookme"}],
            },
            "InvalidNextTokenException",
        ),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
        ({"MaxResults": 0}, "InvalidMaxResultsException"),
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        (
            {"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]},
            "InvalidLookupAttributesException",
        ),
    ]
    # What boto3 would refuse itself (MaxResults 0) must reach the server.
    unchecked = boto3.client(
        "cloudtrail",
        endpoint_url=fresh_server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )
    for params, code in bad_inputs:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            unchecked.lookup_events(**params)
        assert raised.value.response["Error"]["Code"] == code, params
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    # The user may not look the trail up without cloudtrail:LookupEvents.
    denied = fresh_server.client("cloudtrail", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        denied.lookup_events()
    assert raised.value.response["Error"]["Code"] in ("AccessDeniedException", "AccessDenied")


def test_a_cross_account_assume_role_is_logged_in_both_accounts(
    fresh_server: RunningServer,
) -> None:
    from tests.e2e.test_cross_account_roles import session_client
    from tests.support.organizations import new_account

    account_a = fresh_server.client("sts").get_caller_identity()["Account"]
    organizations = fresh_server.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    account_b = new_account(organizations)
    admin_b = fresh_server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_b}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup",
    )["Credentials"]
    trail_b = session_client(fresh_server, "cloudtrail", admin_b)
    trail_a = fresh_server.client("cloudtrail")
    only_assume = [{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}]
    deadline = time.monotonic() + 10
    while True:
        in_b = trail_b.lookup_events(LookupAttributes=only_assume)["Events"]
        if in_b or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(in_b) == 1
    record_b = json.loads(in_b[0]["CloudTrailEvent"])
    assert record_b["recipientAccountId"] == account_b
    assert record_b["userIdentity"]["type"] == "AWSAccount"
    assert record_b["userIdentity"]["accountId"] == account_a
    in_a = trail_a.lookup_events(LookupAttributes=only_assume)["Events"]
    assert len(in_a) == 1
    record_a = json.loads(in_a[0]["CloudTrailEvent"])
    assert record_a["recipientAccountId"] == account_a
    assert record_a["userIdentity"]["accountId"] == account_a
    assert record_a["userIdentity"]["type"] != "AWSAccount"
    assert record_a["eventID"] != record_b["eventID"]
    # B's trail holds none of A's other calls.
    names_b = {e["EventName"] for e in trail_b.lookup_events()["Events"]}
    assert "CreateOrganization" not in names_b


def test_without_audit_trail_nothing_is_recorded(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data")  # the default: --no-audit-trail
    try:
        running.client("iam").create_user(UserName="unrecorded")
        events = running.client("cloudtrail").lookup_events()["Events"]
        assert events == []
    finally:
        running.stop()
    assert stored_event_count(tmp_path / "data" / "iamd.sqlite3") == 0


def test_git_over_http_pull_and_denied_push_are_events_without_the_password(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    from tests.e2e.test_git_over_https import _developer, _git, _with_credentials

    account = fresh_server.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:codecommit:us-east-1:{account}:http-trail"
    url = fresh_server.client("codecommit").create_repository(repositoryName="http-trail")[
        "repositoryMetadata"
    ]["cloneUrlHttp"]
    dev = _developer(fresh_server, "httpreader", ["codecommit:GitPull"], "http-trail")
    home = tmp_path / "home"
    home.mkdir()
    assert _git(home, "clone", _with_credentials(url, dev), "work").returncode == 0
    work = home / "work"
    (work / "f.txt").write_text("x\n")
    _git(home, "add", "f.txt", cwd=work)
    _git(home, "commit", "-q", "-m", "x", cwd=work)
    assert _git(home, "push", "origin", "HEAD:main", cwd=work).returncode != 0
    events = _wait_for(
        fresh_server.data_dir,
        lambda ev: {"GitPull", "GitPush"} <= {e["eventName"] for e in ev},
    )
    pull = next(e for e in events if e["eventName"] == "GitPull")
    push = next(e for e in events if e["eventName"] == "GitPush")
    for event in (pull, push):
        assert event["userIdentity"]["userName"] == "httpreader"
        assert event["additionalEventData"]["protocol"] == "HTTP"
        assert event["resources"][0]["ARN"] == arn
    assert "errorCode" not in pull
    assert push["errorCode"] == "AccessDenied"
    # Neither the password (returned by CreateServiceSpecificCredential) nor its
    # encodings reach the trail or the database.
    stored = (fresh_server.data_dir / "iamd.sqlite3").read_bytes()
    for form in secret_forms(dev["ServicePassword"]):
        assert form.encode() not in stored
    created = next(e for e in events if e["eventName"] == "CreateServiceSpecificCredential")
    assert "servicePassword" not in json.dumps(created)

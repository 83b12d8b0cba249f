"""Last-used data agrees with reality after every kind of signed request, and with itself.

One key is used in turn by each kind of request a client can send (header-signed Query
POST, presigned GET, STS, CodeCommit's JSON protocol, a request the policy denies); after
each, GetAccessKeyLastUsed names that request's service and Region. Requests that do not
authenticate with the key (a bad signature, its own session's credentials) leave it alone.
At the end the credential report, ListAccessKeys' key list and GetUser's PasswordLastUsed
say the same as GetAccessKeyLastUsed and the sign-in.
"""

from __future__ import annotations

import csv
import io
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.test_passwords import sign_in
from tests.support.servers import RunningServer
from tests.support.signing import presigned_get, send, signed_post


def last_used(iam: Any, key_id: str) -> dict[str, Any]:
    used: dict[str, Any] = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
    return used


def test_every_kind_of_request_records_its_service_and_region(fresh_server: RunningServer) -> None:
    server = fresh_server
    iam = server.client()
    iam.create_user(UserName="dev")
    iam.put_user_policy(
        UserName="dev",
        PolicyName="read",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Action":["iam:Get*","iam:List*","codecommit:ListRepositories"],"Resource":"*"}]}',
    )
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    assert last_used(iam, key_id) == {"ServiceName": "N/A", "Region": "N/A"}
    previous = datetime.now(UTC) - timedelta(seconds=1)

    def expect(service: str, region: str) -> None:
        nonlocal previous
        used = last_used(iam, key_id)
        assert (used["ServiceName"], used["Region"]) == (service, region)
        assert previous <= used["LastUsedDate"] <= datetime.now(UTC) + timedelta(seconds=1)
        previous = used["LastUsedDate"]

    server.client("iam", key_id, secret, region="eu-west-1").list_users()
    expect("iam", "eu-west-1")

    url = presigned_get(server.endpoint, "Action=GetUser&Version=2010-05-08", key_id, secret)
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local server
        assert response.status == 200
    expect("iam", "us-east-1")

    server.client("sts", key_id, secret, region="ap-south-1").get_caller_identity()
    expect("sts", "ap-south-1")

    server.client("codecommit", key_id, secret, region="eu-central-1").list_repositories()
    expect("codecommit", "eu-central-1")

    with pytest.raises(ClientError, match="AccessDenied"):
        server.client("iam", key_id, secret, region="us-west-2").create_user(UserName="x")
    expect("iam", "us-west-2")  # authenticated, then denied: still a use of the key

    session = server.client("sts", key_id, secret, region="us-east-2").get_session_token()
    expect("sts", "us-east-2")
    credentials = session["Credentials"]
    time.sleep(1.1)
    server.client(
        "sts",
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
        region="sa-east-1",
    ).get_caller_identity()
    bad = signed_post(server.endpoint, "Action=ListUsers&Version=2010-05-08", key_id, secret + "x")
    assert send(bad).status == 403
    expect("sts", "us-east-2")  # neither the session nor a bad signature is a use of the key

    # The report, the key listing and GetUser agree with what was recorded.
    iam.create_login_profile(UserName="dev", Password="Correct-Horse-Battery-9")
    status, _, _ = sign_in(server, "dev", "Correct-Horse-Battery-9")
    assert status == 200
    while iam.generate_credential_report()["State"] != "COMPLETE":
        time.sleep(0.05)
    content = iam.get_credential_report()["Content"].decode()
    row = next(r for r in csv.DictReader(io.StringIO(content)) if r["user"] == "dev")
    used = last_used(iam, key_id)
    assert row["access_key_1_last_used_date"] == used["LastUsedDate"].isoformat(timespec="seconds")
    assert row["access_key_1_last_used_service"] == "sts"
    assert row["access_key_1_last_used_region"] == "us-east-2"
    listed = iam.list_access_keys(UserName="dev")["AccessKeyMetadata"][0]
    assert row["access_key_1_last_rotated"] == listed["CreateDate"].isoformat(timespec="seconds")
    password_used = iam.get_user(UserName="dev")["User"]["PasswordLastUsed"]
    assert row["password_last_used"] == password_used.isoformat(timespec="seconds")
    assert row["password_enabled"] == "true"

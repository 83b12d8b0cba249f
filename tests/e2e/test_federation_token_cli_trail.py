"""`aws sts get-federation-token` with the real AWS CLI, and the federated user as the
audit trail records it (userIdentity type FederatedUser, issued by the IAM user)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import RunningServer, start_server

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"


@pytest.fixture
def trail_server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "data", extra_args=["--audit-trail"])
    yield running
    running.stop()


def _lookup(server: RunningServer, user_name: str, event: str) -> dict[str, Any]:
    trail = server.client("cloudtrail")
    deadline = time.monotonic() + 10
    while True:
        events = trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": user_name}]
        )["Events"]
        found = [e for e in events if e["EventName"] == event]
        if found or time.monotonic() > deadline:
            assert found, [e["EventName"] for e in events]
            return dict(json.loads(found[0]["CloudTrailEvent"]))
        time.sleep(0.2)


def test_federation_token_with_the_cli_and_its_trail(
    trail_server: RunningServer, tmp_path: Path
) -> None:
    iam = trail_server.client("iam")
    user = iam.create_user(UserName="proxy")["User"]
    iam.put_user_policy(
        UserName="proxy",
        PolicyName="federate",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["sts:GetFederationToken", "codecommit:ListRepositories"],
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="proxy")["AccessKey"]
    proxy = AwsCli(trail_server, key["AccessKeyId"], key["SecretAccessKey"], tmp_path)
    issued = proxy.run(
        "sts",
        "get-federation-token",
        "--name",
        "carol",
        "--duration-seconds",
        "900",
        "--policy",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Action":"codecommit:ListRepositories","Resource":"*"}]}',
    ).json()
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/carol"
    assert issued["FederatedUser"] == {"FederatedUserId": f"{ACCOUNT}:carol", "Arn": arn}
    credentials = issued["Credentials"]
    carol = AwsCli(
        trail_server,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        tmp_path,
        session_token=credentials["SessionToken"],
    )
    assert carol.run("sts", "get-caller-identity").json()["Arn"] == arn
    assert "repositories" in carol.run("codecommit", "list-repositories").json()
    refused = carol.run("iam", "list-users", check=False)
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr

    record = _lookup(trail_server, "carol", "ListRepositories")
    identity = record["userIdentity"]
    assert identity["type"] == "FederatedUser"
    assert identity["principalId"] == f"{ACCOUNT}:carol"
    assert identity["arn"] == arn
    assert identity["accountId"] == ACCOUNT
    assert identity["accessKeyId"] == credentials["AccessKeyId"]
    assert "userName" not in identity
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "IAMUser",
        "principalId": user["UserId"],
        "arn": user["Arn"],
        "accountId": ACCOUNT,
        "userName": "proxy",
    }
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    # The issuing call is the IAM user's; neither the secret nor the token is recorded.
    issuing = _lookup(trail_server, "proxy", "GetFederationToken")
    assert issuing["userIdentity"]["type"] == "IAMUser"
    assert issuing["requestParameters"]["name"] == "carol"
    text = json.dumps(issuing)
    assert credentials["SecretAccessKey"] not in text
    assert credentials["SessionToken"] not in text
    assert issuing["responseElements"]["federatedUser"]["arn"] == arn

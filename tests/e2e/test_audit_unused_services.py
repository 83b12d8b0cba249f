"""`iamd audit`'s unused-service-permission check against a real server whose clock is
moved: a service a user's policy grants and the user has not used for --days is
reported; one used recently is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.e2e.test_key_hygiene_over_time import days_ago, run_audit
from tests.support.clock import ServerClock
from tests.support.servers import start_server

pytestmark = pytest.mark.slow


def test_granted_services_unused_past_the_limit_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ServerClock(tmp_path / "clock")
    clock.set_offset(0)
    server = start_server(tmp_path / "data", test_clock_file=clock.path)
    try:
        iam = server.client()
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["iam:GetUser", "sts:GetCallerIdentity", "organizations:Describe*"],
                    "Resource": "*",
                }
            ],
        }
        with days_ago(clock, 100, monkeypatch):
            iam.create_user(UserName="granted")
            iam.put_user_policy(
                UserName="granted", PolicyName="p", PolicyDocument=json.dumps(document)
            )
            key = iam.create_access_key(UserName="granted")["AccessKey"]
        with days_ago(clock, 95, monkeypatch):
            server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
        server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]).get_user()

        found = sorted(
            (r["subject"], r["detail"])
            for r in run_audit(server)
            if r["check"] == "unused-service-permission"
        )
    finally:
        server.stop()

    assert found == [
        ("user granted", "organizations: granted, never used in 100 days"),
        ("user granted", "sts: last used 95 days ago (limit 90 days)"),
    ]

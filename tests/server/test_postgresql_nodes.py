"""Two iamd nodes sharing one PostgreSQL database behave as one service."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.support.servers import start_server

pytestmark = pytest.mark.postgres

# Each node polls the change counter every 0.5 s; the documented bound is 1 s.
CROSS_NODE_BOUND_SECONDS = 1.0


def test_two_nodes_share_state_and_revocations(fresh_postgres_url: str, tmp_path: Path) -> None:
    # Both nodes start on an empty database with the same master key: one of them
    # creates the account, the other finds it.
    shared_key = "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="
    env = {"IAMD_MASTER_KEY": shared_key}
    node_a = start_server(tmp_path / "a", database_url=fresh_postgres_url, extra_env=env)
    node_b = start_server(tmp_path / "b", database_url=fresh_postgres_url, extra_env=env)
    try:
        iam_a = node_a.client()
        iam_b = node_b.client()
        iam_a.create_user(UserName="Shared", Tags=[{"Key": "team", "Value": "blue"}])
        # Names are unique ignoring case on the shared database too.
        with pytest.raises(ClientError) as duplicate:
            iam_b.create_user(UserName="shared")
        assert duplicate.value.response["Error"]["Code"] == "EntityAlreadyExists"
        assert iam_b.get_user(UserName="Shared")["User"]["Tags"] == [
            {"Key": "team", "Value": "blue"}
        ]

        key = iam_a.create_access_key(UserName="Shared")["AccessKey"]
        sts_b = node_b.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        assert sts_b.get_caller_identity()["Arn"].endswith(":user/Shared")

        iam_a.update_access_key(
            UserName="Shared", AccessKeyId=key["AccessKeyId"], Status="Inactive"
        )
        deadline = time.monotonic() + CROSS_NODE_BOUND_SECONDS + 0.5
        refused_with = None
        while refused_with is None and time.monotonic() < deadline:
            try:
                sts_b.get_caller_identity()
            except ClientError as error:
                refused_with = error.response["Error"]["Code"]
            time.sleep(0.05)
        assert refused_with == "InvalidClientTokenId", "node B kept accepting a deactivated key"
    finally:
        node_a.stop()
        node_b.stop()


def test_sessions_issued_by_one_node_work_on_the_other(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    # Session tokens are sealed with the master key, not stored: any node with the same
    # key accepts them, and a deleted user's sessions end on every node within the bound.
    env = {"IAMD_MASTER_KEY": "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="}
    node_a = start_server(tmp_path / "a", database_url=fresh_postgres_url, extra_env=env)
    node_b = start_server(tmp_path / "b", database_url=fresh_postgres_url, extra_env=env)
    try:
        iam_a = node_a.client()
        iam_a.create_user(UserName="Traveller")
        key = iam_a.create_access_key(UserName="Traveller")["AccessKey"]
        sts_a = node_a.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        session = sts_a.get_session_token(DurationSeconds=900)["Credentials"]
        sts_b = node_b.client(
            "sts", session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"]
        )
        assert sts_b.get_caller_identity()["Arn"].endswith(":user/Traveller")

        iam_a.delete_access_key(UserName="Traveller", AccessKeyId=key["AccessKeyId"])
        iam_a.delete_user(UserName="Traveller")
        deadline = time.monotonic() + CROSS_NODE_BOUND_SECONDS + 0.5
        refused_with = None
        while refused_with is None and time.monotonic() < deadline:
            try:
                sts_b.get_caller_identity()
            except ClientError as error:
                refused_with = error.response["Error"]["Code"]
            time.sleep(0.05)
        assert refused_with == "InvalidClientTokenId", "node B kept a deleted user's session"
    finally:
        node_a.stop()
        node_b.stop()

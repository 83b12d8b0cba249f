"""Secrets at rest, quotas under concurrency, and nothing lost at shutdown."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.support.servers import ADMIN_SECRET, RunningServer, start_server


def _all_bytes_under(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def test_no_secret_access_key_in_the_database_or_the_logs(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    iam.create_user(UserName="jdoe")
    secrets = [
        iam.create_access_key(UserName="jdoe")["AccessKey"]["SecretAccessKey"] for _ in range(2)
    ]
    # Use the keys so their ids and secrets travel through every code path.
    for key in iam.list_access_keys(UserName="jdoe")["AccessKeyMetadata"]:
        iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert fresh_server.stop() == 0
    everything = _all_bytes_under(fresh_server.data_dir)
    assert b"jdoe" in everything  # the scan does read the database
    for secret in [*secrets, ADMIN_SECRET]:
        assert secret.encode() not in everything
    master_key = fresh_server.data_dir / "master.key"
    assert stat.S_IMODE(master_key.stat().st_mode) == 0o600


def test_generated_bootstrap_credentials_are_private(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", bootstrap_key=False)
    try:
        credentials = running.data_dir / "bootstrap-credentials"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        lines = dict(
            line.split(" = ", 1) for line in credentials.read_text().splitlines() if " = " in line
        )
        key_id, secret = lines["aws_access_key_id"], lines["aws_secret_access_key"]
        assert (
            running.client(key_id=key_id, secret=secret).get_user()["User"]["UserName"] == "admin"
        )
        log = running.log_text()
        assert str(credentials) in log
        assert secret not in log
    finally:
        running.stop()


def _race_for_keys(server: RunningServer, user: str, attempts: int) -> list[str]:
    iam = server.client()
    iam.create_user(UserName=user)

    def create(_: int) -> str:
        try:
            server.client().create_access_key(UserName=user)
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "created"

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return list(pool.map(create, range(attempts)))


def test_fifty_concurrent_create_access_key_leave_exactly_two(
    server: RunningServer, unique: str
) -> None:
    outcomes = _race_for_keys(server, unique, 50)
    assert outcomes.count("created") == 2
    assert outcomes.count("LimitExceeded") == 48
    keys = server.client().list_access_keys(UserName=unique)["AccessKeyMetadata"]
    assert len(keys) == 2


@pytest.mark.postgres
def test_fifty_concurrent_create_access_key_on_postgresql(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    running = start_server(tmp_path / "pg-node", database_url=fresh_postgres_url)
    try:
        outcomes = _race_for_keys(running, "racer", 50)
        assert outcomes.count("created") == 2
        assert outcomes.count("LimitExceeded") == 48
    finally:
        running.stop()


def test_last_used_survives_a_clean_shutdown(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir)
    iam = first.client()
    iam.create_user(UserName="worker")
    key = iam.create_access_key(UserName="worker")["AccessKey"]
    first.client(
        "sts", key["AccessKeyId"], key["SecretAccessKey"], region="eu-central-1"
    ).get_caller_identity()
    # Stop at once: the use is still only in memory unless shutdown writes it.
    assert first.stop() == 0
    second = start_server(data_dir)
    try:
        used = second.client().get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        assert used["AccessKeyLastUsed"]["ServiceName"] == "sts"
        assert used["AccessKeyLastUsed"]["Region"] == "eu-central-1"
        assert "LastUsedDate" in used["AccessKeyLastUsed"]
    finally:
        second.stop()


def test_sigterm_stops_the_server_cleanly(fresh_server: RunningServer) -> None:
    fresh_server.client().list_users()
    assert fresh_server.stop() == 0
    assert "iamd stopped" in fresh_server.log_text()
    assert "Traceback" not in fresh_server.log_text()


def test_data_survives_a_restart_and_the_master_key_is_required(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir)
    first.client().create_group(GroupName="Keepers")
    first.stop()
    second = start_server(data_dir)
    try:
        groups = [g["GroupName"] for g in second.client().list_groups()["Groups"]]
        assert "Keepers" in groups
    finally:
        second.stop()
    # A different master key cannot open the sealed secrets: iamd refuses to start and
    # says why, instead of failing every request.
    os.remove(data_dir / "master.key")
    with pytest.raises(RuntimeError, match="exited early") as failure:
        start_server(data_dir)
    assert "the master key cannot decrypt the secrets in this database" in str(failure.value)

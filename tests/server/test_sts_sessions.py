"""STS GetSessionToken sessions through boto3: ASIA keys, session tokens, their limits.

Without MFA (the MFA flows are in test_sts_mfa.py): the session acts as its user,
cannot call IAM, cannot ask for another session; the token must come with the key id
it was issued with, unaltered, before it expires.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.server.iam_helpers import ACCOUNT, error_of, validation_message
from tests.support.clock import ServerClock
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server
from tests.support.signing import presigned_get, send_raw

TEMPORARY_KEY_ID = re.compile(r"ASIA[A-Z2-7]{16}")
INVALID_TOKEN = (
    403,
    "InvalidClientTokenId",
    "The security token included in the request is invalid.",
)
EXPIRED_TOKEN = (403, "ExpiredToken", "The security token included in the request is expired")


def session_client(server: RunningServer, credentials: dict[str, Any], service: str) -> Any:
    return server.client(
        service,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )


def user_with_key(iam: Any, name: str) -> tuple[str, str]:
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture
def clocked_server(tmp_path: Path) -> Iterator[tuple[RunningServer, ServerClock]]:
    clock = ServerClock(tmp_path / "clock")
    running = start_server(tmp_path / "data", test_clock_file=clock.path)
    yield running, clock
    running.stop()


def test_session_token_gives_temporary_credentials_of_the_user(
    server: RunningServer, iam: Any, unique: str
) -> None:
    key_id, secret = user_with_key(iam, f"{unique}-u")
    before = datetime.now(UTC)
    credentials = server.client("sts", key_id, secret).get_session_token()["Credentials"]
    assert TEMPORARY_KEY_ID.fullmatch(credentials["AccessKeyId"])
    assert len(credentials["SecretAccessKey"]) == 40
    assert len(credentials["SessionToken"]) > 100
    # Twelve hours by default.
    lifetime = (credentials["Expiration"] - before).total_seconds()
    assert 43_200 - 5 <= lifetime <= 43_200 + 5

    identity = session_client(server, credentials, "sts").get_caller_identity()
    user = iam.get_user(UserName=f"{unique}-u")["User"]
    assert identity["Arn"] == user["Arn"]
    assert identity["UserId"] == user["UserId"]
    assert identity["Account"] == ACCOUNT


def test_duration_is_chosen_within_aws_bounds(server: RunningServer) -> None:
    sts = server.client("sts")
    before = datetime.now(UTC)
    credentials = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert 895 <= (credentials["Expiration"] - before).total_seconds() <= 905
    longest = sts.get_session_token(DurationSeconds=129_600)["Credentials"]
    assert 129_595 <= (longest["Expiration"] - before).total_seconds() <= 129_605

    assert error_of(sts.get_session_token, DurationSeconds=129_601) == (
        400,
        "ValidationError",
        validation_message(
            "129601", "durationSeconds", "Member must have value less than or equal to 129600"
        ),
    )


def test_each_session_has_its_own_key(server: RunningServer) -> None:
    sts = server.client("sts")
    first = sts.get_session_token(DurationSeconds=900)["Credentials"]
    second = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert first["SecretAccessKey"] != second["SecretAccessKey"]


def test_session_without_mfa_cannot_call_iam(server: RunningServer) -> None:
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    iam = session_client(server, credentials, "iam")
    # The admin may do anything with its own key; its session without MFA may not call
    # IAM at all, and AWS answers as for an unknown key.
    assert error_of(iam.list_users) == INVALID_TOKEN
    assert error_of(iam.get_user) == INVALID_TOKEN


def test_session_credentials_cannot_ask_for_another_session(server: RunningServer) -> None:
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    sts = session_client(server, credentials, "sts")
    assert error_of(sts.get_session_token) == (
        403,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    )


def test_temporary_key_without_its_token_is_refused(server: RunningServer) -> None:
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    sts = server.client("sts", credentials["AccessKeyId"], credentials["SecretAccessKey"])
    assert error_of(sts.get_caller_identity) == INVALID_TOKEN


def test_tampered_token_is_refused(server: RunningServer) -> None:
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    token = credentials["SessionToken"]
    for tampered in (
        token[:40] + ("A" if token[40] != "A" else "B") + token[41:],
        token[:-4],
        token + "AAAA",
        "not base64 at all!",
    ):
        sts = session_client(server, {**credentials, "SessionToken": tampered}, "sts")
        assert error_of(sts.get_caller_identity) == INVALID_TOKEN


def test_token_works_only_with_the_key_id_it_was_issued_with(server: RunningServer) -> None:
    sts = server.client("sts")
    first = sts.get_session_token(DurationSeconds=900)["Credentials"]
    second = sts.get_session_token(DurationSeconds=900)["Credentials"]
    # The second session's key and secret with the first session's token.
    mixed = {**second, "SessionToken": first["SessionToken"]}
    assert error_of(session_client(server, mixed, "sts").get_caller_identity) == INVALID_TOKEN
    # The first session's token and secret under the second session's key id.
    swapped = {**first, "AccessKeyId": second["AccessKeyId"]}
    assert error_of(session_client(server, swapped, "sts").get_caller_identity) == INVALID_TOKEN


def test_request_must_be_signed_with_the_session_secret(server: RunningServer) -> None:
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    forged = {**credentials, "SecretAccessKey": "x" * 40}
    status, code, _ = error_of(session_client(server, forged, "sts").get_caller_identity)
    assert (status, code) == (403, "SignatureDoesNotMatch")


def test_long_term_key_with_a_token_is_refused(server: RunningServer) -> None:
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    sts = server.client("sts", ADMIN_KEY_ID, ADMIN_SECRET, credentials["SessionToken"])
    assert error_of(sts.get_caller_identity) == INVALID_TOKEN


def test_session_token_in_a_presigned_url(server: RunningServer) -> None:
    # The identity proof EKS and Vault use: a presigned GetCallerIdentity URL, here
    # signed with session credentials (X-Amz-Security-Token in the query).
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    query = "Action=GetCallerIdentity&Version=2011-06-15"
    url = presigned_get(
        server.endpoint,
        query,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        service="sts",
        token=credentials["SessionToken"],
    )
    assert "X-Amz-Security-Token=" in url
    response = send_raw(url)
    assert response.status == 200
    assert "<Arn>arn:aws:iam::123456789012:user/admin</Arn>" in response.body
    without = presigned_get(
        server.endpoint,
        query,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        service="sts",
    )
    response = send_raw(without)
    assert (response.status, response.error_code) == (403, "InvalidClientTokenId")


def test_session_ends_when_its_user_is_deleted(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-gone"
    key_id, secret = user_with_key(iam, name)
    credentials = server.client("sts", key_id, secret).get_session_token()["Credentials"]
    sts = session_client(server, credentials, "sts")
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{name}")
    iam.delete_access_key(UserName=name, AccessKeyId=key_id)
    iam.delete_user(UserName=name)
    assert error_of(sts.get_caller_identity) == INVALID_TOKEN


def test_session_outlives_the_key_that_asked_for_it(
    server: RunningServer, iam: Any, unique: str
) -> None:
    # As in AWS: STS credentials cannot be revoked by deactivating or deleting the
    # access key used to get them; only the user's permissions govern them.
    name = f"{unique}-k"
    key_id, secret = user_with_key(iam, name)
    credentials = server.client("sts", key_id, secret).get_session_token()["Credentials"]
    iam.update_access_key(UserName=name, AccessKeyId=key_id, Status="Inactive")
    iam.delete_access_key(UserName=name, AccessKeyId=key_id)
    sts = session_client(server, credentials, "sts")
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{name}")


def test_expired_session_is_refused_with_expired_token(
    clocked_server: tuple[RunningServer, ServerClock],
) -> None:
    server, clock = clocked_server
    # Sessions last at least 15 minutes and the server tolerates 15 minutes of clock
    # skew, so the session is issued with the server's clock 8 minutes behind and used
    # with it 8 minutes ahead: 16 minutes later for the server, still in the window.
    clock.set_offset(-480)
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    sts = session_client(server, credentials, "sts")
    clock.set_offset(410)
    assert sts.get_caller_identity()["UserId"].startswith("AIDA")
    clock.set_offset(425)
    assert error_of(sts.get_caller_identity) == EXPIRED_TOKEN


def test_access_key_info_names_the_account(server: RunningServer, iam: Any, unique: str) -> None:
    key_id, _ = user_with_key(iam, f"{unique}-info")
    sts = server.client("sts")
    assert sts.get_access_key_info(AccessKeyId=key_id)["Account"] == ACCOUNT
    temporary = sts.get_session_token(DurationSeconds=900)["Credentials"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=temporary)["Account"] == ACCOUNT
    assert error_of(sts.get_access_key_info, AccessKeyId="AKIAUNKNOWNUNKNOWN22")[1] == (
        "ValidationError"
    )


def test_access_key_info_needs_permission(server: RunningServer, iam: Any, unique: str) -> None:
    key_id, secret = user_with_key(iam, f"{unique}-noperm")
    sts = server.client("sts", key_id, secret)
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{unique}-noperm"
    assert error_of(sts.get_access_key_info, AccessKeyId=key_id) == (
        403,
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: sts:GetAccessKeyInfo on resource: * "
        "because no identity-based policy allows the sts:GetAccessKeyInfo action",
    )
    # GetCallerIdentity and GetSessionToken need no permission at all.
    assert sts.get_caller_identity()["Arn"] == user_arn
    assert TEMPORARY_KEY_ID.fullmatch(sts.get_session_token()["Credentials"]["AccessKeyId"])


def test_temporary_keys_have_no_iam_last_used_record(server: RunningServer, iam: Any) -> None:
    credentials = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    session_client(server, credentials, "sts").get_caller_identity()
    time.sleep(1.2)  # past a last-used flush
    status, code, _ = error_of(iam.get_access_key_last_used, AccessKeyId=credentials["AccessKeyId"])
    assert (status, code) == (404, "NoSuchEntity")


def test_no_session_secret_in_the_database_or_the_log(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        sts = server.client("sts")
        issued = [sts.get_session_token(DurationSeconds=900)["Credentials"] for _ in range(3)]
        for credentials in issued:
            session_client(server, credentials, "sts").get_caller_identity()
            error_of(session_client(server, credentials, "iam").list_users)
    finally:
        server.stop()
    data = tmp_path / "data"
    assert (data / "iamd.sqlite3").exists()
    assert server.log_path.parent == data
    # The database (and its WAL), the master key, the server's log: every byte written.
    stored = b"".join(path.read_bytes() for path in data.rglob("*") if path.is_file())
    for credentials in issued:
        for secret in (credentials["SecretAccessKey"], credentials["SessionToken"]):
            assert secret.encode() not in stored

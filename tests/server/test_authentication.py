"""SigV4 authentication of every request: each failure answered with AWS's code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server
from tests.support.signing import FORM, presigned_get, send, send_raw, signed_post

GET_USER = "Action=GetUser&Version=2010-05-08"
WHO_AM_I = "Action=GetCallerIdentity&Version=2011-06-15"


def _new_user_with_key(iam: Any, name: str) -> tuple[str, str]:
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_a_well_signed_request_is_answered(server: RunningServer) -> None:
    response = send(signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET))
    assert response.status == 200
    assert "<UserName>admin</UserName>" in response.body


def test_any_region_in_the_scope_is_accepted(server: RunningServer) -> None:
    response = send(
        signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET, region="ap-south-2")
    )
    assert response.status == 200


def test_tampered_signature_is_refused(server: RunningServer) -> None:
    request = signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET)
    header = request.headers["Authorization"]
    last = header[-1]
    request.headers.replace_header("Authorization", header[:-1] + ("0" if last != "0" else "1"))
    response = send(request)
    assert (response.status, response.error_code) == (403, "SignatureDoesNotMatch")
    assert response.error_message is not None
    assert response.error_message.startswith("The request signature we calculated does not match")


def test_tampered_body_is_refused(server: RunningServer) -> None:
    request = signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET)
    request.data = GET_USER + "&UserName=someone-else"
    response = send(request)
    assert (response.status, response.error_code) == (403, "SignatureDoesNotMatch")


def test_wrong_secret_is_refused(server: RunningServer) -> None:
    response = send(signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, "x" * 40))
    assert (response.status, response.error_code) == (403, "SignatureDoesNotMatch")


def test_request_twenty_minutes_old_is_refused(server: RunningServer) -> None:
    when = datetime.now(UTC) - timedelta(minutes=20)
    response = send(signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET, when=when))
    assert (response.status, response.error_code) == (403, "SignatureDoesNotMatch")
    assert response.error_message is not None
    assert response.error_message.startswith("Signature expired: ")
    assert response.error_message.endswith(" - 15 min.)")


def test_request_from_the_future_is_refused(server: RunningServer) -> None:
    when = datetime.now(UTC) + timedelta(minutes=20)
    response = send(signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET, when=when))
    assert (response.status, response.error_code) == (403, "SignatureDoesNotMatch")
    assert response.error_message is not None
    assert response.error_message.startswith("Signature not yet current: ")


def test_request_ten_minutes_old_is_accepted(server: RunningServer) -> None:
    when = datetime.now(UTC) - timedelta(minutes=10)
    response = send(signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET, when=when))
    assert response.status == 200


def test_unknown_key_is_refused(server: RunningServer) -> None:
    response = send(signed_post(server.endpoint, GET_USER, "AKIAUNKNOWNKEY000000", ADMIN_SECRET))
    assert (response.status, response.error_code) == (403, "InvalidClientTokenId")
    assert response.error_message == "The security token included in the request is invalid."


def test_no_credentials_at_all(server: RunningServer) -> None:
    response = send_raw(
        server.endpoint + "/", data=GET_USER.encode(), headers={"Content-Type": FORM}
    )
    assert (response.status, response.error_code) == (403, "MissingAuthenticationToken")
    assert response.error_message == "Request is missing Authentication Token"


def test_malformed_authorization_header(server: RunningServer) -> None:
    response = send_raw(
        server.endpoint + "/",
        data=GET_USER.encode(),
        headers={"Content-Type": FORM, "Authorization": "AWS4-HMAC-SHA256 Credential=AKIA"},
    )
    assert (response.status, response.error_code) == (400, "IncompleteSignature")


def test_inactive_key_is_refused_at_once(server: RunningServer, iam: Any, unique: str) -> None:
    key_id, secret = _new_user_with_key(iam, unique)
    assert send(signed_post(server.endpoint, WHO_AM_I, key_id, secret, service="sts")).status == 200
    iam.update_access_key(UserName=unique, AccessKeyId=key_id, Status="Inactive")
    response = send(signed_post(server.endpoint, WHO_AM_I, key_id, secret, service="sts"))
    assert (response.status, response.error_code) == (403, "InvalidClientTokenId")
    iam.update_access_key(UserName=unique, AccessKeyId=key_id, Status="Active")
    assert send(signed_post(server.endpoint, WHO_AM_I, key_id, secret, service="sts")).status == 200


def test_deleted_users_key_is_refused_at_once(server: RunningServer, iam: Any, unique: str) -> None:
    key_id, secret = _new_user_with_key(iam, unique)
    assert send(signed_post(server.endpoint, WHO_AM_I, key_id, secret, service="sts")).status == 200
    iam.delete_access_key(UserName=unique, AccessKeyId=key_id)
    iam.delete_user(UserName=unique)
    response = send(signed_post(server.endpoint, WHO_AM_I, key_id, secret, service="sts"))
    assert (response.status, response.error_code) == (403, "InvalidClientTokenId")


def test_presigned_url_is_accepted(server: RunningServer) -> None:
    url = presigned_get(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET)
    response = send_raw(url)
    assert response.status == 200
    assert "<UserName>admin</UserName>" in response.body


def test_presigned_url_with_tampered_query_is_refused(server: RunningServer) -> None:
    url = presigned_get(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET)
    response = send_raw(url.replace("Action=GetUser", "Action=ListUsers"))
    assert (response.status, response.error_code) == (403, "SignatureDoesNotMatch")


def test_session_token_with_a_long_term_key_is_refused(server: RunningServer) -> None:
    request = signed_post(
        server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET, token="not-a-session-of-ours"
    )
    response = send(request)
    assert (response.status, response.error_code) == (403, "InvalidClientTokenId")


def test_unknown_action_names_the_operation(server: RunningServer) -> None:
    body = "Action=FlyToTheMoon&Version=2010-05-08"
    response = send(signed_post(server.endpoint, body, ADMIN_KEY_ID, ADMIN_SECRET))
    assert (response.status, response.error_code) == (400, "InvalidAction")
    assert response.error_message == "Could not find operation FlyToTheMoon for version 2010-05-08"


def test_responses_carry_the_request_id(server: RunningServer) -> None:
    response = send(signed_post(server.endpoint, GET_USER, ADMIN_KEY_ID, ADMIN_SECRET))
    assert "<RequestId>" in response.body


UNSIGNED_WEB_IDENTITY = (
    "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
    "&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fci&RoleSessionName=ci-run"
    "&WebIdentityToken=" + "x" * 10
)


def test_an_unsigned_request_reaches_only_an_operation_aws_serves_unsigned(
    server: RunningServer,
) -> None:
    # botocore sends AssumeRoleWithWebIdentity and AssumeRoleWithSAML with no signature
    # (`smithy.api#noAuth`): they reach their handler, which authenticates the token.
    reached = send_raw(
        server.endpoint + "/", data=UNSIGNED_WEB_IDENTITY.encode(), headers={"Content-Type": FORM}
    )
    # Its handler reads the token, which is no JWT.
    assert (reached.status, reached.error_code) == (400, "InvalidIdentityToken")
    # Every other operation still needs a signature, STS's included.
    for form in (WHO_AM_I, GET_USER, "Action=AssumeRole&Version=2011-06-15", "Action=Nope"):
        refused = send_raw(
            server.endpoint + "/", data=form.encode(), headers={"Content-Type": FORM}
        )
        assert (refused.status, refused.error_code) == (403, "MissingAuthenticationToken"), form


def test_boto3_with_no_credentials_reaches_assume_role_with_web_identity(
    server: RunningServer,
) -> None:
    sts = boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=None,
        aws_secret_access_key=None,
    )
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        sts.assume_role_with_web_identity(
            RoleArn="arn:aws:iam::000000000000:role/ci",
            RoleSessionName="ci-run",
            WebIdentityToken="x" * 10,
        )
    assert raised.value.response["Error"]["Code"] == "InvalidIdentityToken"


@pytest.mark.postgres
def test_an_unsigned_request_reaches_its_operation_on_postgresql_too(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    # On PostgreSQL the front decodes no form (nothing runs on the event loop), so the
    # pipeline decodes it to find the operation an unsigned request names.
    node = start_server(tmp_path / "pg", database_url=fresh_postgres_url)
    try:
        reached = send_raw(
            node.endpoint + "/",
            data=UNSIGNED_WEB_IDENTITY.encode(),
            headers={"Content-Type": FORM},
        )
        assert (reached.status, reached.error_code) == (400, "InvalidIdentityToken")
        refused = send_raw(
            node.endpoint + "/", data=WHO_AM_I.encode(), headers={"Content-Type": FORM}
        )
        assert (refused.status, refused.error_code) == (403, "MissingAuthenticationToken")
    finally:
        node.stop()

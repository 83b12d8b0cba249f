"""SigV4 verification, with botocore's own signer as the oracle.

Requests are signed by ``botocore.auth.SigV4Auth`` / ``SigV4QueryAuth`` at a fixed time,
turned into what an ASGI server receives (method, raw path, raw query, header list,
body), and must be accepted by ``parse_request`` + ``verify``; any change to a signed
part must be rejected. Error cases check AWS's exact codes and messages.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from unittest import mock
from urllib.parse import urlsplit

import botocore.auth
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamd.auth.sigv4 import SigV4Request, parse_request, verify
from iamd.errors import (
    AwsError,
    IncompleteSignature,
    MissingAuthenticationToken,
    SignatureDoesNotMatch,
)

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SIGNED_AT = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
AMZ_DATE = "20260101T000000Z"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEHQaCXVzLWVhc3QtMSJHMEUCIQD+token/with=chars"


class Wire(NamedTuple):
    """A request as the ASGI server hands it over."""

    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def parse(self, now: datetime = SIGNED_AT, **options: int) -> SigV4Request:
        return parse_request(
            self.method, self.path, self.query, self.headers, self.body, now, **options
        )

    def with_header(self, name: str, value: str) -> Wire:
        key = name.encode()
        headers = [(k, v) for k, v in self.headers if k != key]
        return self._replace(headers=[*headers, (key, value.encode())])

    def header(self, name: str) -> str:
        return next(v.decode() for k, v in self.headers if k == name.encode())


def _signing_time(remove_tzinfo: bool = True) -> datetime:
    return SIGNED_AT.replace(tzinfo=None)


def sign(
    method: str,
    url: str,
    *,
    data: bytes | dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    headers: list[tuple[str, str]] | None = None,
    region: str = "us-east-1",
    service: str = "iam",
    token: str | None = None,
    presign_expires: int | None = None,
    secret: str = SECRET,
) -> Wire:
    request = AWSRequest(method=method, url=url, data=data, params=params or {})
    for name, value in headers or []:
        request.headers[name] = value  # HTTPHeaders appends: repeated names stay repeated
    credentials = Credentials(AKID, secret, token)
    signer: Any
    if presign_expires is None:
        signer = SigV4Auth(credentials, service, region)
    else:
        signer = SigV4QueryAuth(credentials, service, region, expires=presign_expires)
    # botocore reads its clock while signing; pin it so every signature is reproducible.
    with mock.patch.object(botocore.auth, "get_current_datetime", _signing_time):
        signer.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    wire_headers = [(b"host", parts.netloc.encode())]
    # The unprepared request keeps repeated headers (preparing folds them into a dict);
    # preparing adds Content-Length.
    wire_headers += [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    seen = {name for name, _ in wire_headers}
    wire_headers += [
        (k.lower().encode(), v.encode())
        for k, v in prepared.headers.items()
        if k.lower().encode() not in seen
    ]
    body = prepared.body or b""
    return Wire(
        method=prepared.method,
        path=parts.path or "/",
        query=parts.query.encode(),
        headers=wire_headers,
        body=body.encode() if isinstance(body, str) else body,
    )


def accepted(wire: Wire, now: datetime = SIGNED_AT) -> SigV4Request:
    request = wire.parse(now)
    verify(request, SECRET)
    return request


def rejected(wire: Wire, now: datetime = SIGNED_AT, secret: str = SECRET) -> SignatureDoesNotMatch:
    with pytest.raises(SignatureDoesNotMatch) as caught:
        verify(wire.parse(now), secret)
    return caught.value


# ---------------------------------------------------------------------------------------
# The reference vector (iam-facts §1.6 item 10).

VECTOR_SIGNATURE = "303bc6a0c23a8de0d04c4773cba4d9dd4beebb48f3937e99804898534a5cd134"
VECTOR_AUTHORIZATION = (
    f"AWS4-HMAC-SHA256 Credential={AKID}/20260101/us-east-1/iam/aws4_request, "
    f"SignedHeaders=content-type;host;x-amz-date, Signature={VECTOR_SIGNATURE}"
)
VECTOR = Wire(
    method="POST",
    path="/",
    query=b"",
    headers=[
        (b"host", b"localhost:8080"),
        (b"content-type", FORM.encode()),
        (b"x-amz-date", AMZ_DATE.encode()),
        (b"authorization", VECTOR_AUTHORIZATION.encode()),
    ],
    body=b"Action=GetUser&Version=2010-05-08",
)


def test_reference_vector_is_accepted() -> None:
    request = accepted(VECTOR)
    assert request == SigV4Request(
        access_key_id=AKID,
        amz_date=AMZ_DATE,
        date_stamp="20260101",
        region="us-east-1",
        service="iam",
        signed_headers=("content-type", "host", "x-amz-date"),
        signature=VECTOR_SIGNATURE,
        security_token=None,
        presigned=False,
        string_to_sign=(
            "AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/iam/aws4_request\n"
            "631f82082f31b3608dfb4080a4768f3a58480bd3e5e366b3d314c29f91ef7492"
        ),
    )


def test_reference_vector_matches_botocore() -> None:
    wire = sign(
        "POST",
        "http://localhost:8080/",
        data=VECTOR.body,
        headers=[("Content-Type", FORM)],
    )
    assert wire.header("authorization") == VECTOR_AUTHORIZATION


def test_uppercase_signature_hex_is_accepted() -> None:
    wire = VECTOR.with_header(
        "authorization",
        VECTOR_AUTHORIZATION.replace(VECTOR_SIGNATURE, VECTOR_SIGNATURE.upper()),
    )
    assert accepted(wire).signature == VECTOR_SIGNATURE


# ---------------------------------------------------------------------------------------
# Requests signed by botocore are accepted; any change to a signed part is not.

IAM_FORM_BODY = (
    b"Action=CreateUser&Path=%2Fdivision_abc%2Fsubdivision_xyz%2F&UserName=Bob"
    b"&Tags.member.1.Key=team&Tags.member.1.Value=a%20b%2Bc&Version=2010-05-08"
)
AWKWARD_PARAMS = {
    "Action": "ListUsers",
    "PathPrefix": "/with space/and/slashes/",
    "Marker": "tilde~plus+percent%star*",
    "Unicode": "héllo wörld ☃ 日本",
    "Empty": "",
    "Version": "2010-05-08",
}


def signed_cases() -> dict[str, Wire]:
    return {
        "iam-post-form": sign(
            "POST",
            "http://localhost:8080/",
            data=IAM_FORM_BODY,
            headers=[("Content-Type", FORM)],
        ),
        "iam-get-awkward-query": sign(
            "GET", "http://localhost:8080/", params=AWKWARD_PARAMS, region="eu-west-1"
        ),
        "iam-get-query-in-url": sign(
            "GET",
            "http://iam.example.test/?Version=2010-05-08&Action=GetUser&UserName=a%2Bb",
        ),
        "sts-session-token": sign(
            "POST",
            "http://localhost:8080/",
            data=b"Action=GetCallerIdentity&Version=2011-06-15",
            headers=[("Content-Type", FORM)],
            region="us-west-2",
            service="sts",
            token=SESSION_TOKEN,
        ),
        "codecommit-json": sign(
            "POST",
            "https://iamd.example.test:9443/",
            data=b'{"repositoryName": "demo"}',
            headers=[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "CodeCommit_20150413.GetRepository"),
            ],
            region="ap-southeast-2",
            service="codecommit",
        ),
        "rest-path-and-query": sign(
            "GET",
            "http://localhost:8080/federation/credentials",
            params={"role_name": "Admin Role", "account_id": "123456789012"},
            headers=[("x-amz-sso_bearer_token", "opaque/token+value=")],
            region="eu-central-1",
            service="sso",
        ),
        "encoded-path": sign(
            "GET",
            "http://localhost:8080/v1/users/a%2Fb/x%20y~z",
            region="cn-north-1",
            service="identitystore",
        ),
        "repeated-and-spaced-headers": sign(
            "POST",
            "http://localhost:8080/",
            data=b"Action=GetUser&Version=2010-05-08",
            headers=[
                ("Content-Type", FORM),
                ("X-Custom", "  spaced    out\tvalue  "),
                ("X-Repeated", "first"),
                ("X-Repeated", " second  one "),
            ],
        ),
        "date-header-instead-of-x-amz-date": sign(
            "POST",
            "http://localhost:8080/",
            data=b"Action=GetUser&Version=2010-05-08",
            headers=[("Content-Type", FORM), ("Date", "Thu, 01 Jan 1970 00:00:00 GMT")],
        ),
        "presigned-get": sign(
            "GET",
            "https://sts.eu-central-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
            region="eu-central-1",
            service="sts",
            presign_expires=900,
        ),
        "presigned-with-token-and-extra-signed-header": sign(
            "GET",
            "http://localhost:8080/",
            params={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
            headers=[("x-k8s-aws-id", "my-cluster")],
            service="sts",
            token=SESSION_TOKEN,
            presign_expires=60,
        ),
        "presigned-form-body-moved-to-query": sign(
            "POST",
            "http://localhost:8080/",
            # The Query serializer hands botocore a dict; the presigner moves it to the URL.
            data={"Action": "CreateUser", "Path": "/a b/", "UserName": "Bob+1"},
            headers=[("Content-Type", FORM)],
            presign_expires=900,
        ),
    }


CASES = signed_cases()
CASE_IDS = sorted(CASES)


@pytest.mark.parametrize("case", CASE_IDS)
def test_botocore_signed_request_is_accepted(case: str) -> None:
    wire = CASES[case]
    request = accepted(wire)
    assert request.access_key_id == AKID
    assert request.presigned == case.startswith("presigned")
    assert "host" in request.signed_headers


def test_parsed_fields_of_session_and_presigned_requests() -> None:
    sts = accepted(CASES["sts-session-token"])
    assert (sts.region, sts.service, sts.security_token) == ("us-west-2", "sts", SESSION_TOKEN)
    assert "x-amz-security-token" in sts.signed_headers
    assert SESSION_TOKEN not in repr(sts)

    presigned = accepted(CASES["presigned-with-token-and-extra-signed-header"])
    assert presigned.security_token == SESSION_TOKEN
    assert presigned.expires == 60
    assert presigned.signed_headers == ("host", "x-k8s-aws-id")


def test_date_header_is_used_when_there_is_no_x_amz_date() -> None:
    wire = CASES["date-header-instead-of-x-amz-date"]
    assert wire.header("date").startswith("Thu, 01 Jan 2026 00:00:00 ")
    assert not any(name == b"x-amz-date" for name, _ in wire.headers)
    assert accepted(wire).amz_date == AMZ_DATE


def test_unsigned_headers_may_change() -> None:
    wire = CASES["iam-post-form"]
    wire = wire._replace(headers=[*wire.headers, (b"x-forwarded-for", b"10.0.0.1")])
    accepted(wire.with_header("user-agent", "something else"))


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("case", CASE_IDS)
def test_wrong_secret_is_rejected(case: str) -> None:
    error = rejected(CASES[case], secret=SECRET[:-1] + "X")
    assert error.code == "SignatureDoesNotMatch"
    assert error.status == 403
    assert error.message == SignatureDoesNotMatch.DEFAULT_MESSAGE


@pytest.mark.parametrize("case", CASE_IDS)
def test_tampered_signature_is_rejected(case: str) -> None:
    wire = CASES[case]
    if case.startswith("presigned"):
        head, _, signature = wire.query.decode().rpartition("X-Amz-Signature=")
        forged = ("0" if signature[0] != "0" else "1") + signature[1:]
        wire = wire._replace(query=f"{head}X-Amz-Signature={forged}".encode())
    else:
        authorization = wire.header("authorization")
        forged = authorization[:-1] + ("0" if authorization[-1] != "0" else "1")
        wire = wire.with_header("authorization", forged)
    rejected(wire)


@pytest.mark.parametrize("case", ["iam-post-form", "codecommit-json", "sts-session-token"])
def test_tampered_body_is_rejected(case: str) -> None:
    wire = CASES[case]
    for index in (0, len(wire.body) // 2, len(wire.body) - 1):
        rejected(wire._replace(body=flip(wire.body, index)))


def test_body_added_to_presigned_request_is_rejected() -> None:
    wire = CASES["presigned-get"]
    rejected(wire._replace(method="POST", body=b"Action=CreateUser&UserName=mallory"))


@pytest.mark.parametrize(
    ("case", "header"),
    [
        ("iam-post-form", "content-type"),
        ("iam-post-form", "host"),
        ("sts-session-token", "x-amz-security-token"),
        ("codecommit-json", "x-amz-target"),
        ("repeated-and-spaced-headers", "x-custom"),
        ("presigned-with-token-and-extra-signed-header", "x-k8s-aws-id"),
    ],
)
def test_tampered_signed_header_is_rejected(case: str, header: str) -> None:
    wire = CASES[case]
    rejected(wire.with_header(header, wire.header(header) + "x"))


def test_reordered_repeated_header_is_rejected() -> None:
    wire = CASES["repeated-and-spaced-headers"]
    others = [(k, v) for k, v in wire.headers if k != b"x-repeated"]
    repeated = [(k, v) for k, v in wire.headers if k == b"x-repeated"]
    rejected(wire._replace(headers=others + repeated[::-1]))


def test_missing_signed_header_is_rejected() -> None:
    wire = CASES["iam-post-form"]
    rejected(wire._replace(headers=[(k, v) for k, v in wire.headers if k != b"content-type"]))


@pytest.mark.parametrize(
    "case",
    [
        "iam-get-awkward-query",
        "iam-get-query-in-url",
        "rest-path-and-query",
        "presigned-get",
        "presigned-form-body-moved-to-query",
    ],
)
def test_tampered_query_is_rejected(case: str) -> None:
    wire = CASES[case]
    for index in range(len(wire.query)):
        character = wire.query[index : index + 1]
        if character.isalnum():
            tampered = flip(wire.query, index)
            break
    with pytest.raises(AwsError):
        verify(wire._replace(query=tampered).parse(), SECRET)
    rejected(wire._replace(query=wire.query + b"&Extra=1"))


@pytest.mark.parametrize("case", ["rest-path-and-query", "encoded-path"])
def test_tampered_path_is_rejected(case: str) -> None:
    wire = CASES[case]
    rejected(wire._replace(path=wire.path + "x"))
    rejected(wire._replace(path=wire.path.upper()))


def test_path_escaping_is_part_of_the_signature() -> None:
    # "%2F" inside a segment is not "/": non-S3 SigV4 signs the path as sent, escaped again.
    wire = CASES["encoded-path"]
    assert wire.path == "/v1/users/a%2Fb/x%20y~z"
    rejected(wire._replace(path="/v1/users/a/b/x%20y~z"))


def test_tampered_method_is_rejected() -> None:
    rejected(CASES["iam-get-awkward-query"]._replace(method="POST"))


def test_equivalent_query_encodings_are_accepted() -> None:
    # "~" and unreserved characters may arrive escaped; the canonical form is the same.
    wire = CASES["iam-get-awkward-query"]
    assert b"~" in wire.query
    accepted(wire._replace(query=wire.query.replace(b"~", b"%7E").replace(b"Action", b"%41ction")))
    # Parameter order on the wire does not matter either.
    reordered = b"&".join(reversed(wire.query.split(b"&")))
    accepted(wire._replace(query=reordered))


def test_dot_segments_and_double_slashes_are_normalised_like_botocore() -> None:
    wire = sign("GET", "http://localhost:8080/a/b/../c/./d//e/", service="sso")
    # botocore signs the normalised path but sends the path as written.
    accepted(wire._replace(path="/a/b/../c/./d//e/"))
    accepted(wire._replace(path="/a/c/d/e/"))


def test_signature_cache_never_mixes_secrets() -> None:
    wire = CASES["iam-post-form"]
    accepted(wire)
    rejected(wire, secret="another-secret")
    accepted(wire)


# ---------------------------------------------------------------------------------------
# Clock skew (±15 minutes) and presigned lifetimes.


@pytest.mark.parametrize("case", ["iam-post-form", "sts-session-token"])
def test_fourteen_minutes_either_way_is_accepted(case: str) -> None:
    accepted(CASES[case], now=SIGNED_AT + timedelta(minutes=14))
    accepted(CASES[case], now=SIGNED_AT - timedelta(minutes=14))
    accepted(CASES[case], now=SIGNED_AT + timedelta(minutes=15))


def test_sixteen_minutes_old_is_expired() -> None:
    with pytest.raises(SignatureDoesNotMatch) as caught:
        CASES["iam-post-form"].parse(now=SIGNED_AT + timedelta(minutes=16))
    assert caught.value.status == 403
    assert caught.value.message == (
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000100Z "
        "(20260101T001600Z - 15 min.)"
    )


def test_sixteen_minutes_ahead_is_not_yet_current() -> None:
    with pytest.raises(SignatureDoesNotMatch) as caught:
        CASES["iam-post-form"].parse(now=SIGNED_AT - timedelta(minutes=16))
    assert caught.value.message == (
        "Signature not yet current: 20260101T000000Z is still later than 20251231T235900Z "
        "(20251231T234400Z + 15 min.)"
    )


def test_naive_now_is_taken_as_utc() -> None:
    accepted(CASES["iam-post-form"], now=SIGNED_AT.replace(tzinfo=None) + timedelta(minutes=5))


def test_presigned_url_lives_for_x_amz_expires_within_the_cap() -> None:
    wire = sign("GET", "http://localhost:8080/?Action=GetUser", presign_expires=3600)
    wire.parse(now=SIGNED_AT + timedelta(minutes=59), presigned_max_age=7200)
    with pytest.raises(SignatureDoesNotMatch) as caught:
        wire.parse(now=SIGNED_AT + timedelta(minutes=61), presigned_max_age=7200)
    assert caught.value.message == (
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000100Z "
        "(20260101T010100Z - 60 min.)"
    )
    with pytest.raises(SignatureDoesNotMatch, match="not yet current"):
        wire.parse(now=SIGNED_AT - timedelta(minutes=16))


def test_presigned_url_is_capped_at_fifteen_minutes_by_default() -> None:
    # As AWS's STS: a longer X-Amz-Expires is not honoured past 15 minutes.
    wire = sign("GET", "http://localhost:8080/?Action=CreateUser", presign_expires=604800)
    assert accepted(wire, now=SIGNED_AT + timedelta(minutes=15)).expires == 604800
    with pytest.raises(SignatureDoesNotMatch) as caught:
        wire.parse(now=SIGNED_AT + timedelta(minutes=15, seconds=1))
    assert caught.value.status == 403
    assert caught.value.message == (
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z "
        "(20260101T001501Z - 15 min.)"
    )
    with pytest.raises(SignatureDoesNotMatch, match="Signature expired"):
        wire.parse(now=SIGNED_AT + timedelta(days=6))


def test_a_shorter_cap_applies_to_presigned_urls_only() -> None:
    presigned = sign("GET", "http://localhost:8080/?Action=GetUser", presign_expires=900)
    presigned.parse(now=SIGNED_AT + timedelta(seconds=60), presigned_max_age=60)
    with pytest.raises(SignatureDoesNotMatch, match=r"- 60 sec\.\)|- 1 min\.\)"):
        presigned.parse(now=SIGNED_AT + timedelta(seconds=61), presigned_max_age=60)
    # A request signed in its headers keeps the ±15 minutes clock-skew rule.
    CASES["iam-post-form"].parse(now=SIGNED_AT + timedelta(minutes=14), presigned_max_age=60)


def test_short_presigned_lifetime_is_reported_in_seconds() -> None:
    wire = sign("GET", "http://localhost:8080/?Action=GetUser", presign_expires=90)
    accepted(wire, now=SIGNED_AT + timedelta(seconds=90))
    with pytest.raises(SignatureDoesNotMatch) as caught:
        wire.parse(now=SIGNED_AT + timedelta(seconds=91))
    assert caught.value.message == (
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z "
        "(20260101T000131Z - 90 sec.)"
    )


def test_presigned_without_expires_gets_the_skew_window() -> None:
    wire = CASES["presigned-get"]
    query = b"&".join(p for p in wire.query.split(b"&") if not p.startswith(b"X-Amz-Expires="))
    stripped = wire._replace(query=query)
    assert stripped.parse().expires is None
    with pytest.raises(SignatureDoesNotMatch, match="15 min"):
        stripped.parse(now=SIGNED_AT + timedelta(minutes=16))


# ---------------------------------------------------------------------------------------
# Error cases, with AWS's codes and messages.


def header_auth(authorization: str | None, *, date: str | None = AMZ_DATE) -> Wire:
    headers = [(b"host", b"localhost:8080")]
    if date is not None:
        headers.append((b"x-amz-date", date.encode()))
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    return Wire("POST", "/", b"", headers, b"Action=GetUser&Version=2010-05-08")


def error_of(wire: Wire) -> AwsError:
    with pytest.raises(AwsError) as caught:
        wire.parse()
    return caught.value


def test_no_authentication_at_all() -> None:
    error = error_of(header_auth(None)._replace(query=b"Action=GetUser&X-Amz-Date=1"))
    assert isinstance(error, MissingAuthenticationToken)
    assert (error.code, error.status) == ("MissingAuthenticationToken", 403)
    assert error.message == "Request is missing Authentication Token"


@pytest.mark.parametrize(
    "marker", ["X-Amz-Signature=abc", "X-Amz-Credential=a", "X-Amz-Algorithm=x"]
)
def test_header_and_query_auth_together(marker: str) -> None:
    error = error_of(VECTOR._replace(query=marker.encode()))
    assert isinstance(error, IncompleteSignature)
    assert (error.code, error.status) == ("IncompleteSignature", 400)
    assert error.message == (
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
        "Signature query string parameter or the Authorization header should be specified"
    )


@pytest.mark.parametrize(
    ("authorization", "date", "missing"),
    [
        (
            f"AWS4-HMAC-SHA256 Credential={AKID}/20260101/us-east-1/iam/aws4_request",
            AMZ_DATE,
            ["'Signature' parameter", "'SignedHeaders' parameter"],
        ),
        (
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
            None,
            ["'Credential' parameter", "date"],
        ),
        ("Bearer eyJhbGciOi", AMZ_DATE, ["'Credential'", "'Signature'", "'SignedHeaders'"]),
        ("", None, ["'Credential'", "'Signature'", "'SignedHeaders'", "date"]),
    ],
)
def test_incomplete_authorization_header(
    authorization: str, date: str | None, missing: list[str]
) -> None:
    sentences = {
        "'Credential'": "Authorization header requires 'Credential' parameter.",
        "'Credential' parameter": "Authorization header requires 'Credential' parameter.",
        "'Signature'": "Authorization header requires 'Signature' parameter.",
        "'Signature' parameter": "Authorization header requires 'Signature' parameter.",
        "'SignedHeaders'": "Authorization header requires 'SignedHeaders' parameter.",
        "'SignedHeaders' parameter": "Authorization header requires 'SignedHeaders' parameter.",
        "date": (
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ),
    }
    error = error_of(header_auth(authorization, date=date))
    assert isinstance(error, IncompleteSignature)
    expected = " ".join([sentences[m] for m in missing] + [f"Authorization={authorization}"])
    assert error.message == expected


def test_full_composite_message() -> None:
    error = error_of(header_auth("AWS4-HMAC-SHA256", date=None))
    assert error.message == (
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256"
    )


@pytest.mark.parametrize("algorithm", ["AWS4-ECDSA-P256-SHA256", "AWS", "AWS4-HMAC-SHA512"])
def test_unsupported_algorithm_in_header(algorithm: str) -> None:
    authorization = VECTOR_AUTHORIZATION.replace("AWS4-HMAC-SHA256", algorithm, 1)
    error = error_of(VECTOR.with_header("authorization", authorization))
    assert isinstance(error, IncompleteSignature)
    assert error.message == f"Unsupported AWS 'algorithm': '{algorithm}'"


def with_credential(credential: str, date: str = AMZ_DATE) -> Wire:
    return header_auth(
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host;x-amz-date, Signature=00",
        date=date,
    )


@pytest.mark.parametrize(
    ("credential", "error_class", "message"),
    [
        (
            f"{AKID}/20260101/us-east-1/iam",
            IncompleteSignature,
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{AKID}/20260101/us-east-1/iam'",
        ),
        (
            f"{AKID}/20260101/Us_East/iam/aws4_request",
            SignatureDoesNotMatch,
            "Credential should be scoped to a valid Region, not 'Us_East'. ",
        ),
        (
            f"{AKID}/20260101//iam/aws4_request",
            SignatureDoesNotMatch,
            "Credential should be scoped to a valid Region, not ''. ",
        ),
        (
            f"{AKID}/20260101/us-east-1/iam/aws5_request",
            SignatureDoesNotMatch,
            "Credential should be scoped with a valid terminator: 'aws4_request', "
            "not 'aws5_request'. ",
        ),
        (
            f"{AKID}/20260101/EU/iam/x",
            SignatureDoesNotMatch,
            "Credential should be scoped to a valid Region, not 'EU'. "
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'x'. ",
        ),
        (
            f"{AKID}/20251231/us-east-1/iam/aws4_request",
            SignatureDoesNotMatch,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            "from HTTP: '20251231' != '20260101', from '20260101T000000Z'.",
        ),
    ],
)
def test_bad_credential_scope(credential: str, error_class: type[AwsError], message: str) -> None:
    error = error_of(with_credential(credential))
    assert type(error) is error_class
    assert error.message == message


def test_any_region_and_service_are_returned_as_signed() -> None:
    request = with_credential(f"{AKID}/20260101/mars-north-7/sso-oauth/aws4_request").parse()
    assert (request.region, request.service) == ("mars-north-7", "sso-oauth")


def test_host_must_be_signed() -> None:
    error = error_of(
        header_auth(
            f"AWS4-HMAC-SHA256 Credential={AKID}/20260101/us-east-1/iam/aws4_request, "
            "SignedHeaders=content-type;x-amz-date, Signature=00"
        )
    )
    assert type(error) is SignatureDoesNotMatch
    assert error.message == (
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    )


@pytest.mark.parametrize("date", ["2026-01-01T00:00:00Z", "20261301T000000Z", "20260101T000000"])
def test_malformed_x_amz_date(date: str) -> None:
    error = error_of(VECTOR.with_header("x-amz-date", date))
    assert type(error) is IncompleteSignature
    assert error.message == (
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
    )


def test_unparseable_date_header_counts_as_missing() -> None:
    wire = header_auth(VECTOR_AUTHORIZATION, date=None)
    wire = wire._replace(headers=[*wire.headers, (b"date", b"yesterday")])
    assert error_of(wire).message.endswith(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={VECTOR_AUTHORIZATION}"
    )


PRESIGNED_QUERY = CASES["presigned-get"].query


def presigned_without(name: str) -> Wire:
    parts = [p for p in PRESIGNED_QUERY.split(b"&") if not p.startswith(name.encode() + b"=")]
    return CASES["presigned-get"]._replace(query=b"&".join(parts))


@pytest.mark.parametrize(
    "name", ["X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"]
)
def test_incomplete_presigned_query(name: str) -> None:
    error = error_of(presigned_without(name))
    assert type(error) is IncompleteSignature
    assert error.message == (
        f"AWS query-string parameters must include '{name}'. "
        "Re-examine the query-string parameters."
    )


def test_presigned_query_lists_every_missing_parameter() -> None:
    error = error_of(header_auth(None)._replace(query=b"X-Amz-Signature=00"))
    assert error.message == (
        "AWS query-string parameters must include 'X-Amz-Algorithm'. "
        "AWS query-string parameters must include 'X-Amz-Credential'. "
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
        "AWS query-string parameters must include 'X-Amz-Date'. "
        "Re-examine the query-string parameters."
    )


def test_unsupported_algorithm_in_query() -> None:
    wire = CASES["presigned-get"]
    wire = wire._replace(query=wire.query.replace(b"AWS4-HMAC-SHA256", b"AWS4-HMAC-SHA512"))
    error = error_of(wire)
    assert type(error) is IncompleteSignature
    assert error.message == "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("604801", "X-Amz-Expires must be less than a week (in seconds) that is; 604800"),
        (
            "99999999999999999999",
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800",
        ),
        ("-5", "X-Amz-Expires must be non-negative"),
        ("0", "X-Amz-Expires must be at least 1 second"),
        ("ten", "X-Amz-Expires should be a number"),
        ("", "X-Amz-Expires should be a number"),
    ],
)
def test_bad_presigned_expires(expires: str, message: str) -> None:
    wire = CASES["presigned-get"]
    wire = wire._replace(
        query=wire.query.replace(b"X-Amz-Expires=900", f"X-Amz-Expires={expires}".encode())
    )
    error = error_of(wire)
    assert type(error) is IncompleteSignature
    assert error.message == message


def test_maximum_presigned_expires_is_accepted_under_the_largest_cap() -> None:
    wire = sign("GET", "http://localhost:8080/?Action=GetUser", presign_expires=604800)
    request = wire.parse(now=SIGNED_AT + timedelta(days=6, hours=23), presigned_max_age=604800)
    verify(request, SECRET)


def test_duplicated_presigned_parameter_is_refused() -> None:
    wire = CASES["presigned-get"]
    error = error_of(wire._replace(query=wire.query + b"&X-Amz-Credential=AKIAOTHER%2Fx"))
    assert type(error) is IncompleteSignature
    assert error.message == (
        "Query-string authentication parameter 'X-Amz-Credential' must appear only once."
    )


def test_unsigned_payload_is_refused_for_header_auth() -> None:
    # botocore never sends it to IAM; a client that did must not get an unsigned body in.
    wire = sign(
        "POST",
        "http://localhost:8080/",
        data=b"Action=GetUser",
        headers=[("Content-Type", FORM), ("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")],
    )
    rejected(wire)


def test_explicit_payload_hash_header_must_match_the_body() -> None:
    import hashlib

    body = b"Action=GetUser&Version=2010-05-08"
    good = sign(
        "POST",
        "http://localhost:8080/",
        data=body,
        headers=[
            ("Content-Type", FORM),
            ("X-Amz-Content-SHA256", hashlib.sha256(body).hexdigest()),
        ],
    )
    accepted(good)
    rejected(good._replace(body=body + b"&UserName=root"))


def test_unsigned_payload_is_honoured_for_empty_presigned_request() -> None:
    wire = sign(
        "GET",
        "http://localhost:8080/?Action=GetUser",
        headers=[("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")],
        presign_expires=300,
    )
    assert "x-amz-content-sha256" in accepted(wire).signed_headers
    rejected(wire._replace(method="POST", body=b"Action=CreateUser"))


def test_error_messages_never_contain_the_secret() -> None:
    for wire in CASES.values():
        with pytest.raises(SignatureDoesNotMatch) as caught:
            verify(wire.parse(), "not-" + SECRET)
        assert SECRET not in str(caught.value)


def test_request_is_immutable() -> None:
    request = accepted(VECTOR)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.signature = "0" * 64  # type: ignore[misc]


# ---------------------------------------------------------------------------------------
# Property: garbage in, AWS errors out (never a crash).

FRAGMENTS = [
    "AWS4-HMAC-SHA256",
    " ",
    ",",
    ", ",
    "=",
    "/",
    ";",
    "Credential=",
    "SignedHeaders=",
    "Signature=",
    AKID,
    "20260101",
    "20260101T000000Z",
    "99991231T235959Z",
    "00000000T000000Z",
    "us-east-1",
    "iam",
    "aws4_request",
    "host",
    "x-amz-date",
    "\x00",
    "é",
    "\udcff",
    "%",
    "%zz",
    "%2F",
]
QUERY_FRAGMENTS = [
    b"X-Amz-Algorithm=",
    b"X-Amz-Credential=",
    b"X-Amz-Date=",
    b"X-Amz-SignedHeaders=",
    b"X-Amz-Signature=",
    b"X-Amz-Expires=",
    b"X-Amz-Security-Token=",
    b"AWS4-HMAC-SHA256",
    b"&",
    b"=",
    b"%2F",
    b"%",
    b"%FF",
    b"+",
    b"20260101T000000Z",
    b"AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fiam%2Faws4_request",
    b"604800",
    b"-1",
    b"host",
    b"\xff",
]
HEADER_NAMES = [
    b"authorization",
    b"x-amz-date",
    b"date",
    b"host",
    b"x-amz-security-token",
    b"x-amz-content-sha256",
    b"content-type",
]

garbage_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=12).map("".join)
garbage_header_value = garbage_text.map(
    lambda text: text.encode("utf-8", "surrogatepass")
) | st.binary(max_size=40)
garbage_headers = st.lists(
    st.tuples(st.sampled_from(HEADER_NAMES) | st.binary(max_size=10), garbage_header_value),
    max_size=6,
)
garbage_query = st.lists(st.sampled_from(QUERY_FRAGMENTS) | st.binary(max_size=8), max_size=14).map(
    b"".join
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "get", ""]) | st.text(max_size=5),
    path=st.sampled_from(["/", "", "/a/../b", "//", "/%2F"]) | st.text(max_size=12),
    query=garbage_query,
    headers=garbage_headers,
    body=st.binary(max_size=20),
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_garbage_raises_only_aws_errors(
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    now: datetime,
) -> None:
    try:
        request = parse_request(method, path, query, headers, body, now)
    except AwsError:
        return
    with pytest.raises(SignatureDoesNotMatch):
        verify(request, SECRET)


@settings(max_examples=200, deadline=None)
@given(
    params=st.dictionaries(
        st.text(min_size=1, max_size=10), st.text(max_size=20), min_size=1, max_size=5
    ),
    path_segments=st.lists(
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_characters="/."),
            min_size=1,
            max_size=8,
        ),
        max_size=3,
    ),
)
def test_any_botocore_signed_get_is_accepted(
    params: dict[str, str], path_segments: list[str]
) -> None:
    from urllib.parse import quote

    path = "/" + "/".join(quote(segment, safe="") for segment in path_segments)
    wire = sign("GET", f"http://localhost:8080{path}", params=params, service="sso")
    accepted(wire)

"""Response direction, for every IAM and STS operation: we serialize, botocore parses.

A full output (every member, non-empty lists and maps, strings that need XML escaping)
is serialized by the codec and parsed by botocore's query response parser; the result
must equal what went in. Policy documents come back percent-encoded and are also run
through botocore's ``after-call.iam`` handler (``json_decode_policies``), which must
turn them into the JSON value of the original text.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.handlers import json_decode_policies
from botocore.parsers import create_parser

from iamd.protocol import QueryCodec
from iamd.protocol.service_model import POLICY_DOCUMENT_SHAPE
from tests.protocol.conftest import QUERY_SERVICES, service_model
from tests.protocol.values import OutputGenerator

REQUEST_ID = "c6104cbe-af31-11e0-8154-cbc7ccf896c7"


def botocore_parse(body: bytes, shape: Any, status: int = 200) -> dict[str, Any]:
    response = {"body": body, "headers": {}, "status_code": status}
    parsed: dict[str, Any] = create_parser("query").parse(response, shape)
    return parsed


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    return value


def _transform_policies(value: Any, shape: Any, transform: Any) -> Any:
    """Apply ``transform`` to every policy-document string, wherever it is nested."""
    kind = shape.type_name
    if kind == "string" and shape.name == POLICY_DOCUMENT_SHAPE:
        return transform(value)
    if kind == "structure":
        return {
            name: _transform_policies(item, shape.members[name], transform)
            for name, item in value.items()
        }
    if kind == "list":
        return [_transform_policies(item, shape.member, transform) for item in value]
    if kind == "map":
        return {
            key: _transform_policies(item, shape.value, transform) for key, item in value.items()
        }
    return value


def _count_policy_documents(shape: Any, seen: set[str]) -> int:
    if shape.name in seen:
        return 0
    seen.add(shape.name)
    if shape.type_name == "string":
        return int(shape.name == POLICY_DOCUMENT_SHAPE)
    if shape.type_name == "structure":
        return sum(_count_policy_documents(m, seen) for m in shape.members.values())
    if shape.type_name == "list":
        return _count_policy_documents(shape.member, seen)
    if shape.type_name == "map":
        return _count_policy_documents(shape.value, seen)
    return 0


@pytest.mark.parametrize("service", QUERY_SERVICES)
def test_every_operation_output_round_trips_through_botocore_parser(
    service: str, codecs: dict[str, QueryCodec]
) -> None:
    codec = codecs[service]
    model = service_model(service)
    tested = set()
    with_policies = 0
    for index, name in enumerate(sorted(model.operation_names)):
        operation = model.operation_model(name)
        shape = operation.output_shape
        if shape is None:
            body = codec.serialize_result(name, None, REQUEST_ID)
            assert b"Result>" not in body
            parsed = botocore_parse(body, None)
            assert list(parsed) == ["ResponseMetadata"]
            assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
            tested.add(name)
            continue
        result = OutputGenerator(seed=index, millisecond_timestamps=service == "sts").value(shape)
        body = codec.serialize_result(name, result, REQUEST_ID)
        parsed = botocore_parse(body, shape)
        assert parsed.pop("ResponseMetadata")["RequestId"] == REQUEST_ID
        # On the wire policy documents are percent-encoded; undoing that gives the text.
        assert _normalise(_transform_policies(parsed, shape, unquote)) == _normalise(result)
        # And botocore's own after-call handler turns them into JSON values.
        if _count_policy_documents(shape, set()):
            with_policies += 1
            decoded = copy.deepcopy(parsed)
            json_decode_policies(decoded, operation)
            expected = _transform_policies(result, shape, json.loads)
            assert _normalise(decoded) == _normalise(expected)
        tested.add(name)
    assert tested == set(model.operation_names)
    if service == "iam":
        assert with_policies >= 6


def test_get_user_envelope_is_exact(iam_codec: QueryCodec) -> None:
    created = datetime(2012, 9, 21, 23, 3, 13, 999000, tzinfo=UTC)
    body = iam_codec.serialize_result(
        "GetUser",
        {
            "User": {
                "Path": "/",
                "UserName": "bob",
                "UserId": "AIDACKCEVSQ6C2EXAMPLE",
                "Arn": "arn:aws:iam::123456789012:user/bob",
                "CreateDate": created,
                "PasswordLastUsed": None,
                "Tags": [],
            }
        },
        "req-1",
    )
    assert body.decode() == (
        '<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        "<GetUserResult><User><Path>/</Path><UserName>bob</UserName>"
        "<UserId>AIDACKCEVSQ6C2EXAMPLE</UserId><Arn>arn:aws:iam::123456789012:user/bob</Arn>"
        "<CreateDate>2012-09-21T23:03:13Z</CreateDate><Tags/></User></GetUserResult>"
        "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetUserResponse>"
    )


def test_sts_timestamps_have_milliseconds(sts_codec: QueryCodec) -> None:
    expiration = datetime(2011, 7, 15, 23, 28, 33, 359123, tzinfo=UTC)
    body = sts_codec.serialize_result(
        "GetSessionToken",
        {
            "Credentials": {
                "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": expiration,
            }
        },
        "req-2",
    )
    assert b"<Expiration>2011-07-15T23:28:33.359Z</Expiration>" in body
    assert body.startswith(
        b'<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    )


def test_naive_and_non_utc_datetimes_are_written_in_utc(iam_codec: QueryCodec) -> None:
    from datetime import timedelta, timezone

    plus_two = datetime(2020, 1, 1, 2, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    body = iam_codec.serialize_result(
        "GetAccessKeyLastUsed",
        {
            "UserName": "bob",
            "AccessKeyLastUsed": {
                "LastUsedDate": plus_two,
                "ServiceName": "iam",
                "Region": "us-east-1",
            },
        },
        "r",
    )
    assert b"<LastUsedDate>2020-01-01T00:00:00Z</LastUsedDate>" in body
    naive = iam_codec.serialize_result(
        "GetAccessKeyLastUsed",
        {
            "AccessKeyLastUsed": {
                "LastUsedDate": datetime(2020, 1, 1),
                "ServiceName": "iam",
                "Region": "us-east-1",
            }
        },
        "r",
    )
    assert b"<LastUsedDate>2020-01-01T00:00:00Z</LastUsedDate>" in naive


def test_xml_escaping_of_text(iam_codec: QueryCodec) -> None:
    nasty = "a&b<c>d\"e'f\rg\x01h\ud800i\ufffej"
    body = iam_codec.serialize_result(
        "ListAccountAliases", {"AccountAliases": [nasty], "IsTruncated": False}, "r"
    )
    text = body.decode()
    assert "a&amp;b&lt;c&gt;d\"e'f&#13;g\ufffdh\ufffdi\ufffdj" in text
    operation = service_model("iam").operation_model("ListAccountAliases")
    parsed = botocore_parse(body, operation.output_shape)
    assert parsed["AccountAliases"] == ["a&b<c>d\"e'f\rg\ufffdh\ufffdi\ufffdj"]


def test_policy_documents_are_percent_encoded_with_percent_20(iam_codec: QueryCodec) -> None:
    document = '{"Version": "2012-10-17", "Statement": []}'
    body = iam_codec.serialize_result(
        "GetUserPolicy",
        {"UserName": "bob", "PolicyName": "p", "PolicyDocument": document},
        "r",
    )
    assert b"<PolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22%2C%20" in body
    assert b"+" not in body


def test_empty_and_missing_lists(iam_codec: QueryCodec) -> None:
    present = iam_codec.serialize_result("ListUsers", {"Users": [], "IsTruncated": False}, "r")
    assert b"<Users/>" in present
    missing = iam_codec.serialize_result("ListUsers", {"IsTruncated": False}, "r")
    assert b"<Users" not in missing
    none = iam_codec.serialize_result("ListUsers", {"Users": None, "IsTruncated": False}, "r")
    assert b"<Users" not in none


def test_maps_are_written_as_entries(iam_codec: QueryCodec) -> None:
    body = iam_codec.serialize_result("GetAccountSummary", {"SummaryMap": {"Users": 3}}, "r")
    assert b"<SummaryMap><entry><key>Users</key><value>3</value></entry></SummaryMap>" in body


def test_unknown_result_keys_fail_loudly(iam_codec: QueryCodec) -> None:
    with pytest.raises(KeyError, match="Bogus"):
        iam_codec.serialize_result("GetUser", {"User": {"UserName": "bob", "Bogus": 1}}, "r")
    with pytest.raises(KeyError):
        iam_codec.serialize_result("GetUser", {"Users": []}, "r")


def test_wrong_value_types_fail_loudly(iam_codec: QueryCodec) -> None:
    with pytest.raises(TypeError):
        iam_codec.serialize_result("ListUsers", {"IsTruncated": "yes"}, "r")
    with pytest.raises(TypeError):
        iam_codec.serialize_result("ListUsers", {"Marker": 5}, "r")
    with pytest.raises(TypeError):
        iam_codec.serialize_result(
            "GetUser", {"User": {"UserName": "b", "CreateDate": "2020-01-01"}}, "r"
        )


def test_operation_without_output_rejects_a_result(iam_codec: QueryCodec) -> None:
    assert iam_codec.serialize_result("DeleteUser", {}, "r") == (
        b'<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"
    )
    with pytest.raises(TypeError):
        iam_codec.serialize_result("DeleteUser", {"UserName": "bob"}, "r")


def test_blobs_are_base64(iam_codec: QueryCodec) -> None:
    body = iam_codec.serialize_result(
        "GetCredentialReport", {"Content": b"user,arn\n", "ReportFormat": "text/csv"}, "r"
    )
    assert b"<Content>dXNlcixhcm4K</Content>" in body

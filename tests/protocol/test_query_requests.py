"""Request direction, for every IAM and STS operation: botocore serializes, we parse.

Valid params are generated from the model, serialized by botocore's own query
serializer (which also runs botocore's client-side validation), encoded as botocore's
AWSRequest encodes a form body, decoded with ``parse_form`` and parsed by the codec; the
typed params must equal what went in.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSRequest
from botocore.serialize import create_serializer

from iamd.protocol import QueryCodec, parse_form
from tests.protocol.conftest import QUERY_SERVICES, service_model
from tests.protocol.values import InputGenerator


def _form_bytes(params: dict[str, Any], operation: Any) -> bytes:
    serialized = create_serializer("query").serialize_to_request(params, operation)
    request = AWSRequest(
        method="POST",
        url="https://iam.example.test/",
        data=serialized["body"],
        headers=serialized["headers"],
    ).prepare()
    body = request.body
    return body if isinstance(body, bytes) else body.encode("utf-8")


def _round_trip(codec: QueryCodec, params: dict[str, Any], operation: Any) -> None:
    body = _form_bytes(params, operation)
    name, parsed = codec.parse(parse_form(body))
    assert name == operation.name
    assert parsed == params, body
    # The same parameters in a URL's query string (GET, presigned URLs) decode the same,
    # and presigning parameters are not members, so they are ignored.
    query = body + b"&X-Amz-Signature=abc&X-Amz-Credential=AKID%2F20260101%2Fus-east-1"
    assert codec.parse(parse_form(query)) == (operation.name, params)


@pytest.mark.parametrize("service", QUERY_SERVICES)
def test_every_operation_round_trips_through_botocore_serializer(
    service: str, codecs: dict[str, QueryCodec]
) -> None:
    codec = codecs[service]
    model = service_model(service)
    tested = set()
    for index, name in enumerate(sorted(model.operation_names)):
        operation = model.operation_model(name)
        shape = operation.input_shape
        generator = InputGenerator(seed=index)
        if shape is None:
            _round_trip(codec, {}, operation)
        else:
            _round_trip(codec, generator.structure(shape, full=False), operation)
            _round_trip(codec, generator.structure(shape, full=True), operation)
        tested.add(name)
    assert tested == set(model.operation_names)
    assert len(tested) == len(codec.operation_names)


def test_empty_list_sent_by_botocore_parses_as_empty_list(iam_codec: QueryCodec) -> None:
    operation = service_model("iam").operation_model("CreateUser")
    body = _form_bytes({"UserName": "bob", "Tags": []}, operation)
    assert b"Tags=&" in body or body.endswith(b"Tags=")
    assert iam_codec.parse(parse_form(body)) == ("CreateUser", {"UserName": "bob", "Tags": []})


def test_nested_lists_of_structures(iam_codec: QueryCodec) -> None:
    operation = service_model("iam").operation_model("SimulateCustomPolicy")
    params = {
        "PolicyInputList": ['{"Version": "2012-10-17"}', "second & doc"],
        "ActionNames": ["iam:GetUser", "s3:GetObject"],
        "ContextEntries": [
            {
                "ContextKeyName": "aws:MultiFactorAuthPresent",
                "ContextKeyValues": ["true"],
                "ContextKeyType": "boolean",
            },
            {"ContextKeyName": "aws:username", "ContextKeyValues": ["a", "b", "c"]},
        ],
        "MaxItems": 10,
    }
    _round_trip(iam_codec, params, operation)
    body = _form_bytes(params, operation)
    assert b"ContextEntries.member.2.ContextKeyValues.member.3=c" in body


def test_sts_policy_arns_and_tags(sts_codec: QueryCodec) -> None:
    operation = service_model("sts").operation_model("AssumeRole")
    params = {
        "RoleArn": "arn:aws:iam::123456789012:role/demo",
        "RoleSessionName": "session-1",
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        "Tags": [{"Key": "Project", "Value": "Blue sky"}],
        "TransitiveTagKeys": ["Project"],
        "DurationSeconds": 3600,
        "SerialNumber": "arn:aws:iam::123456789012:mfa/bob",
        "TokenCode": "123456",
    }
    _round_trip(sts_codec, params, operation)

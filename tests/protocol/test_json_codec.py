"""The JSON codec, for every CodeCommit operation, with botocore as the oracle.

Requests: botocore's own ``json`` serializer (after its client-side validation) writes
the body and the ``X-Amz-Target`` header, and the codec must parse back exactly the
params that went in. Responses: the codec serializes a full output and botocore's
``json`` parser must read back the same values. Errors: the envelope must give botocore
the code, the message and the request id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.validate import ParamValidator

from iamd.errors import (
    AccessDenied,
    AwsError,
    RepositoryNameExistsException,
    SerializationException,
    UnknownOperationException,
    ValidationError,
)
from iamd.protocol import JsonCodec
from tests.protocol.conftest import service_model
from tests.protocol.values import InputGenerator, OutputGenerator

REQUEST_ID = "0f1c7a7e-6a8e-4a55-9a7b-2d7bce5c1c3e"
MODEL = service_model("codecommit")
OPERATIONS = sorted(MODEL.operation_names)


@pytest.fixture(scope="module")
def codec() -> JsonCodec:
    return JsonCodec("codecommit")


def _request(params: dict[str, Any], operation: Any) -> tuple[str, bytes]:
    report = ParamValidator().validate(params, operation.input_shape)
    assert not report.has_errors(), report.generate_report()
    serialized = create_serializer("json").serialize_to_request(params, operation)
    body = serialized["body"]
    return serialized["headers"]["X-Amz-Target"], body if isinstance(body, bytes) else body.encode()


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


def _botocore_parse(body: bytes, shape: Any, status: int = 200) -> dict[str, Any]:
    response = {
        "body": body,
        "headers": {"x-amzn-requestid": REQUEST_ID},
        "status_code": status,
    }
    parsed: dict[str, Any] = create_parser("json").parse(response, shape)
    return parsed


def test_codec_describes_the_service(codec: JsonCodec) -> None:
    assert codec.service_name == "codecommit"
    assert codec.api_version == "2015-04-13"
    assert codec.target_prefix == "CodeCommit_20150413"
    assert "CreateRepository" in codec.operation_names
    assert codec.content_type == b"application/x-amz-json-1.1"


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_request_round_trips_through_botocore_serializer(codec: JsonCodec, name: str) -> None:
    operation = MODEL.operation_model(name)
    shape = operation.input_shape
    generator = InputGenerator(seed=OPERATIONS.index(name))
    samples = (
        [{}]
        if shape is None
        else [
            generator.structure(shape, full=False),
            generator.structure(shape, full=True),
        ]
    )
    for params in samples:
        target, body = _request(params, operation)
        assert codec.parse(target, body) == (name, params), body


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_response_is_read_back_by_botocore(codec: JsonCodec, name: str) -> None:
    shape = MODEL.operation_model(name).output_shape
    if shape is None:
        assert codec.serialize_result(name, None, REQUEST_ID) == b"{}"
        return
    result = OutputGenerator(seed=OPERATIONS.index(name), millisecond_timestamps=True).value(shape)
    parsed = _botocore_parse(codec.serialize_result(name, result, REQUEST_ID), shape)
    parsed.pop("ResponseMetadata", None)
    assert _normalise(parsed) == _normalise(result)


def test_timestamps_are_epoch_seconds_and_blobs_base64(codec: JsonCodec) -> None:
    created = datetime(2015, 10, 20, 12, 0, 0, tzinfo=UTC)
    body = codec.serialize_result(
        "GetRepository",
        {"repositoryMetadata": {"repositoryName": "r", "creationDate": created}},
        REQUEST_ID,
    )
    assert body == b'{"repositoryMetadata":{"repositoryName":"r","creationDate":1445342400}}'
    blob = codec.serialize_result("GetBlob", {"content": b"\x00hi"}, REQUEST_ID)
    assert blob == b'{"content":"AGhp"}'


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RepositoryNameExistsException.named("MyDemoRepo"), "RepositoryNameExistsException"),
        (ValidationError("1 validation error detected: x"), "ValidationException"),
        (AccessDenied("User: u is not authorized"), "AccessDeniedException"),
        (UnknownOperationException(), "UnknownOperationException"),
    ],
)
def test_errors_are_read_by_botocore(codec: JsonCodec, error: AwsError, code: str) -> None:
    body = codec.serialize_error(error, REQUEST_ID)
    parsed = _botocore_parse(body, None, status=error.status)
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == error.message
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID


def _create(body: bytes) -> Any:
    return JsonCodec("codecommit").parse("CodeCommit_20150413.CreateRepository", body)


def test_validation_reads_like_aws(codec: JsonCodec) -> None:
    with pytest.raises(ValidationError) as caught:
        codec.parse(
            "CodeCommit_20150413.CreateRepository",
            b'{"repositoryName": "bad name!", "repositoryDescription": "' + b"d" * 1001 + b'"}',
        )
    message = caught.value.message
    assert message.startswith("2 validation errors detected: ")
    assert (
        "Value 'bad name!' at 'repositoryName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w\\.-]+"
    ) in message
    assert "at 'repositoryDescription' failed to satisfy constraint: " in message
    with pytest.raises(ValidationError, match="Value null at 'repositoryName' failed"):
        codec.parse("CodeCommit_20150413.CreateRepository", b"{}")
    with pytest.raises(ValidationError, match="'sortBy' failed to satisfy constraint: Member"):
        codec.parse("CodeCommit_20150413.ListRepositories", b'{"sortBy": "size"}')


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", b'{"repositoryName": 5}', b'{"repositoryName": "r", "tags": []}'],
)
def test_wrong_json_is_a_serialization_exception(codec: JsonCodec, body: bytes) -> None:
    with pytest.raises(SerializationException):
        codec.parse("CodeCommit_20150413.CreateRepository", body)


@pytest.mark.parametrize(
    "target",
    ["", "CreateRepository", "Other_20150413.CreateRepository", "CodeCommit_20150413.Nope"],
)
def test_unknown_targets_are_refused(codec: JsonCodec, target: str) -> None:
    with pytest.raises(UnknownOperationException):
        codec.parse(target, b"{}")


def test_empty_body_and_null_members_are_absent(codec: JsonCodec) -> None:
    assert codec.parse("CodeCommit_20150413.ListRepositories", b"") == ("ListRepositories", {})
    assert codec.parse("CodeCommit_20150413.ListRepositories", b'{"nextToken": null}') == (
        "ListRepositories",
        {},
    )

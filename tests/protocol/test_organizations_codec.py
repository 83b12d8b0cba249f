"""The Organizations codec, for every operation of botocore's `organizations` model,
with botocore as the oracle; and Organizations' error envelopes (Reason included)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.validate import ParamValidator

from iamd.errors import (
    AccessDenied,
    AwsError,
    ConstraintViolationException,
    InvalidInputException,
    PolicyNotFoundException,
)
from iamd.protocol.organizations_codec import OrganizationsCodec
from tests.protocol.conftest import service_model
from tests.protocol.test_json_codec import _normalise
from tests.protocol.values import InputGenerator, OutputGenerator

REQUEST_ID = "0f1c7a7e-6a8e-4a55-9a7b-2d7bce5c1c3e"
MODEL = service_model("organizations")
OPERATIONS = sorted(MODEL.operation_names)
PREFIX = "AWSOrganizationsV20161128"


@pytest.fixture(scope="module")
def codec() -> OrganizationsCodec:
    return OrganizationsCodec()


def _parse(body: bytes, shape: Any, status: int = 200) -> dict[str, Any]:
    response = {"body": body, "headers": {"x-amzn-requestid": REQUEST_ID}, "status_code": status}
    parsed: dict[str, Any] = create_parser("json").parse(response, shape)
    return parsed


def test_codec_describes_the_service(codec: OrganizationsCodec) -> None:
    assert codec.service_name == "organizations"
    assert codec.api_version == "2016-11-28"
    assert codec.target_prefix == PREFIX


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_request_round_trips(codec: OrganizationsCodec, name: str) -> None:
    operation = MODEL.operation_model(name)
    shape = operation.input_shape
    generator = InputGenerator(seed=OPERATIONS.index(name))
    if shape is None:
        target = f"{PREFIX}.{name}"
        assert codec.parse(target, b"") == (name, {})
        return
    for params in (generator.structure(shape, full=False), generator.structure(shape, full=True)):
        report = ParamValidator().validate(params, operation.input_shape)
        assert not report.has_errors(), report.generate_report()
        serialized = create_serializer("json").serialize_to_request(params, operation)
        body = serialized["body"]
        body = body if isinstance(body, bytes) else body.encode()
        assert codec.parse(serialized["headers"]["X-Amz-Target"], body) == (name, params)


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_response_is_read_back_by_botocore(codec: OrganizationsCodec, name: str) -> None:
    shape = MODEL.operation_model(name).output_shape
    if shape is None:
        assert codec.serialize_result(name, None, REQUEST_ID) == b"{}"
        return
    result = OutputGenerator(seed=OPERATIONS.index(name), millisecond_timestamps=True).value(shape)
    parsed = _parse(codec.serialize_result(name, result, REQUEST_ID), shape)
    parsed.pop("ResponseMetadata", None)
    assert _normalise(parsed) == _normalise(result)


@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        (PolicyNotFoundException(), "PolicyNotFoundException", None),
        (
            ConstraintViolationException.because("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "m"),
            "ConstraintViolationException",
            "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
        ),
        (InvalidInputException.next_token(), "InvalidInputException", "INVALID_NEXT_TOKEN"),
        (AccessDenied("User: u is not authorized"), "AccessDeniedException", None),
    ],
)
def test_errors_are_read_by_botocore_with_their_reason(
    codec: OrganizationsCodec, error: AwsError, code: str, reason: str | None
) -> None:
    body = codec.serialize_error(error, REQUEST_ID)
    shape = MODEL.shape_for(code)
    parsed = _parse(body, None, status=error.status)
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == error.message
    modeled = create_parser("json")._do_modeled_error_parse(  # botocore's own reading
        {"body": body, "headers": {}, "status_code": 400}, shape
    )
    assert modeled.get("Reason") == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"AccountId": "12345"}', "INVALID_PATTERN"),
        (b'{"AccountId": "1234567890123"}', "MAX_LENGTH_EXCEEDED"),
        (b"{}", "INPUT_REQUIRED"),
    ],
)
def test_broken_constraints_are_invalid_input(
    codec: OrganizationsCodec, body: bytes, reason: str
) -> None:
    with pytest.raises(InvalidInputException) as caught:
        codec.parse(f"{PREFIX}.DescribeAccount", body)
    assert caught.value.reason == reason


def test_an_unknown_enum_is_invalid_enum(codec: OrganizationsCodec) -> None:
    with pytest.raises(InvalidInputException) as caught:
        codec.parse(f"{PREFIX}.ListPolicies", b'{"Filter": "NOPE"}')
    assert caught.value.reason == "INVALID_ENUM"
    assert caught.value.message == "You specified an invalid value."

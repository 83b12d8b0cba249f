"""The error envelope, read back by botocore's query error parser."""

from __future__ import annotations

import pytest
from botocore.parsers import create_parser

from iamd.errors import AwsError, InternalFailure, NoSuchEntity, ValidationError
from iamd.protocol import QueryCodec


def _parse_error(body: bytes, status: int) -> dict[str, object]:
    response = {"body": body, "headers": {}, "status_code": status}
    parsed: dict[str, object] = create_parser("query").parse(response, None)
    return parsed


@pytest.mark.parametrize(
    ("error", "status", "fault"),
    [
        (NoSuchEntity.user("bob"), 404, "Sender"),
        (ValidationError("Value 'a<b>&c' at 'userName' failed"), 400, "Sender"),
        (InternalFailure(), 500, "Receiver"),
    ],
)
@pytest.mark.parametrize("service", ["iam", "sts"])
def test_botocore_reads_our_error_envelope(
    codecs: dict[str, QueryCodec], service: str, error: AwsError, status: int, fault: str
) -> None:
    codec = codecs[service]
    body = codec.serialize_error(error, "req-42")
    assert body.startswith(f'<ErrorResponse xmlns="{codec.xml_namespace}">'.encode())
    parsed = _parse_error(body, status)
    assert parsed["Error"] == {"Type": fault, "Code": error.code, "Message": error.message}
    metadata = parsed["ResponseMetadata"]
    assert isinstance(metadata, dict)
    assert metadata["RequestId"] == "req-42"


def test_error_envelope_is_exact(iam_codec: QueryCodec) -> None:
    assert iam_codec.serialize_error(NoSuchEntity.user("bob"), "r1") == (
        b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
        b"<Type>Sender</Type><Code>NoSuchEntity</Code>"
        b"<Message>The user with name bob cannot be found.</Message></Error>"
        b"<RequestId>r1</RequestId></ErrorResponse>"
    )

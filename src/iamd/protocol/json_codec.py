"""The AWS JSON protocol codec of one service (CodeCommit: ``json`` 1.1).

A JSON-protocol request is a POST whose ``X-Amz-Target`` header names the operation
(``CodeCommit_20150413.CreateRepository``) and whose body is a JSON object of the input
members; the response is a JSON object of the output members, timestamps as epoch
seconds and blobs as base64, with content type ``application/x-amz-json-1.1``. Errors
are ``{"__type": code, "message": text}`` with the error's HTTP status.

As in :mod:`iamd.protocol.codec`, a reader and a writer per shape are compiled once from
botocore's model. Input constraints (required, length, pattern, enum, range) are
checked with the Query codec's checkers, so violations read the same on both protocols;
a value of the wrong JSON type fails first, as ``SerializationException``, because AWS
fails such a request while deserializing it, before validation.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from iamd.errors import AwsError, SerializationException, UnknownOperationException
from iamd.protocol.form import header
from iamd.protocol.service_model import (
    compile_operations,
    is_sensitive,
    lower_camel,
    wire_name,
)
from iamd.protocol.validation import (
    UNREAD_ELEMENTS,
    Problems,
    max_elements,
    missing,
    number_checker,
    problem,
    raise_if_problems,
    render_value,
    size_checker,
    string_checker,
    too_many,
)

#: ``read(value, path, problems)``: the typed value of one decoded JSON value.
Reader = Callable[[Any, str, Problems], Any]
#: ``write(value)``: the JSON-ready form of one result value.
Writer = Callable[[Any], Any]

# The JSON services answer with their own names for the errors iamd's Query services
# call otherwise (AWS's common errors for JSON APIs: ValidationException,
# AccessDeniedException, UnrecognizedClientException, InvalidSignatureException ...).
_JSON_ERROR_CODES = {
    "ValidationError": "ValidationException",
    "AccessDenied": "AccessDeniedException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "IncompleteSignature": "IncompleteSignatureException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
    "ExpiredToken": "ExpiredTokenException",
    "InvalidAction": "UnknownOperationException",
}
_INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    # Python's json takes NaN, Infinity and -Infinity; JSON (RFC 8259) does not.
    raise ValueError(f"{name} is not JSON")


def decode_json(body: bytes) -> Any:
    """RFC 8259 JSON, or ValueError/RecursionError (numbers: at most 4,300 digits)."""
    return json.loads(body, parse_constant=_refuse_constant)


def _wrong_type(path: str, expected: str) -> SerializationException:
    return SerializationException(f"Expected {expected} at '{path}'")


class _InputCompiler:
    """Readers of decoded JSON values, one per shape (shared between operations)."""

    def __init__(self) -> None:
        self._readers: dict[str, Reader] = {}

    def reader(self, shape: Any) -> Reader:
        found = self._readers.get(shape.name)
        if found is not None:
            return found
        # Recursive shapes: a forwarding reader stands in until the real one exists.
        cell: list[Reader] = []

        def forward(value: Any, path: str, problems: Problems) -> Any:
            return cell[0](value, path, problems)

        self._readers[shape.name] = forward
        kind = "document" if getattr(shape, "is_document_type", False) else shape.type_name
        built: Reader = getattr(self, "_" + kind)(shape)
        cell.append(built)
        self._readers[shape.name] = built
        return built

    def _structure(self, shape: Any) -> Reader:
        required = set(shape.required_members)
        plans = [
            (name, wire_name(member, name), lower_camel(name), self.reader(member))
            for name, member in shape.members.items()
        ]

        def read(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, dict):
                raise _wrong_type(path or "body", "an object")
            out: dict[str, Any] = {}
            for name, key, path_name, reader in plans:
                member_path = f"{path}.{path_name}" if path else path_name
                raw = value.get(key)
                # JSON null is an absent member, as in AWS's JSON services.
                if raw is None:
                    if name in required:
                        problems.append(missing(member_path))
                    continue
                out[name] = reader(raw, member_path, problems)
            return out

        return read

    def _document(self, _shape: Any) -> Reader:
        # A document member is any JSON value, as sent (identitystore's AttributeValue).
        def read(value: Any, path: str, problems: Problems) -> Any:
            return value

        return read

    def _list(self, shape: Any) -> Reader:
        element = self.reader(shape.member)
        check = size_checker(shape)
        high = max_elements(shape)
        readable = max(high, UNREAD_ELEMENTS)

        def read(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, list):
                raise _wrong_type(path, "a list")
            if len(value) > readable:
                problems.append(too_many(path, high))
                return []
            out = []
            for index, item in enumerate(value, start=1):
                item_path = f"{path}.{index}.member"
                if item is None:
                    problems.append(missing(item_path))
                    continue
                out.append(element(item, item_path, problems))
            check(out, path, problems)
            return out

        return read

    def _map(self, shape: Any) -> Reader:
        read_key = self.reader(shape.key)
        read_value = self.reader(shape.value)
        check = size_checker(shape)
        high = max_elements(shape)
        readable = max(high, UNREAD_ELEMENTS)

        def read(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, dict):
                raise _wrong_type(path, "an object")
            if len(value) > readable:
                problems.append(too_many(path, high))
                return {}
            out: dict[Any, Any] = {}
            for key, item in value.items():
                entry_path = f"{path}.{key}"
                map_key = read_key(key, f"{entry_path}.key", problems)
                if item is None:
                    problems.append(missing(f"{entry_path}.value"))
                    continue
                out[map_key] = read_value(item, f"{entry_path}.value", problems)
            check(out, path, problems)
            return out

        return read

    def _string(self, shape: Any) -> Reader:
        check = string_checker(shape)

        def read(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, str):
                raise _wrong_type(path, "a string")
            if not value.isascii() and _SURROGATE.search(value) is not None:
                # ``"\ud800"`` decodes to a lone surrogate, which no UTF-8 text (the
                # database's, the answer's) can hold.
                raise SerializationException(
                    f"Expected a string of Unicode characters at '{path}' "
                    "(a lone surrogate escape is not one)"
                )
            if check is not None:
                check(value, path, problems)
            return value

        return read

    def _integer(self, shape: Any) -> Reader:
        low, high = _INT_RANGES[shape.type_name]
        check = number_checker(shape)

        def read(value: Any, path: str, problems: Problems) -> Any:
            # bool is an int subclass in Python, but true is not a number in JSON.
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise _wrong_type(path, f"an {shape.type_name}")
            if check is not None:
                check(value, path, problems)
            return value

        return read

    _long = _integer

    def _boolean(self, _shape: Any) -> Reader:
        def read(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, bool):
                raise _wrong_type(path, "a boolean")
            return value

        return read

    def _float(self, _shape: Any) -> Reader:
        def read(value: Any, path: str, problems: Problems) -> Any:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _wrong_type(path, "a number")
            number = float(value)
            if not math.isfinite(number):
                raise _wrong_type(path, "a finite number")
            return number

        return read

    _double = _float

    def _timestamp(self, _shape: Any) -> Reader:
        # botocore sends JSON-protocol timestamps as epoch seconds (a number).
        def read(value: Any, path: str, problems: Problems) -> Any:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _wrong_type(path, "a timestamp in epoch seconds")
            try:
                return datetime.fromtimestamp(value, tz=UTC)
            except (OverflowError, OSError, ValueError):
                raise _wrong_type(path, "a timestamp in epoch seconds") from None

        return read

    def _blob(self, shape: Any) -> Reader:
        min_len: int = shape.metadata.get("min", 0)
        max_len: int | None = shape.metadata.get("max")
        sensitive = is_sensitive(shape)

        def read(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, str):
                raise _wrong_type(path, "a base64 string")
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise _wrong_type(path, "a base64 string") from None
            # Blob limits count decoded bytes, not base64 characters.
            if len(data) < min_len:
                problems.append(
                    problem(
                        path,
                        render_value(data, sensitive),
                        f"Member must have length greater than or equal to {min_len}",
                    )
                )
            if max_len is not None and len(data) > max_len:
                problems.append(
                    problem(
                        path,
                        render_value(data, sensitive),
                        f"Member must have length less than or equal to {max_len}",
                    )
                )
            return data

        return read


def _epoch_seconds(value: datetime) -> float | int:
    if value.tzinfo is None:
        raise TypeError("timestamps must be timezone-aware datetimes")
    seconds = value.timestamp()
    # Whole seconds as integers: ``1700000000`` rather than ``1700000000.0``.
    return int(seconds) if seconds.is_integer() else seconds


def _blob_text(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


class _OutputCompiler:
    """Writers of result values, one per shape; ``None`` where the value is JSON as is."""

    def __init__(self) -> None:
        self._writers: dict[str, Writer | None] = {}

    def writer(self, shape: Any) -> Writer | None:
        if shape.name in self._writers:
            return self._writers[shape.name]
        cell: list[Writer | None] = []

        def forward(value: Any) -> Any:
            write = cell[0]
            return value if write is None else write(value)

        self._writers[shape.name] = forward
        built = self._build(shape)
        cell.append(built)
        self._writers[shape.name] = built
        return built

    def _build(self, shape: Any) -> Writer | None:
        kind = shape.type_name
        if getattr(shape, "is_document_type", False):
            return None  # any JSON value, written as it is
        if kind == "timestamp":
            return _epoch_seconds
        if kind == "blob":
            return _blob_text
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            element = self.writer(shape.member)
            if element is None:
                return list
            return lambda value: [element(item) for item in value]
        if kind == "map":
            item_writer = self.writer(shape.value)
            if item_writer is None:
                return dict
            return lambda value: {key: item_writer(item) for key, item in value.items()}
        return None

    def _structure(self, shape: Any) -> Writer:
        plans = [
            (name, wire_name(member, name), self.writer(member))
            for name, member in shape.members.items()
        ]

        def write(value: Mapping[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, key, member_writer in plans:
                item = value.get(name)
                if item is None:
                    continue
                out[key] = item if member_writer is None else member_writer(item)
            return out

        return write


class JsonCodec:
    """Codec for one AWS JSON-protocol service ('codecommit')."""

    content_type = b"application/x-amz-json-1.1"
    service_name: str
    api_version: str
    target_prefix: str
    operation_names: frozenset[str]

    def __init__(self, service_name: str) -> None:
        outputs = _OutputCompiler()

        def writer_of(_name: str, output_shape: Any) -> Writer | None:
            return None if output_shape is None else outputs.writer(output_shape)

        plans = compile_operations(service_name, "json", _InputCompiler().reader, writer_of)
        self.service_name = service_name
        self.api_version = plans.api_version
        self.target_prefix = plans.metadata["targetPrefix"]
        self.operation_names = plans.operation_names
        self._readers: dict[str, Reader | None] = plans.readers
        self._writers: dict[str, Writer | None] = plans.outputs

    def operation_of(self, target: str) -> str:
        """The operation an ``X-Amz-Target`` header value names, or raise."""
        # The last dot: CloudTrail's prefix has dots of its own
        # (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101).
        prefix, dot, name = target.rpartition(".")
        if not dot or prefix != self.target_prefix or name not in self._readers:
            raise UnknownOperationException()
        return name

    def parse_http(
        self, method: str, raw_query: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> tuple[str, dict[str, Any]]:
        """Parse a request as it arrived: the operation is in X-Amz-Target, params in the body."""
        return self.parse(header(headers, b"x-amz-target"), body)

    def parse(self, target: str, body: bytes) -> tuple[str, dict[str, Any]]:
        """Return (operation name, typed params) or raise an ``AwsError``."""
        operation = self.operation_of(target)
        try:
            document = decode_json(body) if body.strip() else {}
        except (ValueError, RecursionError):
            raise SerializationException("The request body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise SerializationException("The request body must be a JSON object.")
        reader = self._readers[operation]
        if reader is None:
            return operation, {}
        problems: Problems = []
        params: dict[str, Any] = reader(document, "", problems)
        if problems:
            raise_if_problems(problems)
        return operation, params

    def serialize_result(
        self, operation: str, result: Mapping[str, Any] | None, request_id: str
    ) -> bytes:
        """The response body of ``operation`` holding ``result`` (the id is a header)."""
        writer = self._writers[operation]
        if writer is None:
            if result:
                raise TypeError(f"{operation} has no output, got {sorted(result)}")
            return b"{}"
        document = writer(result or {})
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def serialize_error(self, error: AwsError, request_id: str) -> bytes:
        """The JSON error body for ``error`` (botocore reads ``__type`` and ``message``)."""
        code = _JSON_ERROR_CODES.get(error.code, error.code)
        document = {"__type": code, "message": error.message}
        # Modelled members besides the message (Organizations' Reason), which botocore
        # parses into the error response.
        document.update(error.fields())
        # A message quoting a request's text must never fail to encode.
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")

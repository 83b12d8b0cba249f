"""Typed decoding of single Query-protocol values (the text right of ``=``).

Each ``*_reader`` factory returns ``read(raw, path, problems)`` for one model shape:
it converts the text to the Python type the shape calls for and checks the shape's
constraints, appending AWS-worded problems instead of raising, so that one request
reports all of its problems at once. A value that cannot be converted yields
``INVALID`` (the request fails anyway; the placeholder keeps the walk going).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from iamd.protocol.service_model import is_sensitive
from iamd.protocol.validation import (
    Problems,
    number_checker,
    problem,
    render_value,
    string_checker,
)

ScalarReader = Callable[[str, str, Problems], Any]


class _Invalid:
    """Placeholder for a value that failed conversion."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()

# Java's Integer.parseInt / Long.parseLong grammar: optional sign, ASCII digits only
# (Python's int() would also take spaces, underscores and non-ASCII digits).
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,19}")
_EPOCH_TEXT = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,9})?")
_INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def string_reader(shape: Any) -> ScalarReader:
    check = string_checker(shape)
    if check is None:
        return lambda raw, path, problems: raw

    def read(raw: str, path: str, problems: Problems) -> Any:
        check(raw, path, problems)
        return raw

    return read


def integer_reader(shape: Any) -> ScalarReader:
    low, high = _INT_RANGES[shape.type_name]
    check = number_checker(shape)
    sensitive = is_sensitive(shape)
    kind = "an integer" if shape.type_name == "integer" else "a long integer"

    def read(raw: str, path: str, problems: Problems) -> Any:
        if _INTEGER_TEXT.fullmatch(raw) is None or not low <= (value := int(raw)) <= high:
            problems.append(problem(path, render_value(raw, sensitive), f"Member must be {kind}"))
            return INVALID
        if check is not None:
            check(value, path, problems)
        return value

    return read


def boolean_reader(shape: Any) -> ScalarReader:
    sensitive = is_sensitive(shape)

    def read(raw: str, path: str, problems: Problems) -> Any:
        lowered = raw.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        problems.append(
            problem(path, render_value(raw, sensitive), "Member must be a boolean (true or false)")
        )
        return INVALID

    return read


def parse_timestamp(raw: str) -> datetime | None:
    """ISO 8601 (naive means UTC) or epoch seconds -> aware datetime, else None."""
    try:
        if _EPOCH_TEXT.fullmatch(raw):
            return datetime.fromtimestamp(float(raw), tz=UTC)
        parsed = datetime.fromisoformat(raw)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def timestamp_reader(shape: Any) -> ScalarReader:
    sensitive = is_sensitive(shape)

    def read(raw: str, path: str, problems: Problems) -> Any:
        value = parse_timestamp(raw)
        if value is None:
            problems.append(
                problem(
                    path,
                    render_value(raw, sensitive),
                    "Member must be a timestamp (ISO 8601 or epoch seconds)",
                )
            )
            return INVALID
        return value

    return read


def blob_reader(shape: Any) -> ScalarReader:
    sensitive = is_sensitive(shape)
    # Blob limits are byte counts of the decoded value, not of its base64 text.
    meta = shape.metadata
    min_len: int = meta.get("min", 0)
    max_len: int | None = meta.get("max")

    def read(raw: str, path: str, problems: Problems) -> Any:
        try:
            value = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            problems.append(
                problem(path, render_value(raw, sensitive), "Member must be base64-encoded")
            )
            return INVALID
        if len(value) < min_len:
            problems.append(
                problem(
                    path,
                    render_value(raw, sensitive),
                    f"Member must have length greater than or equal to {min_len}",
                )
            )
        if max_len is not None and len(value) > max_len:
            problems.append(
                problem(
                    path,
                    render_value(raw, sensitive),
                    f"Member must have length less than or equal to {max_len}",
                )
            )
        return value

    return read


def float_reader(shape: Any) -> ScalarReader:
    sensitive = is_sensitive(shape)

    def read(raw: str, path: str, problems: Problems) -> Any:
        try:
            return float(raw)
        except ValueError:
            problems.append(problem(path, render_value(raw, sensitive), "Member must be a number"))
            return INVALID

    return read


_FACTORIES: dict[str, Callable[[Any], ScalarReader]] = {
    "string": string_reader,
    "character": string_reader,
    "integer": integer_reader,
    "long": integer_reader,
    "boolean": boolean_reader,
    "timestamp": timestamp_reader,
    "blob": blob_reader,
    "float": float_reader,
    "double": float_reader,
}


def scalar_reader(shape: Any) -> ScalarReader:
    """The reader for a scalar shape; unknown shape types are a model we cannot serve."""
    return _FACTORIES[shape.type_name](shape)

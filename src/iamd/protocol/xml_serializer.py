"""Compilation of output shapes into writers of Query-protocol XML.

Each shape is compiled once into a writer that appends ``str`` fragments to a list;
the envelope joins them once. Members are written in model order, absent or ``None``
members are omitted (botocore treats a missing element as an absent member), and keys
a shape does not know are a programming error that fails loudly. Scalars follow the
Query protocol: booleans ``true``/``false``, ISO 8601 UTC timestamps (second precision
for IAM, milliseconds for STS, as the real services answer), blobs as base64, and IAM
policy documents percent-encoded (RFC 3986) because botocore URL-decodes them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from iamd.protocol.service_model import POLICY_DOCUMENT_SHAPE, is_flattened, wire_name

Out = list[str]
Writer = Callable[[Any, Out], None]
Converter = Callable[[Any], str]

# Characters XML 1.0 cannot carry at all (not even as character references) are
# replaced by U+FFFD; '\r' is kept as a reference because a raw one would be
# normalised to '\n' by every XML parser.
_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape_text(text: str) -> str:
    """Escape character data for an XML text node."""
    # Fast path for the common case, cheaper than a regex search: printable text (no
    # control characters, no surrogates, no U+FFFE/U+FFFF) without markup characters.
    # ``str.isprintable(text)`` also rejects non-str values with a TypeError.
    if str.isprintable(text) and "&" not in text and "<" not in text and ">" not in text:
        return text
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\r", "&#13;")
    return _NOT_XML.sub("\ufffd", text)


def _policy_document(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"policy document must be str, not {type(value).__name__}")
    return quote(value, safe="")


def _integer(value: int) -> str:
    if value.__class__ is bool or not isinstance(value, int):
        raise TypeError(f"expected int, got {type(value).__name__}")
    return str(value)


def _float(value: float) -> str:
    if value.__class__ is bool or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return repr(float(value))


def _boolean(value: bool) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise TypeError(f"expected bool, got {type(value).__name__}")


def _utc(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected datetime, got {type(value).__name__}")
    # Naive datetimes are taken to be UTC, the convention of the whole code base.
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value


# Timestamps are assembled from the datetime's fields with lookup tables: on an aware
# datetime ``isoformat``/``strftime`` cost several times more (they consult the tzinfo),
# and a ListUsers page has one timestamp per user.
_TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))
_THREE_DIGITS = tuple(f"{number:03d}" for number in range(1000))


def _seconds_text(value: datetime) -> str:
    if value.__class__ is not datetime or (value.tzinfo is not UTC and value.tzinfo is not None):
        value = _utc(value)
    two = _TWO_DIGITS
    year = value.year
    return "".join(
        (
            str(year) if year >= 1000 else f"{year:04d}",
            "-",
            two[value.month],
            "-",
            two[value.day],
            "T",
            two[value.hour],
            ":",
            two[value.minute],
            ":",
            two[value.second],
        )
    )


def _timestamp_seconds(value: datetime) -> str:
    return _seconds_text(value) + "Z"


def _timestamp_millis(value: datetime) -> str:
    # Milliseconds are truncated, as botocore's own millisecond serializer does.
    text = _seconds_text(value)
    return text + "." + _THREE_DIGITS[value.microsecond // 1000] + "Z"


def _blob(value: bytes) -> str:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return base64.b64encode(value).decode("ascii")


class OutputCompiler:
    """Compiles output shapes of one service, sharing writers between operations."""

    def __init__(self, *, millisecond_timestamps: bool) -> None:
        self._timestamp: Converter = (
            _timestamp_millis if millisecond_timestamps else _timestamp_seconds
        )
        self._writers: dict[str, Writer] = {}

    def converter(self, shape: Any) -> Converter | None:
        """The text converter of a scalar shape, or None for compound shapes."""
        kind = shape.type_name
        if kind == "string":
            return _policy_document if shape.name == POLICY_DOCUMENT_SHAPE else escape_text
        if kind in ("integer", "long"):
            return _integer
        if kind == "boolean":
            return _boolean
        if kind == "timestamp":
            return self._timestamp
        if kind == "blob":
            return _blob
        if kind in ("float", "double"):
            return _float
        return None

    def content(self, shape: Any) -> Writer:
        """A writer of the inside of an element holding a value of ``shape``."""
        convert = self.converter(shape)
        if convert is not None:
            return lambda value, out: out.append(convert(value))
        writer = self._writers.get(shape.name)
        if writer is not None:
            return writer
        cell: list[Writer] = []

        def forward(value: Any, out: Out) -> None:
            cell[0](value, out)

        self._writers[shape.name] = forward
        if shape.type_name == "structure":
            writer = self._structure(shape)
        elif shape.type_name == "list":
            writer = self._list(shape)
        else:
            writer = self._map(shape)
        cell.append(writer)
        self._writers[shape.name] = writer
        return writer

    def element(self, shape: Any, tag: str) -> Writer:
        """A writer of a whole ``<tag>...</tag>`` element for a value of ``shape``."""
        open_tag, close_tag = f"<{tag}>", f"</{tag}>"
        convert = self.converter(shape)
        if convert is not None:

            def write_scalar(value: Any, out: Out) -> None:
                out.append(open_tag + convert(value) + close_tag)

            return write_scalar
        if shape.type_name == "list" and is_flattened(shape):
            # A flattened list has no wrapper: each element is an element of its own.
            item_tag = wire_name(shape.member, tag)
            write_item = self.element(shape.member, item_tag)

            def write_flat(value: Any, out: Out) -> None:
                for item in value:
                    write_item(item, out)

            return write_flat
        if shape.type_name == "map" and is_flattened(shape):
            # A flattened map repeats the member's element once per entry.
            write_key = self.element(shape.key, wire_name(shape.key, "key"))
            write_value = self.element(shape.value, wire_name(shape.value, "value"))

            def write_flat_map(value: Mapping[Any, Any], out: Out) -> None:
                for key, item in value.items():
                    out.append(open_tag)
                    write_key(key, out)
                    write_value(item, out)
                    out.append(close_tag)

            return write_flat_map
        inner = self.content(shape)
        if shape.type_name == "structure":

            def write_structure(value: Any, out: Out) -> None:
                out.append(open_tag)
                inner(value, out)
                out.append(close_tag)

            return write_structure
        empty = f"<{tag}/>"

        def write_container(value: Any, out: Out) -> None:
            # An empty list or map that is present is written as an empty element.
            if not value:
                out.append(empty)
                return
            out.append(open_tag)
            inner(value, out)
            out.append(close_tag)

        return write_container

    def _structure(self, shape: Any) -> Writer:
        # Scalar members are written inline by the structure's loop (one call fewer per
        # value); compound members delegate to their element writer.
        members: list[tuple[str, str, str, Converter | None, Writer | None]] = []
        for name, member in shape.members.items():
            tag = wire_name(member, name)
            convert = self.converter(member)
            write_member = None if convert is not None else self.element(member, tag)
            members.append((name, f"<{tag}>", f"</{tag}>", convert, write_member))
        known = frozenset(shape.members)
        shape_name = shape.name

        def write(value: Mapping[str, Any], out: Out) -> None:
            if not known.issuperset(value):
                unknown = sorted(set(value) - known)
                raise KeyError(f"{shape_name} has no member(s) {unknown}")
            get = value.get
            append = out.append
            for name, open_tag, close_tag, convert, write_member in members:
                member_value = get(name)
                if member_value is None:
                    continue
                if convert is not None:
                    append(open_tag + convert(member_value) + close_tag)
                elif write_member is not None:
                    write_member(member_value, out)

        return write

    def _list(self, shape: Any) -> Writer:
        write_item = self.element(shape.member, wire_name(shape.member, "member"))

        def write(value: Any, out: Out) -> None:
            if isinstance(value, str | bytes | Mapping):
                raise TypeError(f"expected a list, got {type(value).__name__}")
            for item in value:
                write_item(item, out)

        return write

    def _map(self, shape: Any) -> Writer:
        write_key = self.element(shape.key, wire_name(shape.key, "key"))
        write_value = self.element(shape.value, wire_name(shape.value, "value"))

        def write(value: Mapping[Any, Any], out: Out) -> None:
            for key, item in value.items():
                out.append("<entry>")
                write_key(key, out)
                write_value(item, out)
                out.append("</entry>")

        return write

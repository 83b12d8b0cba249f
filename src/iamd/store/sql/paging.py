"""Keyset pagination for List operations.

AWS markers are opaque; ours carry the sort key of the last item returned, so a page
is one indexed range query however deep the listing goes, and concurrent inserts do
not shift later pages.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TypeVar

from iamd.errors import InvalidInput
from iamd.model.page import Page

T = TypeVar("T")


# Every marker we hand out starts with this, so a marker we did not make (a typo, a
# marker of another service, any string that happens to be valid base64) is refused
# instead of silently starting the listing somewhere else.
_MARKER_PREFIX = "iamd1:"


def encode_marker(sort_key: str) -> str:
    return base64.urlsafe_b64encode((_MARKER_PREFIX + sort_key).encode("utf-8")).decode("ascii")


def decode_marker(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(marker.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidInput("Invalid Marker.") from exc
    if not decoded.startswith(_MARKER_PREFIX):
        raise InvalidInput("Invalid Marker.")
    return decoded[len(_MARKER_PREFIX) :]


def page_of(rows: list[T], limit: int, sort_key_of: Callable[[T], str]) -> Page[T]:
    """Cut a result fetched with `limit + 1` rows into a page and its next marker."""
    if len(rows) > limit:
        items = rows[:limit]
        return Page(items, encode_marker(sort_key_of(items[-1])))
    return Page(rows, None)


def offset_in(text: str) -> int | None:
    """The position a marker of an in-memory or offset page names, or None when `text`
    is not one: ASCII digits only (`str.isdigit` takes "²", which `int` refuses) and at
    most ten of them (a huge offset overflows the database's integer)."""
    if not (0 < len(text) <= 10 and text.isascii() and text.isdigit()):
        return None
    return int(text)


def page_of_sequence(items: list[T], marker: str | None, max_items: int) -> Page[T]:
    """Paginate a short list held in memory; the marker is the index to resume at."""
    start = 0
    if marker is not None:
        found = offset_in(decode_marker(marker) or "")
        if found is None:
            raise InvalidInput("Invalid Marker.")
        start = found
    chunk = items[start : start + max_items]
    end = start + len(chunk)
    return Page(chunk, encode_marker(str(end)) if end < len(items) else None)

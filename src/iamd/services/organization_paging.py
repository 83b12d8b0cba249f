"""NextToken/MaxResults paging of Organizations' lists.

Lists are small (an organization's accounts, OUs, policies) and built whole, then cut:
the token is the offset of the next item, tagged with the list it belongs to, so a
token of one list given to another is refused as AWS refuses a token it did not issue
(InvalidInputException INVALID_NEXT_TOKEN). AWS's page size when MaxResults is omitted
is 20, the largest MaxResults the model allows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from iamd.errors import InvalidInputException

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
_PREFIX = "iamdorgs1"


@dataclass(frozen=True, slots=True)
class OrgPage(Generic[T]):
    items: list[T]
    next_token: str | None


def page_of(
    items: Sequence[T], listing: str, token: str | None, max_results: int | None
) -> OrgPage[T]:
    start = _offset(listing, token)
    size = max_results or DEFAULT_PAGE_SIZE
    end = start + size
    chunk = list(items[start:end])
    if end < len(items):
        raw = f"{_PREFIX}:{listing}:{end}".encode()
        return OrgPage(chunk, base64.urlsafe_b64encode(raw).decode("ascii"))
    return OrgPage(chunk, None)


def _offset(listing: str, token: str | None) -> int:
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInputException.next_token() from None
    prefix, _, rest = text.partition(":")
    name, _, number = rest.rpartition(":")
    if prefix != _PREFIX or name != listing or not number.isdigit() or len(number) > 9:
        raise InvalidInputException.next_token()
    return int(number)

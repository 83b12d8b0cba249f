"""SCIM filters as AWS serves them: `attribute eq "value"`, joined by `and` only
(RFC 7644 §3.4.2.2 defines more; AWS answers the rest, and anything malformed, with
400 invalidFilter). Attribute names and the operator are case-insensitive (RFC 7643
§2.1); the value is a JSON string, or `true` / `false`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from iamd.operations.scim.problems import invalid_filter

MAX_FILTER_LENGTH = 1024
_TERM = re.compile(
    r"""\s*(?P<attribute>[A-Za-z][\w.:$-]*)\s+(?P<op>[A-Za-z]{2})\s+
    (?P<value>"(?:[^"\\]|\\.)*"|true|false)\s*""",
    re.VERBOSE | re.IGNORECASE,
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Condition:
    attribute: str  # lower-cased
    value: str | bool


def parse_filter(text: str, allowed: frozenset[str]) -> list[Condition]:
    """The `eq` conditions of a filter, each on one of `allowed` (lower-case names)."""
    if len(text) > MAX_FILTER_LENGTH:
        raise invalid_filter("The filter is too long.")
    conditions: list[Condition] = []
    position = 0
    while True:
        found = _TERM.match(text, position)
        if found is None:
            raise invalid_filter(f"Unsupported or malformed filter: {text[:200]}")
        if found.group("op").lower() != "eq":
            raise invalid_filter(f"Only the eq operator is supported, not {found.group('op')}.")
        attribute = found.group("attribute").lower()
        if attribute not in allowed:
            raise invalid_filter(f"Filtering on {found.group('attribute')} is not supported.")
        raw = found.group("value")
        value: str | bool
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            try:
                value = json.loads(raw)
            except ValueError:
                raise invalid_filter("The filter's value is not a valid string.") from None
        conditions.append(Condition(attribute, value))
        position = found.end()
        if position == len(text):
            return conditions
        joined = _AND.match(text, position - 1 if text[position - 1].isspace() else position)
        if joined is None:
            raise invalid_filter(f"Unsupported or malformed filter: {text[:200]}")
        position = joined.end()

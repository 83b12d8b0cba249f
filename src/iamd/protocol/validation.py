"""Input constraints from the service model, and AWS's wording for violations.

AWS reports every violated constraint of a request in one ``ValidationError`` whose
message reads ``N validation error(s) detected: Value 'v' at 'path' failed to satisfy
constraint: ...`` with the problems joined by ``"; "``. The checkers built here append
one such problem string per violation to a list, so the parser can collect all of them
before raising once. Checkers are built once per shape; regexes are compiled once per
pattern text.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sized
from functools import cache
from typing import Any

import regex

from iamd.errors import ValidationError
from iamd.protocol.service_model import is_sensitive

Problems = list[str]
#: ``check(value, path, problems)``: append a problem per violated constraint.
StrChecker = Callable[[str, str, Problems], None]
IntChecker = Callable[[int, str, Problems], None]
SizedChecker = Callable[[Sized, str, Problems], None]

MASK = "***"

# Java's \w and \d (AWS evaluates the model patterns with java.util.regex) are ASCII
# only, while Python's are Unicode-aware; the models also use \p{L} classes, which must
# stay Unicode-aware, so the ASCII flag cannot be used and the two escapes are rewritten.
_JAVA_CLASS_ESCAPES = {"w": "A-Za-z0-9_", "d": "0-9"}


def _javaize(pattern: str) -> str:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            replacement = _JAVA_CLASS_ESCAPES.get(nxt)
            if replacement is None:
                out.append(pattern[i : i + 2])
            elif in_class:
                out.append(replacement)
            else:
                out.append(f"[{replacement}]")
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


Matcher = Callable[[str], object]


@cache
def compile_pattern(pattern: str) -> Matcher:
    """A full-match function for a model ``pattern`` (Java semantics, compiled once).

    Patterns with Unicode property classes (``\\p{L}``) need the ``regex`` module; all
    others compile to the same language with the standard ``re`` module, whose
    matcher is about twice as fast per call, and this runs on every request.
    """
    source = _javaize(pattern)
    if "\\p{" in pattern or "\\P{" in pattern:
        return regex.compile(source).fullmatch
    try:
        return re.compile(source).fullmatch
    except re.error:
        return regex.compile(source).fullmatch


def render_value(value: object, sensitive: bool) -> str:
    """How a value appears after ``Value`` in a problem: quoted, ``null`` or masked."""
    if value is None:
        return "null"
    if sensitive:
        return f"'{MASK}'"
    return f"'{_plain(value)}'"


def _plain(value: object) -> str:
    # Lists and maps are shown the way the Java services print them: [a, b], {k=v}.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_plain(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return "java.nio.HeapByteBuffer"
    return str(value)


def problem(path: str, rendered_value: str, constraint: str) -> str:
    return f"Value {rendered_value} at '{path}' failed to satisfy constraint: {constraint}"


def missing(path: str) -> str:
    return problem(path, "null", "Member must not be null")


def raise_if_problems(problems: Problems) -> None:
    if not problems:
        return
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(problems))


def string_checker(shape: Any) -> StrChecker | None:
    """Length (in characters), pattern and enum constraints of a string shape."""
    meta = shape.metadata
    min_len: int = meta.get("min", 0)
    max_len: int = meta.get("max", sys.maxsize)
    pattern: str | None = meta.get("pattern")
    enum: list[str] | None = meta.get("enum")
    sensitive = is_sensitive(shape)
    if min_len <= 0 and max_len == sys.maxsize and pattern is None and not enum:
        return None
    fullmatch = compile_pattern(pattern) if pattern is not None else None
    enum_set = frozenset(enum) if enum else None
    enum_text = "[" + ", ".join(enum) + "]" if enum else ""

    def check(value: str, path: str, problems: Problems) -> None:
        n = len(value)
        if n < min_len:
            problems.append(
                problem(
                    path,
                    render_value(value, sensitive),
                    f"Member must have length greater than or equal to {min_len}",
                )
            )
        if n > max_len:
            problems.append(
                problem(
                    path,
                    render_value(value, sensitive),
                    f"Member must have length less than or equal to {max_len}",
                )
            )
        if fullmatch is not None and fullmatch(value) is None:
            problems.append(
                problem(
                    path,
                    render_value(value, sensitive),
                    f"Member must satisfy regular expression pattern: {pattern}",
                )
            )
        if enum_set is not None and value not in enum_set:
            problems.append(
                problem(
                    path,
                    render_value(value, sensitive),
                    f"Member must satisfy enum value set: {enum_text}",
                )
            )

    return check


def number_checker(shape: Any) -> IntChecker | None:
    """Value range of an integer or long shape."""
    meta = shape.metadata
    low: int | None = meta.get("min")
    high: int | None = meta.get("max")
    if low is None and high is None:
        return None
    sensitive = is_sensitive(shape)
    lowest = -sys.maxsize if low is None else low
    highest = sys.maxsize if high is None else high

    def check(value: int, path: str, problems: Problems) -> None:
        if value < lowest:
            problems.append(
                problem(
                    path,
                    render_value(value, sensitive),
                    f"Member must have value greater than or equal to {low}",
                )
            )
        elif value > highest:
            problems.append(
                problem(
                    path,
                    render_value(value, sensitive),
                    f"Member must have value less than or equal to {high}",
                )
            )

    return check


#: The most elements iamd takes in a list or map the model leaves unbounded
#: (SimulateCustomPolicy's ActionNames, ResourceArns, ContextEntries...): AWS documents no
#: limit for these, and every one of them multiplies the work of a request.
DEFAULT_MAX_ELEMENTS = 1000


def max_elements(shape: Any) -> int:
    """The most elements a list or map shape may hold: its model max, else the default."""
    high: int = shape.metadata.get("max", DEFAULT_MAX_ELEMENTS)
    return high


def size_checker(shape: Any) -> SizedChecker:
    """Number of elements of a list or map shape (unbounded ones get the default max)."""
    low: int = shape.metadata.get("min", 0)
    high = max_elements(shape)
    sensitive = is_sensitive(shape)

    def check(value: Sized, path: str, problems: Problems) -> None:
        n = len(value)
        if n < low:
            problems.append(
                problem(
                    path,
                    render_value(value, sensitive),
                    f"Member must have length greater than or equal to {low}",
                )
            )
        elif n > high:
            problems.append(
                problem(
                    path,
                    render_value(value, sensitive),
                    f"Member must have length less than or equal to {high}",
                )
            )

    return check


#: Past this many elements a list or map is refused unread (its elements are neither
#: decoded nor quoted in the message), whatever its own max.
UNREAD_ELEMENTS = DEFAULT_MAX_ELEMENTS


def too_many(path: str, high: int) -> str:
    """A list or map far over its max, refused before any element is read."""
    return problem(path, "'[...]'", f"Member must have length less than or equal to {high}")

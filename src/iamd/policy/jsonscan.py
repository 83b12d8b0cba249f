"""A small JSON scanner that keeps the position of every value.

Python's `json` module forgets where things are, and policy problems and matched statements
must point into the original text (1-based line and column, like SimulatePrincipalPolicy's
StartPosition/EndPosition). This scanner follows RFC 8259 strictly (no NaN, no trailing
commas, no raw control characters in strings), keeps object members in order *with*
duplicates (the validator reports them), keeps numbers as their source text, and limits
nesting depth so that hostile input cannot exhaust the stack, and the length of a number
(AWS's JSON parser, Jackson, refuses numbers over 1,000 characters by default; Python's
own `json`, which reads stored documents again, refuses integers over 4,300 digits).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Literal

MAX_DEPTH = 64
#: The longest number literal taken, in characters (sign, digits, fraction, exponent).
MAX_NUMBER_CHARS = 1000

NodeKind = Literal["object", "array", "string", "number", "true", "false", "null"]


@dataclass(frozen=True)
class Position:
    """1-based line and column into the original text."""

    line: int
    column: int


@dataclass(slots=True)
class Node:
    kind: NodeKind
    start: int  # offset of the first character
    end: int  # offset of the last character (inclusive)
    text: str = ""  # string value, or number source text
    members: list[tuple[Node, Node]] = field(default_factory=list)  # object: (key, value)
    items: list[Node] = field(default_factory=list)  # array

    def member(self, name: str) -> Node | None:
        for key, value in self.members:
            if key.text == name:
                return value
        return None


class JsonError(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class LineIndex:
    """Offset → Position."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self._starts.append(i + 1)

    def position(self, offset: int) -> Position:
        line = bisect_right(self._starts, offset)
        return Position(line, offset - self._starts[line - 1] + 1)


_WS = " \t\n\r"
_ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_DIGITS = "0123456789"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_ws(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WS:
            pos += 1
        self.pos = pos

    def value(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise JsonError(self.pos)
        self.skip_ws()
        if self.pos >= len(self.text):
            raise JsonError(self.pos)
        ch = self.text[self.pos]
        if ch == "{":
            return self.obj(depth)
        if ch == "[":
            return self.arr(depth)
        if ch == '"':
            return self.string()
        if ch == "-" or ch in _DIGITS:
            return self.number()
        for word in ("true", "false", "null"):
            if self.text.startswith(word, self.pos):
                start = self.pos
                self.pos += len(word)
                return Node(word, start, self.pos - 1)
        raise JsonError(self.pos)

    def obj(self, depth: int) -> Node:
        node = Node("object", self.pos, self.pos)
        self.pos += 1
        self.skip_ws()
        if self.peek() == "}":
            node.end = self.pos
            self.pos += 1
            return node
        while True:
            self.skip_ws()
            if self.peek() != '"':
                raise JsonError(self.pos)
            key = self.string()
            self.skip_ws()
            if self.peek() != ":":
                raise JsonError(self.pos)
            self.pos += 1
            node.members.append((key, self.value(depth + 1)))
            self.skip_ws()
            ch = self.peek()
            if ch == ",":
                self.pos += 1
                continue
            if ch == "}":
                node.end = self.pos
                self.pos += 1
                return node
            raise JsonError(self.pos)

    def arr(self, depth: int) -> Node:
        node = Node("array", self.pos, self.pos)
        self.pos += 1
        self.skip_ws()
        if self.peek() == "]":
            node.end = self.pos
            self.pos += 1
            return node
        while True:
            node.items.append(self.value(depth + 1))
            self.skip_ws()
            ch = self.peek()
            if ch == ",":
                self.pos += 1
                continue
            if ch == "]":
                node.end = self.pos
                self.pos += 1
                return node
            raise JsonError(self.pos)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def string(self) -> Node:
        text = self.text
        start = self.pos
        pos = start + 1
        out: list[str] = []
        while True:
            if pos >= len(text):
                raise JsonError(pos)
            ch = text[pos]
            if ch == '"':
                break
            if ch == "\\":
                esc = text[pos + 1 : pos + 2]
                if esc in _ESC:
                    out.append(_ESC[esc])
                    pos += 2
                elif esc == "u":
                    code = self.hex4(pos + 2)
                    pos += 6
                    if 0xD800 <= code < 0xDC00 and text.startswith("\\u", pos):
                        low = self.hex4(pos + 2)
                        if 0xDC00 <= low < 0xE000:
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            pos += 6
                    out.append(chr(code))
                else:
                    raise JsonError(pos)
            elif ord(ch) < 0x20:
                raise JsonError(pos)
            else:
                out.append(ch)
                pos += 1
        self.pos = pos + 1
        return Node("string", start, pos, "".join(out))

    def hex4(self, at: int) -> int:
        digits = self.text[at : at + 4]
        if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise JsonError(at)
        return int(digits, 16)

    def number(self) -> Node:
        text = self.text
        start = pos = self.pos
        if text[pos] == "-":
            pos += 1
        if pos < len(text) and text[pos] == "0":
            pos += 1
        elif pos < len(text) and text[pos] in _DIGITS:
            while pos < len(text) and text[pos] in _DIGITS:
                pos += 1
        else:
            raise JsonError(pos)
        if pos < len(text) and text[pos] == ".":
            pos += 1
            if pos >= len(text) or text[pos] not in _DIGITS:
                raise JsonError(pos)
            while pos < len(text) and text[pos] in _DIGITS:
                pos += 1
        if pos < len(text) and text[pos] in "eE":
            pos += 1
            if pos < len(text) and text[pos] in "+-":
                pos += 1
            if pos >= len(text) or text[pos] not in _DIGITS:
                raise JsonError(pos)
            while pos < len(text) and text[pos] in _DIGITS:
                pos += 1
        if pos - start > MAX_NUMBER_CHARS:
            raise JsonError(start + MAX_NUMBER_CHARS)
        self.pos = pos
        return Node("number", start, pos - 1, text[start:pos])


def scan(text: str) -> Node:
    """The JSON value that is the whole of `text`; raises JsonError(offset) otherwise."""
    scanner = _Scanner(text)
    node = scanner.value(0)
    scanner.skip_ws()
    if scanner.pos != len(text):
        raise JsonError(scanner.pos)
    return node

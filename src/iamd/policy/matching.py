"""Our own glob matcher for IAM wildcards (`*` = any run of characters, `?` = one character).

Policy text is never turned into a regular expression: a pattern is split once, at compile
time, into fixed-length pieces separated by `*`, and matched with plain string operations
(greedy leftmost placement, which is exact when every piece has a fixed length). Patterns
without wildcards compile to an equality test, `prefix*` to `startswith`.

`ArnGlob` applies the documented ARN rule: wildcards work within each colon-separated
segment, `*` also matches `/`, matching is case-sensitive, and a `*` that ends the last
segment a pattern has can expand across colon boundaries ("If the * wildcard is the last
character of a resource ARN segment, it can expand to match beyond the colon boundaries",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
The sixth segment (the resource part) is everything after the fifth colon, colons included.
"""

from __future__ import annotations

from collections.abc import Sequence

# A pattern may be assembled from parts whose wildcards are live (policy text) or dead
# (values substituted from variables, and the `${*}` / `${?}` escapes).
Part = tuple[str, bool]

_EXACT, _ANY, _PREFIX, _SUFFIX, _GENERAL = range(5)


class _Piece:
    """A run of characters between two `*`; `?` positions are holes of one character."""

    __slots__ = ("chunks", "first", "length", "plain")

    def __init__(self, chars: list[str | None]) -> None:
        self.length = len(chars)
        chunks: list[tuple[int, str]] = []
        start = 0
        buf: list[str] = []
        for i, ch in enumerate(chars):
            if ch is None:
                if buf:
                    chunks.append((start, "".join(buf)))
                buf = []
                start = i + 1
            else:
                buf.append(ch)
        if buf:
            chunks.append((start, "".join(buf)))
        self.chunks = tuple(chunks)
        self.plain = len(chunks) == 1 and chunks[0][0] == 0 and len(chunks[0][1]) == self.length
        self.first = "".join(ch or "" for ch in chars) if self.plain else ""

    def at(self, value: str, index: int) -> bool:
        if index + self.length > len(value):
            return False
        return all(value.startswith(chunk, index + off) for off, chunk in self.chunks)

    def find(self, value: str, start: int, stop: int) -> int:
        """Leftmost index i in [start, stop - length] where the piece matches, or -1."""
        if self.plain:
            return value.find(self.first, start, stop)
        last = stop - self.length
        i = start
        while i <= last:
            if self.at(value, i):
                return i
            i += 1
        return -1


class Glob:
    """A compiled wildcard pattern; `matches(value)` is the only operation."""

    __slots__ = ("_head", "_kind", "_middle", "_star", "_tail", "_text", "ignore_case", "source")

    def __init__(self, parts: Sequence[Part], *, ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        self.source = "".join(text for text, _ in parts)
        pieces: list[list[str | None]] = [[]]
        for raw, wild in parts:
            text = raw.lower() if ignore_case else raw
            for ch in text:
                if wild and ch == "*":
                    pieces.append([])
                elif wild and ch == "?":
                    pieces[-1].append(None)
                else:
                    pieces[-1].append(ch)
        compiled = [_Piece(p) for p in pieces]
        self._head = compiled[0]
        self._tail = compiled[-1]
        self._middle = tuple(p for p in compiled[1:-1] if p.length)
        self._text = ""
        if len(compiled) == 1:
            self._kind = _EXACT if self._head.plain or self._head.length == 0 else _GENERAL
            self._text = self._head.first
        elif len(compiled) == 2 and not self._head.length and not self._tail.length:
            self._kind = _ANY
        elif len(compiled) == 2 and self._head.plain and not self._tail.length:
            self._kind = _PREFIX
            self._text = self._head.first
        elif len(compiled) == 2 and self._tail.plain and not self._head.length:
            self._kind = _SUFFIX
            self._text = self._tail.first
        else:
            self._kind = _GENERAL
        self._star = len(compiled) > 1

    @classmethod
    def of(cls, text: str, *, ignore_case: bool = False) -> Glob:
        return cls(((text, True),), ignore_case=ignore_case)

    def matches(self, value: str) -> bool:
        if self.ignore_case:
            value = value.lower()
        kind = self._kind
        if kind == _EXACT:
            return value == self._text
        if kind == _ANY:
            return True
        if kind == _PREFIX:
            return value.startswith(self._text)
        if kind == _SUFFIX:
            return value.endswith(self._text)
        head, tail = self._head, self._tail
        if not self._star:
            return len(value) == head.length and head.at(value, 0)
        end = len(value) - tail.length
        if end < head.length or not head.at(value, 0) or not tail.at(value, end):
            return False
        pos = head.length
        for piece in self._middle:
            found = piece.find(value, pos, end)
            if found < 0:
                return False
            pos = found + piece.length
        return True


def split_parts(parts: Sequence[Part], sep: str, maxsplit: int) -> list[list[Part]]:
    """Split parts on `sep` found in any part (live or dead), at most `maxsplit` times."""
    out: list[list[Part]] = [[]]
    for text, wild in parts:
        pieces = text.split(sep)
        for i, piece in enumerate(pieces):
            if i:
                if len(out) <= maxsplit:
                    out.append([])
                else:
                    out[-1].append((sep, wild))
            if piece:
                out[-1].append((piece, wild))
    return out


class ArnGlob:
    """Per-segment ARN matching (case-sensitive), see the module docstring."""

    __slots__ = ("_open_tail", "_segments", "source")

    def __init__(self, parts: Sequence[Part]) -> None:
        self.source = "".join(text for text, _ in parts)
        segments = split_parts(parts, ":", 5)
        self._segments = tuple(Glob(seg) for seg in segments)
        last = segments[-1]
        self._open_tail = (
            len(segments) < 6 and bool(last) and last[-1][1] and last[-1][0].endswith("*")
        )

    @classmethod
    def of(cls, text: str) -> ArnGlob:
        return cls(((text, True),))

    def matches(self, value: str) -> bool:
        segments = self._segments
        count = len(segments)
        values = value.split(":", 5)
        if self._open_tail:
            if len(values) < count:
                return False
            for i in range(count - 1):
                if not segments[i].matches(values[i]):
                    return False
            return segments[-1].matches(":".join(values[count - 1 :]))
        if len(values) != count:
            return False
        for i in range(count):  # noqa: SIM110 (hot path)
            if not segments[i].matches(values[i]):
                return False
        return True

"""Policy variables: `${key}`, `${key, 'default'}` and the escapes `${*}`, `${?}`, `${$}`.

Variables exist only in policies with `"Version": "2012-10-17"`; under 2008-10-17 the text
is literal (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
A template is parsed once into literal parts (wildcards live), escaped characters
(wildcards dead) and variables. A variable resolves to the request's value for its key,
which must be single-valued; otherwise to its default; otherwise the template does not
resolve at all and the element it belongs to matches nothing. Substituted values are
literal text: a `*` inside a user name or tag value is not a wildcard.

Default values: comma, optional spaces, then a single-quoted string in which `''` stands
for one quote. Whitespace around the key name is ignored; key names are case-insensitive.
Malformed `${...` text (no closing brace, bad default) stays literal text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from iamd.policy.matching import Part

_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Variable:
    key: str  # as written
    key_lower: str
    default: str | None


TemplateItem = Part | Variable


@dataclass(frozen=True, slots=True)
class Template:
    """A string with variables; `items` are literal parts and `Variable`s in order."""

    items: tuple[TemplateItem, ...]
    source: str

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(item for item in self.items if isinstance(item, Variable))

    @property
    def has_variables(self) -> bool:
        return any(isinstance(item, Variable) for item in self.items)

    def literal_parts(self) -> tuple[Part, ...]:
        """The parts, when there is no variable to resolve."""
        return tuple(item for item in self.items if not isinstance(item, Variable))

    def resolve(self, lookup: Callable[[str], str | None]) -> tuple[Part, ...] | None:
        """Parts with variables substituted, or None when one cannot be resolved."""
        out: list[Part] = []
        for item in self.items:
            if isinstance(item, Variable):
                value = lookup(item.key_lower)
                if value is None:
                    value = item.default
                if value is None:
                    return None
                out.append((value, False))
            else:
                out.append(item)
        return tuple(out)


def _parse_inner(inner: str) -> TemplateItem | None:
    """The meaning of the text between `${` and `}`, or None when it is not a variable."""
    stripped = inner.strip()
    if stripped in _ESCAPES:
        return (_ESCAPES[stripped], False)
    name, comma, rest = inner.partition(",")
    name = name.strip()
    if not name or any(ch.isspace() or ch in "${}'" for ch in name):
        return None
    if not comma:
        return Variable(name, name.lower(), None)
    rest = rest.strip()
    if len(rest) < 2 or rest[0] != "'" or rest[-1] != "'":
        return None
    body = rest[1:-1]
    if body.replace("''", "").count("'"):
        return None
    return Variable(name, name.lower(), body.replace("''", "'"))


def _find_close(text: str, start: int) -> int:
    """Index of the `}` closing a `${` whose body starts at `start`, honouring quotes."""
    quoted = False
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif ch == "}" and not quoted:
            return i
        i += 1
    return -1


def parse_template(text: str, *, enabled: bool = True) -> Template:
    """Split `text` into parts and variables; with `enabled=False` all of it is literal."""
    if not enabled or "${" not in text:
        return Template(((text, True),) if text else (), text)
    items: list[TemplateItem] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            close = _find_close(text, i + 2)
            item = _parse_inner(text[i + 2 : close]) if close >= 0 else None
            if item is not None:
                if buf:
                    items.append(("".join(buf), True))
                    buf = []
                items.append(item)
                i = close + 1
                continue
        buf.append(text[i])
        i += 1
    if buf:
        items.append(("".join(buf), True))
    return Template(tuple(items), text)

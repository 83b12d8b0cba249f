"""Condition operators: a registry of small matcher builders, plus the qualifier wrappers.

Each base operator maps to a builder that turns the policy values of one key into a
function `(request_value, context) -> bool` telling whether the request value matches *any*
policy value (several values for one key are ORed). Negated operators (StringNotEquals,
NumericNotEquals, NotIpAddress, ArnNotLike, ...) reuse the positive builder: a request
value satisfies them when it matches *none* of the policy values (NOR). The wrappers then
decide how the request's values and a missing key combine
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):

- plain operator: key absent (or an empty list) → true for negated operators, false
  otherwise; a multivalued key given to a plain operator is true when any request value
  matches (negated: when no request value matches any policy value);
- `...IfExists`: key absent → true, otherwise the plain operator;
- `ForAllValues:`: every request value must satisfy the operator; true when the key is
  absent or empty;
- `ForAnyValue:`: at least one request value must satisfy it; false when absent or empty;
- `Null`: `"true"` matches when the key is absent, `"false"` when present (no IfExists).

Policy variables are honoured in String* and Arn* values (and, as the operators page
allows, in Bool). A value whose variable cannot be resolved matches nothing, so a negated
operator over it is true. Numeric, Date, IP and Binary values are literal.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from iamd.policy.context import RequestContext
from iamd.policy.matching import ArnGlob, Glob
from iamd.policy.variables import Template, parse_template

Matcher = Callable[[str, RequestContext], bool]
Builder = Callable[[Sequence[str], bool], Matcher]
ConditionTest = Callable[[RequestContext], bool]


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    build: Builder
    negated: bool
    family: str


# ---------------------------------------------------------------- value parsing


def parse_number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_EPOCH_DIGITS = 300


def parse_date(text: str) -> float | None:
    """Seconds since the epoch for a W3C/ISO-8601 date or an integer epoch, else None.

    IAM's legacy parser treats a value containing `t` or `-` as a date and anything else
    as an epoch integer.
    """
    raw = text.strip()
    if not raw:
        return None
    lowered = raw.lower()
    if "t" in lowered or "-" in lowered:
        candidate = raw[:-1] + "+00:00" if raw[-1] in "zZ" else raw
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    # An epoch integer with more digits than a float's range is no date (and `int` of
    # more than 4,300 digits raises).
    if raw.isdigit() and raw.isascii() and len(raw) <= _EPOCH_DIGITS:
        return float(int(raw))
    return None


def _decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


# ---------------------------------------------------------------- builders


def _templates(values: Sequence[str], variables: bool) -> list[Template]:
    return [parse_template(v, enabled=variables) for v in values]


def _joined(template: Template) -> str:
    return "".join(text for text, _ in template.literal_parts())


def _resolved_text(template: Template, ctx: RequestContext) -> str | None:
    parts = template.resolve(ctx.variable)
    return None if parts is None else "".join(text for text, _ in parts)


def _string_equals(values: Sequence[str], variables: bool) -> Matcher:
    templates = _templates(values, variables)
    literals = frozenset(_joined(t) for t in templates if not t.has_variables)
    dynamic = tuple(t for t in templates if t.has_variables)
    if not dynamic:
        return lambda v, ctx: v in literals

    def match(v: str, ctx: RequestContext) -> bool:
        return v in literals or any(_resolved_text(t, ctx) == v for t in dynamic)

    return match


def _string_equals_ignore_case(values: Sequence[str], variables: bool) -> Matcher:
    templates = _templates(values, variables)
    literals = frozenset(_joined(t).lower() for t in templates if not t.has_variables)
    dynamic = tuple(t for t in templates if t.has_variables)

    def match(v: str, ctx: RequestContext) -> bool:
        lowered = v.lower()
        if lowered in literals:
            return True
        for t in dynamic:
            text = _resolved_text(t, ctx)
            if text is not None and text.lower() == lowered:
                return True
        return False

    return match


def _like(glob_type: type[Glob] | type[ArnGlob]) -> Builder:
    """StringLike and ArnLike: the same wildcard matching, per string or per ARN segment."""

    def build(values: Sequence[str], variables: bool) -> Matcher:
        templates = _templates(values, variables)
        static = tuple(glob_type(t.literal_parts()) for t in templates if not t.has_variables)
        dynamic = tuple(t for t in templates if t.has_variables)

        def match(v: str, ctx: RequestContext) -> bool:
            for glob in static:
                if glob.matches(v):
                    return True
            for t in dynamic:
                parts = t.resolve(ctx.variable)
                if parts is not None and glob_type(parts).matches(v):
                    return True
            return False

        return match

    return build


_string_like = _like(Glob)
_arn_like = _like(ArnGlob)


def _ordered(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Builder:
    def build(values: Sequence[str], variables: bool) -> Matcher:
        bounds = tuple(b for b in (parse(v) for v in values) if b is not None)

        def match(v: str, ctx: RequestContext) -> bool:
            x = parse(v)
            return x is not None and any(test(x, b) for b in bounds)

        return match

    return build


def _bool(values: Sequence[str], variables: bool) -> Matcher:
    templates = _templates(values, variables)
    literals = frozenset(_joined(t).lower() for t in templates if not t.has_variables)
    dynamic = tuple(t for t in templates if t.has_variables)

    def match(v: str, ctx: RequestContext) -> bool:
        lowered = v.lower()
        if lowered in literals:
            return True
        return any((_resolved_text(t, ctx) or "\0").lower() == lowered for t in dynamic)

    return match


def _binary(values: Sequence[str], variables: bool) -> Matcher:
    wanted = frozenset(b for b in (_decode_base64(v) for v in values) if b is not None)

    def match(v: str, ctx: RequestContext) -> bool:
        decoded = _decode_base64(v)
        return decoded is not None and decoded in wanted

    return match


def _ip(values: Sequence[str], variables: bool) -> Matcher:
    networks = tuple(n for n in (parse_network(v) for v in values) if n is not None)

    def match(v: str, ctx: RequestContext) -> bool:
        try:
            address = ipaddress.ip_address(v.strip())
        except ValueError:
            return False
        return any(address.version == n.version and address in n for n in networks)

    return match


def _eq(a: float, b: float) -> bool:
    return a == b


def _lt(a: float, b: float) -> bool:
    return a < b


def _le(a: float, b: float) -> bool:
    return a <= b


def _gt(a: float, b: float) -> bool:
    return a > b


def _ge(a: float, b: float) -> bool:
    return a >= b


def _registry() -> dict[str, Operator]:
    ops: list[Operator] = [
        Operator("StringEquals", _string_equals, False, "string"),
        Operator("StringNotEquals", _string_equals, True, "string"),
        Operator("StringEqualsIgnoreCase", _string_equals_ignore_case, False, "string"),
        Operator("StringNotEqualsIgnoreCase", _string_equals_ignore_case, True, "string"),
        Operator("StringLike", _string_like, False, "string"),
        Operator("StringNotLike", _string_like, True, "string"),
        Operator("Bool", _bool, False, "bool"),
        Operator("BinaryEquals", _binary, False, "binary"),
        Operator("IpAddress", _ip, False, "ip"),
        Operator("NotIpAddress", _ip, True, "ip"),
        Operator("ArnEquals", _arn_like, False, "arn"),
        Operator("ArnLike", _arn_like, False, "arn"),
        Operator("ArnNotEquals", _arn_like, True, "arn"),
        Operator("ArnNotLike", _arn_like, True, "arn"),
    ]
    for family, parse in (("Numeric", parse_number), ("Date", parse_date)):
        kind = family.lower()
        ops += [
            Operator(f"{family}Equals", _ordered(parse, _eq), False, kind),
            Operator(f"{family}NotEquals", _ordered(parse, _eq), True, kind),
            Operator(f"{family}LessThan", _ordered(parse, _lt), False, kind),
            Operator(f"{family}LessThanEquals", _ordered(parse, _le), False, kind),
            Operator(f"{family}GreaterThan", _ordered(parse, _gt), False, kind),
            Operator(f"{family}GreaterThanEquals", _ordered(parse, _ge), False, kind),
        ]
    return {op.name: op for op in ops}


OPERATORS: dict[str, Operator] = _registry()
NULL = "Null"
QUALIFIERS = ("ForAllValues:", "ForAnyValue:")
IF_EXISTS = "IfExists"


@dataclass(frozen=True, slots=True)
class OperatorName:
    """A parsed operator name such as `ForAnyValue:StringLikeIfExists`."""

    base: str  # a key of OPERATORS, or "Null"
    qualifier: str | None  # "ForAllValues" | "ForAnyValue" | None
    if_exists: bool


def parse_operator_name(name: str) -> OperatorName | None:
    """The parts of an operator name, or None when IAM does not know it (case-sensitive)."""
    qualifier = None
    rest = name
    for prefix in QUALIFIERS:
        if name.startswith(prefix):
            qualifier = prefix[:-1]
            rest = name[len(prefix) :]
            break
    if rest == NULL:
        return None if qualifier else OperatorName(NULL, None, False)
    if_exists = rest.endswith(IF_EXISTS)
    if if_exists:
        rest = rest[: -len(IF_EXISTS)]
    if rest not in OPERATORS:
        return None
    return OperatorName(rest, qualifier, if_exists)


# ---------------------------------------------------------------- wrappers


def _plain(key: str, single: Matcher, negated: bool) -> ConditionTest:
    if negated:

        def test_negated(ctx: RequestContext) -> bool:
            values = ctx.values(key)
            if not values:
                return True
            return not any(single(v, ctx) for v in values)

        return test_negated

    def test(ctx: RequestContext) -> bool:
        values = ctx.values(key)
        if not values:
            return False
        return any(single(v, ctx) for v in values)

    return test


def _for_all_values(key: str, single: Matcher, negated: bool) -> ConditionTest:
    def test(ctx: RequestContext) -> bool:
        values = ctx.values(key)
        if not values:
            return True
        return all(single(v, ctx) != negated for v in values)

    return test


def _for_any_value(key: str, single: Matcher, negated: bool) -> ConditionTest:
    def test(ctx: RequestContext) -> bool:
        values = ctx.values(key)
        if not values:
            return False
        return any(single(v, ctx) != negated for v in values)

    return test


def _if_exists(key: str, inner: ConditionTest) -> ConditionTest:
    def test(ctx: RequestContext) -> bool:
        return ctx.values(key) is None or inner(ctx)

    return test


def _null(key: str, values: Sequence[str]) -> ConditionTest:
    wanted = {v.strip().lower() for v in values}
    want_absent = "true" in wanted
    want_present = "false" in wanted

    def test(ctx: RequestContext) -> bool:
        present = bool(ctx.values(key))
        return (want_present and present) or (want_absent and not present)

    return test


def _never(ctx: RequestContext) -> bool:
    return False


def build_condition(
    operator: str, key: str, values: Sequence[str], *, variables: bool
) -> ConditionTest:
    """The test for one (operator, key, values) triple; an unknown operator never matches."""
    parsed = parse_operator_name(operator)
    key_lower = key.lower()
    if parsed is None:
        return _never
    if parsed.base == NULL:
        return _null(key_lower, values)
    op = OPERATORS[parsed.base]
    single = op.build(values, variables)
    if parsed.qualifier == "ForAllValues":
        test = _for_all_values(key_lower, single, op.negated)
    elif parsed.qualifier == "ForAnyValue":
        test = _for_any_value(key_lower, single, op.negated)
    else:
        test = _plain(key_lower, single, op.negated)
    return _if_exists(key_lower, test) if parsed.if_exists else test

"""Property tests: the glob matcher against a DP reference, variables, and a parser that
never raises."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.policy import PolicyKind, RequestContext, check_policy, compile_policy, evaluate
from iamd.policy.matching import ArnGlob, Glob, Part
from iamd.policy.variables import Variable, parse_template

ALPHABET = "ab/:*?"
VALUES = "ab/:"


def reference_match(pattern: list[tuple[str, bool]], value: str) -> bool:
    """Dynamic programming over (pattern token, value index); tokens carry liveness."""
    tokens = [(ch, wild) for text, wild in pattern for ch in text]
    n, m = len(tokens), len(value)
    table = [[False] * (m + 1) for _ in range(n + 1)]
    table[0][0] = True
    for i in range(1, n + 1):
        ch, wild = tokens[i - 1]
        for j in range(m + 1):
            if wild and ch == "*":
                table[i][j] = table[i - 1][j] or (j > 0 and table[i][j - 1])
            elif j > 0 and ((wild and ch == "?") or ch == value[j - 1]):
                table[i][j] = table[i - 1][j - 1]
    return table[n][m]


patterns = st.text(alphabet=ALPHABET, max_size=12)
values = st.text(alphabet=VALUES, max_size=14)
parts = st.lists(st.tuples(st.text(alphabet=ALPHABET, max_size=5), st.booleans()), max_size=4)


@given(patterns, values)
@settings(max_examples=600)
def test_glob_matches_reference(pattern: str, value: str) -> None:
    assert Glob.of(pattern).matches(value) == reference_match([(pattern, True)], value)


@given(parts, values)
@settings(max_examples=400)
def test_glob_with_dead_wildcards_matches_reference(pattern: list[Part], value: str) -> None:
    assert Glob(pattern).matches(value) == reference_match(pattern, value)


@given(patterns, values)
def test_glob_ignore_case(pattern: str, value: str) -> None:
    expected = reference_match([(pattern.lower(), True)], value.lower())
    assert Glob.of(pattern.upper(), ignore_case=True).matches(value.swapcase()) == expected


segment = st.text(alphabet="ab*?/", max_size=4)


@given(
    st.lists(segment, min_size=6, max_size=6),
    st.lists(st.text(alphabet="ab/", max_size=4), min_size=6, max_size=6),
)
def test_arn_glob_is_per_segment(pattern: list[str], value: list[str]) -> None:
    expected = all(reference_match([(p, True)], v) for p, v in zip(pattern, value, strict=True))
    assert ArnGlob.of(":".join(pattern)).matches(":".join(value)) == expected


names = st.text(alphabet="abcXYZ:/", min_size=1, max_size=8).filter(lambda s: s.strip() == s)
literal = st.text(alphabet="abc*?/ ", max_size=6)


@given(
    st.lists(
        st.one_of(
            literal, names.map(lambda n: ("var", n)), st.sampled_from(["${*}", "${?}", "${$}"])
        ),
        max_size=5,
    ),
    st.dictionaries(names, st.text(max_size=5)),
)
def test_variable_substitution(pieces: list[object], values: dict[str, str]) -> None:
    text = "".join(f"${{{p[1]}}}" if isinstance(p, tuple) else str(p) for p in pieces)
    template = parse_template(text)
    lookup = {k.lower(): v for k, v in values.items()}
    resolved = template.resolve(lookup.get)
    expected_missing = any(isinstance(p, tuple) and p[1].lower() not in lookup for p in pieces)
    assert (resolved is None) == expected_missing
    if resolved is not None:
        expected = ""
        for p in pieces:
            if isinstance(p, tuple):
                expected += lookup[p[1].lower()]
            else:
                expected += {"${*}": "*", "${?}": "?", "${$}": "$"}.get(str(p), str(p))
        assert "".join(t for t, _ in resolved) == expected
        # substituted values and escapes never act as wildcards
        assert Glob(resolved).matches(expected)


@given(st.text(alphabet="abc", max_size=5), st.text(alphabet="abc' ", max_size=6))
def test_variable_defaults(name: str, default: str) -> None:
    quoted = default.replace("'", "''")
    template = parse_template(f"${{aws:{name}, '{quoted}'}}")
    assert template.items == (Variable(f"aws:{name}", f"aws:{name}".lower(), default),)
    assert template.resolve(lambda key: None) == ((default, False),)


def test_variables_disabled_are_literal() -> None:
    template = parse_template("a${aws:username}b", enabled=False)
    assert not template.has_variables


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    for kind in PolicyKind:
        problems = check_policy(text, kind)
        assert all(p.message for p in problems)
        policy = compile_policy(text, kind, "x")
        assert policy.valid == (not [p for p in problems if p.kind == "error"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="AaSs*:/ {}", max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Version",
                    "Statement",
                    "Effect",
                    "Action",
                    "Resource",
                    "Condition",
                    "Sid",
                    "StringLike",
                    "aws:x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(json_values)
@settings(max_examples=300)
def test_parser_never_raises_on_json_shaped_input(value: object) -> None:
    text = json.dumps(value)
    for kind in PolicyKind:
        check_policy(text, kind)
        policy = compile_policy(text, kind, "x")
        decision = evaluate(RequestContext("s3:GetObject", "*", {"aws:x": "y"}), [policy])
        if not policy.valid:
            assert decision.effect.value == "explicitDeny"


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    assert check_policy("[" * 100_000, PolicyKind.IDENTITY)[0].message == "Syntax errors in policy."

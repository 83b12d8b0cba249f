"""Write-path checks: every MalformedPolicyDocument rule, with AWS's message and a location."""

from __future__ import annotations

import json

import pytest

from iamd.policy import PolicyKind, Position, Problem, check_policy, compile_policy
from iamd.policy.document import IAM_RESOURCE_PATH, SID_CHARS

SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"


def _doc(statement: object, version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": [statement]})


def _stmt(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def _messages(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> list[str]:
    return [p.message for p in check_policy(text, kind)]


CASES: list[tuple[str, str, list[str]]] = [
    ("not json", "{", [SYNTAX]),
    ("not an object", "[]", [SYNTAX]),
    ("trailing garbage", '{"Statement": []} x', [SYNTAX]),
    ("unknown top-level key", json.dumps({"Statement": [_stmt()], "Foo": 1}), [SYNTAX]),
    ("bad version", _doc(_stmt(), version="2012-10-18"), [SYNTAX]),
    ("no statement", json.dumps({"Version": "2012-10-17"}), [SYNTAX]),
    ("empty statement list", json.dumps({"Version": "2012-10-17", "Statement": []}), [SYNTAX]),
    ("statement not an object", json.dumps({"Statement": ["x"]}), [SYNTAX]),
    ("unknown statement key", _doc(_stmt(Foo="x")), [SYNTAX]),
    ("effect lower case", _doc(_stmt(Effect="allow")), [LEGACY]),
    ("effect unknown", _doc(_stmt(Effect="Permit")), [SYNTAX]),
    ("effect missing", _doc(_stmt(Effect=None)), [SYNTAX]),
    ("effect not a string", _doc(_stmt(Effect=1)), [SYNTAX]),
    ("no action", _doc(_stmt(Action=None)), ["Policy statement must contain actions."]),
    ("empty action list", _doc(_stmt(Action=[])), ["Policy statement must contain actions."]),
    ("action and notaction", _doc(_stmt(NotAction="s3:*")), [SYNTAX]),
    ("action not a string", _doc(_stmt(Action=[1])), [SYNTAX]),
    (
        "action without vendor",
        _doc(_stmt(Action="GetObject")),
        ["Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."],
    ),
    (
        "action with two colons",
        _doc(_stmt(Action="s3:Get:Object")),
        ["Actions/Condition can contain only one colon."],
    ),
    ("bad vendor", _doc(_stmt(Action="s*3:GetObject")), ["Vendor s*3 is not valid"]),
    ("no resource", _doc(_stmt(Resource=None)), ["Policy statement must contain resources."]),
    ("resource and notresource", _doc(_stmt(NotResource="*")), [SYNTAX]),
    (
        "resource not an arn",
        _doc(_stmt(Resource="bucket")),
        ['Resource bucket must be in ARN format or "*".'],
    ),
    ("resource too few colons", _doc(_stmt(Resource="arn:aws:iam::user/x")), [LEGACY]),
    (
        "bad partition",
        _doc(_stmt(Resource="arn:aws2:s3:::b")),
        ['Partition "aws2" is not valid for resource "arn:aws2:s3:::b".'],
    ),
    (
        "wildcard vendor",
        _doc(_stmt(Resource="arn:aws:s*:::b")),
        ["Resource vendor must be fully qualified and cannot contain regexes."],
    ),
    (
        "iam resource with region",
        _doc(_stmt(Resource="arn:aws:iam:us-east-1:123456789012:user/x")),
        [
            "IAM resource arn:aws:iam:us-east-1:123456789012:user/x"
            " cannot contain region information."
        ],
    ),
    (
        # AWS's S3 wording, "can not" (aws/aws-cdk#22445).
        "s3 resource with region",
        _doc(_stmt(Resource="arn:aws:s3:us-west-2:123456789012:test/athena")),
        [
            "Resource arn:aws:s3:us-west-2:123456789012:test/athena can not contain"
            + " region information."
        ],
    ),
    (
        "iam resource path",
        _doc(_stmt(Resource="arn:aws:iam::123456789012:bucket/x")),
        [IAM_RESOURCE_PATH],
    ),
    (
        "principal in identity policy",
        _doc(_stmt(Principal="*")),
        ["Policy document should not specify a principal."],
    ),
    (
        "notprincipal in identity policy",
        _doc(_stmt(NotPrincipal={"AWS": "*"})),
        ["Policy document should not specify a principal."],
    ),
    ("sid not alphanumeric", _doc(_stmt(Sid="my-sid")), [SID_CHARS]),
    ("sid not a string", _doc(_stmt(Sid=1)), [SYNTAX]),
    ("condition not an object", _doc(_stmt(Condition="x")), [SYNTAX]),
    (
        "condition operator body not an object",
        _doc(_stmt(Condition={"StringEquals": "x"})),
        [SYNTAX],
    ),
    ("unknown operator", _doc(_stmt(Condition={"StringEqualz": {"aws:username": "x"}})), [SYNTAX]),
    (
        "IfExists on Null",
        _doc(_stmt(Condition={"NullIfExists": {"aws:username": "true"}})),
        [SYNTAX],
    ),
    (
        "operator names are case-sensitive",
        _doc(_stmt(Condition={"stringequals": {"aws:username": "x"}})),
        [SYNTAX],
    ),
    (
        "condition value object",
        _doc(_stmt(Condition={"StringEquals": {"aws:username": {"a": 1}}})),
        [SYNTAX],
    ),
    (
        "condition value null",
        _doc(_stmt(Condition={"StringEquals": {"aws:username": None}})),
        [SYNTAX],
    ),
    (
        "bad date",
        _doc(_stmt(Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-13-01T00:00:00Z"}})),
        [LEGACY],
    ),
    ("negative epoch", _doc(_stmt(Condition={"DateLessThan": {"aws:EpochTime": "-1"}})), [LEGACY]),
    (
        "non-numeric date",
        _doc(_stmt(Condition={"DateLessThan": {"aws:CurrentTime": "soon"}})),
        [LEGACY],
    ),
]


@pytest.mark.parametrize(("name", "text", "messages"), CASES, ids=[c[0] for c in CASES])
def test_malformed(name: str, text: str, messages: list[str]) -> None:
    problems = check_policy(text, PolicyKind.IDENTITY)
    assert [p.message for p in problems] == messages
    assert all(p.kind == "error" and p.start is not None and p.end is not None for p in problems)


VALID = [
    _doc(_stmt()),
    _doc(_stmt(Sid="")),
    json.dumps({"Statement": _stmt()}),
    _doc(_stmt(Condition={"StringEqualz": {}})),  # unknown operator with empty body is ignored
    _doc(_stmt(Condition={"DateGreaterThan": {"aws:CurrentTime": ["2020-01-01", "1577836800"]}})),
    _doc(
        _stmt(
            Condition={
                "Bool": {"aws:SecureTransport": True},
                "NumericLessThan": {"s3:max-keys": 10},
            }
        )
    ),
    _doc(_stmt(Resource="arn:aws:iam::*:user/${aws:username}")),
    _doc(_stmt(Action="*", Resource=["arn:aws:s3:::b", "arn:aws:s3:::b/*"])),
    _doc(_stmt(Condition={"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*"]}})),
    # A condition key without a vendor prefix is accepted, as AWS accepts it
    # (act-security-labs/iam-simulate#55).
    _doc(_stmt(Condition={"StringEquals": {"username": "x"}})),
    # Regions are fine in other services' ARNs.
    _doc(_stmt(Resource="arn:aws:sqs:us-east-1:123456789012:queue")),
]


@pytest.mark.parametrize("text", VALID)
def test_valid(text: str) -> None:
    assert check_policy(text, PolicyKind.IDENTITY) == []


def _span(text: str, needle: str, occurrence: int = 0) -> tuple[Position, Position]:
    """Start and end (inclusive) of the n-th occurrence of `needle`, counted by hand."""
    offset = -1
    for _ in range(occurrence + 1):
        offset = text.index(needle, offset + 1)
    last = offset + len(needle) - 1

    def pos(at: int) -> Position:
        line = text.count("\n", 0, at) + 1
        return Position(line, at - (text.rfind("\n", 0, at) + 1) + 1)

    return pos(offset), pos(last)


def test_every_problem_is_reported_with_its_location() -> None:
    text = (
        "{\n"
        '  "Version": "2012-10-17",\n'
        '  "Statement": [\n'
        '    {"Sid": "a", "Effect": "allow", "Action": "s3", "Resource": "*"},\n'
        '    {"Sid": "a", "Effect": "Allow", "Action": "s3:x", "Resource": "x"}\n'
        "  ]\n"
        "}"
    )
    problems = check_policy(text, PolicyKind.IDENTITY)
    vendor = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    # In the order AWS's validation meets them: legacy parsing, Sid uniqueness, the
    # resource's format, the action's prefix.
    assert problems == [
        Problem(LEGACY, *_span(text, '"allow"'), "error"),
        Problem(
            "Statement IDs (SID) in a single policy must be unique.",
            *_span(text, '"a"', 1),
            "error",
        ),
        Problem('Resource x must be in ARN format or "*".', *_span(text, '"x"'), "error"),
        Problem(vendor, *_span(text, '"s3"'), "error"),
    ]
    assert _span(text, '"allow"') == (Position(4, 28), Position(4, 34))


def test_json_error_location() -> None:
    problems = check_policy(
        '{\n  "Version": "2012-10-17",\n  "Statement": [,]\n}', PolicyKind.IDENTITY
    )
    assert problems == [Problem(SYNTAX, Position(3, 17), Position(3, 17), "error")]


def test_duplicate_keys_are_rejected_at_the_second_key() -> None:
    text = '{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}}'
    assert check_policy(text, PolicyKind.IDENTITY) == [
        Problem(SYNTAX, Position(1, 35), Position(1, 42), "error")
    ]


def test_oversize_is_a_limit_problem() -> None:
    text = _doc(_stmt())
    size = len("".join(text.split()))
    assert check_policy(text, PolicyKind.IDENTITY, max_size=size) == []
    problems = check_policy(text + "   \n ", PolicyKind.IDENTITY, max_size=size - 1)
    assert [(p.kind, p.message) for p in problems] == [
        ("limit", f"Cannot exceed quota for PolicySize: {size - 1}")
    ]


def test_trust_policy_rules() -> None:
    base = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    ok = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{**base, "Principal": {"Service": "ec2.amazonaws.com"}}],
        }
    )
    assert check_policy(ok, PolicyKind.TRUST) == []
    missing = json.dumps({"Version": "2012-10-17", "Statement": [base]})
    assert _messages(missing, PolicyKind.TRUST) == ["Missing required field Principal"]
    with_resource = json.dumps(
        {"Version": "2012-10-17", "Statement": [{**base, "Principal": "*", "Resource": "*"}]}
    )
    assert _messages(with_resource, PolicyKind.TRUST) == ["Has prohibited field Resource"]
    bad = json.dumps(
        {"Statement": [{**base, "Principal": {"AWS": "arn:aws:iam::123456789012:user/*"}}]}
    )
    assert _messages(bad, PolicyKind.TRUST) == [
        'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"'
    ]
    bad_type = json.dumps({"Statement": [{**base, "Principal": {"Group": "x"}}]})
    assert _messages(bad_type, PolicyKind.TRUST) == [SYNTAX]


def test_resource_policy_allows_sids_with_spaces() -> None:
    text = _doc(_stmt(Sid="Allow read", Principal={"AWS": "123456789012"}))
    assert check_policy(text, PolicyKind.RESOURCE) == []
    assert _messages(_doc(_stmt()), PolicyKind.RESOURCE) == ["Missing required field Principal"]


@pytest.mark.parametrize("kind", [PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION])
def test_broken_policy_compiles_to_deny_everything(kind: PolicyKind) -> None:
    from iamd.policy import Effect, RequestContext, evaluate

    broken = compile_policy(_doc(_stmt(Effect="allow")), kind, "p")
    assert not broken.valid
    assert broken.problems
    allow = compile_policy(_doc(_stmt(Action="*")), PolicyKind.IDENTITY, "ok")
    decision = (
        evaluate(
            RequestContext("s3:GetObject", "*", {}),
            [allow],
            boundary=[broken] if kind is PolicyKind.BOUNDARY else None,
            session=[broken] if kind is PolicyKind.SESSION else None,
        )
        if kind is not PolicyKind.IDENTITY
        else evaluate(RequestContext("s3:GetObject", "*", {}), [allow, broken])
    )
    assert decision.effect is Effect.EXPLICIT_DENY
    assert compile_policy("not json", kind, "x").statements[0].deny


NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ORDER_CASES = [
    # (first statement's fault, second statement's fault) -> the message AWS gives.
    (
        "a prefix fault before a duplicate Sid",
        [_stmt(Sid="s", Action="GetUser"), _stmt(Sid="s")],
        "Statement IDs (SID) in a single policy must be unique.",
    ),
    (
        "a resource fault before a missing action",
        [_stmt(Resource="nope"), _stmt(Action=None)],
        "Policy statement must contain actions.",
    ),
    (
        "a prefix fault before legacy parsing",
        [_stmt(Action="iam:Get:User"), _stmt(Effect="allow")],
        LEGACY,
    ),
    (
        "a prefix fault before a resource fault",
        [_stmt(Action="GetUser"), _stmt(Resource="nope")],
        'Resource nope must be in ARN format or "*".',
    ),
    ("a resource fault before a syntax error", [_stmt(Resource="nope"), _stmt(Foo="x")], SYNTAX),
]


@pytest.mark.parametrize(
    ("name", "statements", "first"), ORDER_CASES, ids=[case[0] for case in ORDER_CASES]
)
def test_several_faults_answer_with_the_one_aws_checks_first(
    name: str, statements: list[dict[str, object]], first: str
) -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    assert _messages(text)[0] == first, name

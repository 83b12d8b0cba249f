"""Fuzzing the request content edge through a real server: generated bad input for the
Query codec (IAM, STS), the JSON codec (CodeCommit) and the sign-in endpoint must never
answer a server error (5xx) other than the documented 501 NotImplemented, nor log a
traceback.

Requests are signed with the admin's key, so that they reach the codecs and the
operations behind them. Hypothesis runs derandomized (the same examples on every run)
with no example database, and each target is bounded in examples, so the module takes
seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.protocol.values import InputGenerator
from tests.support import raw_requests
from tests.support.servers import RunningServer, start_server

from iamd.protocol.service_model import POLICY_DOCUMENT_SHAPE, load_service_model

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

IAM = load_service_model("iam")
STS = load_service_model("sts")
CODECOMMIT = load_service_model("codecommit")

# Values that broke, or could break, a codec: huge digit strings, signs, NaN, lone
# surrogates, control characters, non-ASCII digits, policy documents with odd numbers.
# Lengths around the limits: a long, an int64, a float's range, Python's int() limit.
_DIGITS = st.sampled_from([1, 10, 11, 19, 20, 309, 1001, 4300, 4301, 6000]).map(lambda n: "9" * n)
_POLICIES = st.sampled_from(
    [
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",'
        '"Condition":{"NumericEquals":{"aws:EpochTime":' + "9" * 5000 + "}}}}",
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",'
        '"Condition":{"DateLessThan":{"aws:CurrentTime":' + "9" * 900 + "}}}}",
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",'
        '"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":1e999}}}}',
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",'
        '"Resource":"*","Condition":{"StringEquals":{"s3:x":"\\ud800"}}}}',
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"\\udfff"},'
        '"Action":"sts:AssumeRole"}}',
        '{"Version":"2012-10-17","Statement":' + "[" * 3000,
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}',
    ]
)
_NASTY_TEXT = st.sampled_from(
    [
        "",
        "-",
        "+1",
        "0",
        "-0",
        "00",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "1.5",
        "２",
        "²",
        "true",
        "null",
        "\x00",
        "\r\n",
        "\ufffe",
        "\ud800",
        "a\udfffb",
        "*",
        "arn:aws:iam::123456789012:user/admin",
        "arn:aws:iam::123456789012:user/" + "a" * 600,
        "2024-01-01T00:00:00Z",
        "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00-14:00",
        "[" * 3000,
    ]
)
_VALUES = st.one_of(
    _NASTY_TEXT,
    _DIGITS,
    _POLICIES,
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=100, max_size=3000),
)
_INDEXES = st.one_of(
    st.integers(min_value=0, max_value=1200).map(str),
    _DIGITS,
    st.sampled_from(["01", "-1", "١", "1.5", ""]),
)


def _shape_keys(shape: Any, prefix: str, depth: int) -> st.SearchStrategy[str]:
    """Form keys that reach into `shape` the way botocore lays them out, with indexes
    that may be huge, zero, non-canonical or not digits at all."""
    if depth > 3 or shape.type_name not in ("structure", "list", "map"):
        return st.just(prefix)
    if shape.type_name == "structure":
        members = sorted(shape.members.items())
        if not members:
            return st.just(prefix)
        return st.sampled_from(members).flatmap(
            lambda item: _shape_keys(
                item[1], f"{prefix}.{item[0]}" if prefix else item[0], depth + 1
            )
        )
    if shape.type_name == "list":
        return _INDEXES.flatmap(
            lambda index: _shape_keys(shape.member, f"{prefix}.member.{index}", depth + 1)
        )
    return st.tuples(_INDEXES, st.sampled_from(["key", "value"])).map(
        lambda pair: f"{prefix}.entry.{pair[0]}.{pair[1]}"
    )


def _operation_keys(model: Any, operation: str) -> st.SearchStrategy[str]:
    shape = model.operation_model(operation).input_shape
    known = st.just("Version") if shape is None else _shape_keys(shape, "", 0)
    return st.one_of(known, known, known, st.just("Version"), st.text(max_size=20))


# Raw pieces spliced into a form as they are: broken escapes, invalid UTF-8, repeats.
_RAW_PIECES = st.sampled_from(
    [b"%", b"%f", b"%ff", b"%ed%a0%80", b"\xff", b"&&", b"=", b"Action=GetUser", b"a=%zz"]
)


@cache
def _valid_params(model: Any, operation: str, seed: int, full: bool) -> dict[str, Any]:
    """Parameters the operation's model accepts, as botocore would send them."""
    op = model.operation_model(operation)
    if op.input_shape is None:
        return {}
    params = InputGenerator(seed).structure(op.input_shape, full=full)
    serialized = create_serializer(model.protocol).serialize_to_request(params, op)["body"]
    if isinstance(serialized, dict):
        return serialized
    return dict(json.loads(serialized or b"{}"))


def _interesting(model: Any) -> list[str]:
    """Operations that take a policy document or a list: where bad input did harm."""
    found = []
    for name in sorted(model.operation_names):
        shape = model.operation_model(name).input_shape
        members = {} if shape is None else shape.members
        if any(
            m.name == POLICY_DOCUMENT_SHAPE or m.type_name in ("list", "map")
            for m in members.values()
        ):
            found.append(name)
    return found


INTERESTING = {"iam": _interesting(IAM), "sts": _interesting(STS)}


@st.composite
def query_forms(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    """A valid request of a random operation, then a few of its values replaced by bad
    ones and a few keys added, so the bad input reaches deep into the operation."""
    service, model = draw(st.sampled_from([("iam", IAM), ("iam", IAM), ("iam", IAM), ("sts", STS)]))
    operation = draw(
        st.one_of(
            st.sampled_from(sorted(model.operation_names)),
            st.sampled_from(INTERESTING[service]),
        )
    )
    form: dict[str, Any] = {"Action": operation, "Version": model.api_version}
    form.update(_valid_params(model, operation, draw(st.integers(0, 20)), draw(st.booleans())))
    keys = sorted(form.keys() - {"Action", "Version"}) or ["Version"]
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        form[key] = draw(_VALUES)
    for key in keys:
        if "Policy" in key and draw(st.booleans()):
            form[key] = draw(_POLICIES)
    for key, value in draw(
        st.lists(st.tuples(_operation_keys(model, operation), _VALUES), max_size=4)
    ):
        form[key] = value
    body = "&".join(f"{_escape(k)}={_escape(v)}" for k, v in form.items()).encode()
    if draw(st.booleans()):
        body += b"&" + draw(_RAW_PIECES)
    # The query string instead of the body, now and then (the same decoding path).
    return service, body, draw(st.integers(0, 3)) == 0


def _escape(value: object) -> str:
    # Lone surrogates are sent as the (invalid) UTF-8 bytes Python would make of them;
    # botocore's serializer leaves some numbers as int.
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    return quote(str(value), safe="", errors="surrogatepass")


def _json_member_names(operation: str) -> list[str]:
    shape = CODECOMMIT.operation_model(operation).input_shape
    return [] if shape is None else sorted(shape.members)


# Python's json writes NaN and Infinity for such floats, and \udXXX for lone surrogates.
_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    _NASTY_TEXT,
    _POLICIES,
    st.text(max_size=30),
)
_JSON_KEYS = st.one_of(_NASTY_TEXT, st.text(max_size=8))


def _json_values(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_JSON_KEYS, children, max_size=4),
    )


_JSON = st.recursive(_JSON_LEAVES, _json_values, max_leaves=12)
# A header value is Latin-1 text; printable ASCII is what an operation name could be.
_HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
_RAW_JSON = st.sampled_from(
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'"x"',
        b"\xff\xfe",
        b'{"repositoryName": NaN}',
        b'{"repositoryName": "x", "maxResults": Infinity}',
        b'{"repositoryName": "\\ud800"}',
        b'{"repositoryName": "ok", "repositoryDescription": "\\udc00\\ud800"}',
        b'{"repositoryName": "ok", "tags": {"\\ud800": "v"}}',
        b'{"repositoryNames": ["\\ud800"]}',
        b'{"maxResults": ' + b"9" * 5000 + b"}",
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"[" * 100000,
    ]
)
# A number no json.dumps would write (Python refuses to print ints past 4,300 digits).
_HUGE_NUMBER = b"9" * 5000


@st.composite
def json_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    operation = draw(st.sampled_from(sorted(CODECOMMIT.operation_names)))
    target = draw(st.one_of(st.just(operation), st.just(operation), _HEADER_TEXT))
    kind = draw(st.sampled_from(["model", "model", "raw"]))
    if kind == "raw":
        return target, draw(_RAW_JSON)
    document = dict(
        _valid_params(CODECOMMIT, operation, draw(st.integers(0, 20)), draw(st.booleans()))
    )
    names = _json_member_names(operation) or ["x"]
    members = st.sampled_from([n[:1].lower() + n[1:] for n in names])
    for key in draw(st.lists(members, max_size=3, unique=True)):
        document[key] = draw(_JSON)
    body = json.dumps(document).encode()
    replace_one = draw(st.booleans())
    if document and replace_one:
        # One member's value replaced by a number no json.dumps would write.
        key = draw(st.sampled_from(sorted(document)))
        document[key] = "HUGE-NUMBER"
        body = json.dumps(document).encode().replace(b'"HUGE-NUMBER"', _HUGE_NUMBER)
    return target, body


_SIGN_IN_FIELDS = st.sampled_from(["account", "userName", "password", "newPassword", "x"])


@st.composite
def sign_in_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["json", "json", "form", "raw", "huge"]))
    if kind == "json":
        document = draw(st.dictionaries(_SIGN_IN_FIELDS, _JSON, max_size=5))
        return json.dumps(document).encode(), "application/json"
    if kind == "huge":
        field = draw(_SIGN_IN_FIELDS)
        return b'{"' + field.encode() + b'": ' + _HUGE_NUMBER + b"}", "application/json"
    if kind == "form":
        pairs = draw(st.lists(st.tuples(_SIGN_IN_FIELDS, _VALUES), max_size=6))
        body = "&".join(f"{k}={_escape(v)}" for k, v in pairs).encode()
        return body + draw(st.sampled_from([b"", b"&%ff", b"&account=1"])), (
            "application/x-www-form-urlencoded"
        )
    content_type = draw(
        st.sampled_from(["application/json", "text/plain", "", "application/json; x"])
    )
    return draw(st.one_of(_RAW_JSON, st.binary(max_size=200))), content_type


def _acceptable(answer: raw_requests.Answer) -> bool:
    return answer.status < 500 or (answer.status == 501 and answer.code == "NotImplemented")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("iamd-fuzz"))
    yield running
    # Whichever tests ran here: the server still serves and logged no traceback.
    try:
        assert running.client("iam").get_user()["User"]["UserName"] == "admin"
        assert "Traceback" not in running.log_text()
    finally:
        running.stop()


_HUGE_POLICY = quote(
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",'
    '"Condition":{"NumericEquals":{"aws:EpochTime":' + "9" * 5000 + "}}}}",
    safe="",
)


# The findings of issue 10 always run, whatever hypothesis draws.
@FUZZ
@example(
    (
        "iam",
        b"Action=TagUser&Version=2010-05-08&UserName=u&Tags.member." + b"1" * 4301 + b".Key=c",
        False,
    )
)
@example(
    (
        "iam",
        b"Action=CreatePolicy&Version=2010-05-08&PolicyName=p&PolicyDocument="
        + _HUGE_POLICY.encode(),
        False,
    )
)
@example(
    (
        "iam",
        b"Action=CreatePolicyVersion&Version=2010-05-08&PolicyArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fp&PolicyDocument="
        + _HUGE_POLICY.encode(),
        False,
    )
)
@example(("sts", b"Action=GetSession%54oken&Action=GetSessionToken&Version=2011-06-15", False))
@given(query_forms())
def test_query_codec_never_answers_a_server_error(
    server: RunningServer, case: tuple[str, bytes, bool]
) -> None:
    service, form, in_query = case
    if in_query and b"\xff" not in form:
        answer = raw_requests.post(server.endpoint, b"", service=service, path="/?" + form.decode())
    else:
        answer = raw_requests.post(server.endpoint, form, service=service)
    assert _acceptable(answer), (answer.status, answer.body[:300])


@FUZZ
@example(("CreateRepository", b'{"repositoryName": "\\ud800"}'))
@example(("CreateRepository", b'{"repositoryName": "r", "repositoryDescription": "\\ud800"}'))
@example(("CreateRepository", b'{"repositoryName": NaN}'))
@given(json_bodies())
def test_json_codec_never_answers_a_server_error(
    server: RunningServer, case: tuple[str, bytes]
) -> None:
    operation, body = case
    answer = raw_requests.codecommit(server.endpoint, operation, body)
    assert _acceptable(answer), (answer.status, answer.body[:300])


@FUZZ
@example(
    (b'{"account": ' + _HUGE_NUMBER + b', "userName": "a", "password": "b"}', "application/json")
)
@example((b'{"account": NaN, "userName": "a", "password": "b"}', "application/json"))
@given(sign_in_bodies())
def test_sign_in_never_answers_a_server_error(
    server: RunningServer, case: tuple[bytes, str]
) -> None:
    body, content_type = case
    answer = raw_requests.sign_in(server.endpoint, body, content_type)
    assert answer.status < 500, (answer.status, answer.body[:300])

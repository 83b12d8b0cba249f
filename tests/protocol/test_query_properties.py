"""Property tests: arbitrary input never escapes as anything but an ``AwsError``."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.errors import AwsError, ValidationError
from iamd.protocol import QueryCodec, parse_form

_OPERATIONS = ["CreateUser", "SimulateCustomPolicy", "ListPolicies", "GetAccountSummary"]
_KEY_PARTS = st.sampled_from(
    [
        "Tags",
        "member",
        "entry",
        "key",
        "value",
        "Key",
        "Value",
        "1",
        "2",
        "0",
        "01",
        "",
        "UserName",
        "MaxItems",
        "ContextEntries",
        "ContextKeyValues",
        "ActionNames",
        "x",
    ]
)
_KEYS = st.one_of(
    st.lists(_KEY_PARTS, min_size=1, max_size=6).map(".".join),
    st.text(max_size=12),
)
_FORMS = st.dictionaries(_KEYS, st.text(max_size=20), max_size=12)


@settings(max_examples=300, deadline=None)
@given(form=_FORMS, action=st.sampled_from([*_OPERATIONS, "", "Nope"]), version=st.text(max_size=3))
def test_parse_raises_only_aws_errors(
    iam_codec: QueryCodec, form: dict[str, str], action: str, version: str
) -> None:
    for candidate in (
        {**form, "Action": action},
        {**form, "Action": action, "Version": "2010-05-08"},
        {**form, "Action": action, "Version": version},
    ):
        with contextlib.suppress(AwsError):
            iam_codec.parse(candidate)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200))
def test_parse_form_raises_only_validation_error(body: bytes) -> None:
    try:
        form = parse_form(body)
    except ValidationError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in form.items())


def test_parse_form_basics() -> None:
    assert parse_form(b"Action=GetUser&UserName=a%2Fb+c&Empty=&Version=2010-05-08") == {
        "Action": "GetUser",
        "UserName": "a/b c",
        "Empty": "",
        "Version": "2010-05-08",
    }
    assert parse_form(b"") == {}
    assert parse_form(b"K=%C3%A9") == {"K": "é"}
    assert parse_form("K=é".encode()) == {"K": "é"}
    for bad in (b"K=%FF", b"K=\xff", b"K=%ED%A0%80"):
        with pytest.raises(ValidationError):
            parse_form(bad)

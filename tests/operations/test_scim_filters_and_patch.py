"""SCIM's filter parser and PATCH application, as pure functions: every text is either
parsed or refused with invalidFilter (never another exception), values round-trip
through JSON escaping, and the PATCH shapes Okta and Entra ID send land where they
should."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamd.operations.scim.filters import Condition, parse_filter
from iamd.operations.scim.patch import apply_to_user, operations_of
from iamd.operations.scim.problems import ScimProblem
from iamd.operations.scim.users import read_user

USERS = frozenset({"username", "externalid", "id"})
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@given(st.text(max_size=200))
def test_any_text_is_parsed_or_refused_as_an_invalid_filter(text: str) -> None:
    outcome: list[Condition] | tuple[int, str | None]
    try:
        outcome = parse_filter(text, USERS)
    except ScimProblem as problem:
        outcome = (problem.status, problem.scim_type)
    if isinstance(outcome, tuple):
        assert outcome == (400, "invalidFilter")
    else:
        assert outcome
        assert all(c.attribute in USERS for c in outcome)


@given(st.text(max_size=100), st.text(max_size=100))
def test_values_round_trip_and_and_joins(first: str, second: str) -> None:
    text = f"userName eq {json.dumps(first)} and EXTERNALID Eq {json.dumps(second)}"
    assert parse_filter(text, USERS) == [
        Condition("username", first),
        Condition("externalid", second),
    ]


@pytest.mark.parametrize(
    "text",
    [
        'userName co "a"',
        'userName eq "a" or id eq "b"',
        '(userName eq "a")',
        'not (userName eq "a")',
        'title eq "x"',
        "userName eq a",
        'userName eq "a" and',
    ],
)
def test_what_aws_does_not_support_is_refused(text: str) -> None:
    with pytest.raises(ScimProblem) as refused:
        parse_filter(text, USERS)
    assert refused.value.scim_type == "invalidFilter"


def _patched(document: dict[str, object], *operations: dict[str, object]) -> dict[str, object]:
    return apply_to_user(
        document, operations_of({"schemas": [PATCH], "Operations": list(operations)})
    )


def test_entra_and_okta_patch_shapes() -> None:
    user = {
        "userName": "jdoe",
        "name": {"givenName": "J", "familyName": "Doe"},
        "active": True,
        "emails": [{"value": "old@example.com", "type": "work", "primary": True}],
    }
    after = _patched(
        user,
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
        {"op": "Add", "value": {"name.givenName": "Jane", "title": "Boss"}},
        {"op": "replace", "value": {"active": "False"}},
    )
    state = read_user(after, creating=False)
    assert state.attributes["Emails"] == [
        {"Value": "new@example.com", "Type": "work", "Primary": True}
    ]
    assert state.attributes["Name"] == {"GivenName": "Jane", "FamilyName": "Doe"}
    assert state.attributes["Title"] == "Boss"
    assert state.active is False
    assert user["emails"] == [{"value": "old@example.com", "type": "work", "primary": True}]


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": "userName"},
        {"op": "remove"},
        {"op": "replace", "path": "displayName"},
        {"op": "move", "path": "title", "value": "x"},
        {"op": "replace", "path": "meta", "value": {}},
        {"op": "replace", "path": "nosuch", "value": "x"},
    ],
)
def test_bad_operations_are_refused(operation: dict[str, object]) -> None:
    with pytest.raises(ScimProblem) as refused:
        _patched({"userName": "jdoe", "active": True}, operation)
    assert refused.value.status == 400


def test_two_changes_of_active_in_one_patch_are_refused() -> None:
    with pytest.raises(ScimProblem):
        _patched(
            {"userName": "jdoe", "active": True},
            {"op": "replace", "path": "active", "value": False},
            {"op": "replace", "path": "active", "value": True},
        )


def test_replacing_name_sets_only_the_parts_given() -> None:
    user: dict[str, object] = {"userName": "jdoe", "name": {"givenName": "J", "familyName": "Doe"}}
    after = _patched(user, {"op": "replace", "path": "name", "value": {"givenName": "Jane"}})
    assert after["name"] == {"givenName": "Jane", "familyName": "Doe"}
    after = _patched(user, {"op": "replace", "value": {"name": {"familyName": "Roe"}}})
    assert after["name"] == {"givenName": "J", "familyName": "Roe"}

"""Whatever JSON a SCIM client sends, the endpoints answer it or refuse it with a SCIM
error (never another exception, which the front would answer 500): random bodies for
every write, on the real identity store service and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from iamd.operations.scim.endpoints import ScimEndpoints
from iamd.operations.scim.problems import ScimProblem
from tests.support.local_services import MovableClock, local_services

KNOWN_KEYS = st.sampled_from(
    [
        "schemas",
        "userName",
        "name",
        "givenName",
        "familyName",
        "displayName",
        "emails",
        "value",
        "type",
        "primary",
        "active",
        "externalId",
        "members",
        "Operations",
        "op",
        "path",
        "addresses",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "manager",
        "groups",
        "password",
    ]
)
KEYS = KNOWN_KEYS | st.text(max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "add",
            "Replace",
            "remove",
            "members",
            'emails[type eq "work"].value',
            'members[value eq "x"]',
            "name.givenName",
            "urn:ietf:params:scim:api:messages:2.0:PatchOp",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=15,
)


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScimEndpoints, str, str]]:
    with local_services(tmp_path_factory.mktemp("scim-fuzz"), MovableClock()) as services:
        instance = services.identity_center.create_instance("Corp")
        store = instance.identity_store_id
        user = services.identity_store.create_user(
            store, {"UserName": "jdoe", "DisplayName": "J"}, "admin"
        )
        group = services.identity_store.create_group(store, "Engineers", None, "admin")
        yield ScimEndpoints(services.identity_store, store), user.user_id, group.group_id


PATHS = st.none() | st.sampled_from(
    [
        "active",
        "userName",
        "displayName",
        "title",
        "name",
        "name.givenName",
        "emails",
        'emails[type eq "work"].value',
        'addresses[type eq "work"].locality',
        "externalId",
        "members",
        'members[value eq "x"]',
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "id",
        "meta",
    ]
)
OPERATION = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "Add", "replace", "Replace", "remove", "Remove"])},
    optional={"path": PATHS, "value": SCALARS | JSON},
)
OVERRIDES = st.dictionaries(KNOWN_KEYS, SCALARS | JSON, max_size=2)


def _body(call: str, name: str, overrides: dict[str, Any], operations: list[Any]) -> Any:
    if call.startswith("PATCH"):
        return {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        }
    if call == "POST Groups":
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            **overrides,
        }
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "jdoe" if call == "PUT User" else name,
        "name": {"givenName": "J", "familyName": "Doe"},
        "displayName": "J Doe",
        **overrides,
    }


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.sampled_from(["POST Users", "PUT User", "PATCH User", "POST Groups", "PATCH Group"]),
    st.uuids().map(str),
    OVERRIDES,
    st.lists(OPERATION, min_size=1, max_size=4),
    JSON,
    st.booleans(),
)
def test_any_body_is_answered_or_refused(
    endpoints: tuple[ScimEndpoints, str, str],
    call: str,
    name: str,
    overrides: dict[str, Any],
    operations: list[Any],
    anything: Any,
    shaped: bool,
) -> None:
    scim, user_id, group_id = endpoints
    method, target = call.split()
    segments = {
        "Users": ["Users"],
        "User": ["Users", user_id],
        "Groups": ["Groups"],
        "Group": ["Groups", group_id],
    }[target]
    # Mostly bodies of the right shape with random parts, sometimes anything at all.
    body = _body(call, name, overrides, operations) if shaped else anything
    try:
        status = scim.answer(method, segments, {}, body).status
    except ScimProblem as problem:
        status = problem.status
    event(f"{call} {status}")
    assert status in (200, 201, 204, 400, 404, 409)


@given(
    st.dictionaries(
        st.sampled_from(["filter", "count", "cursor", "startIndex"]), st.text(max_size=40)
    )
)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_query_is_answered_or_refused(
    endpoints: tuple[ScimEndpoints, str, str], query: dict[str, str]
) -> None:
    scim, _, _ = endpoints
    for resource in ("Users", "Groups"):
        try:
            status = scim.answer("GET", [resource], query, None).status
        except ScimProblem as problem:
            status = problem.status
        assert status in (200, 400)

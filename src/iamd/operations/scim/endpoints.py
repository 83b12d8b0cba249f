"""The SCIM endpoints of one identity store: /Users, /Groups and the discovery documents,
each answered as AWS's implementation answers it (statuses, list shapes, paging with
`count` and `cursor`; `startIndex`, `attributes` and `excludedAttributes` are accepted
and ignored, as AWS ignores them). Every change goes through the identity store service,
so uniqueness, quotas and the effects on sign-in are the store's own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from iamd.errors import AwsError
from iamd.model.identity_center import DirectoryGroup, DirectoryUser
from iamd.operations.scim import discovery
from iamd.operations.scim.filters import Condition, parse_filter
from iamd.operations.scim.groups import group_change, read_group, scim_group
from iamd.operations.scim.patch import apply_to_user, operations_of
from iamd.operations.scim.problems import (
    ScimProblem,
    from_domain,
    invalid_syntax,
    invalid_value,
    not_found,
)
from iamd.operations.scim.users import (
    EXTERNAL_ID_ISSUER,
    MULTI,
    STRINGS,
    editable,
    read_user,
    scim_user,
)
from iamd.services.identity_store import IdentityStoreService

#: Who the store records as having made SCIM's changes (CreatedBy, UpdatedBy).
SCIM_ACTOR = "SCIM"
_USER_FILTERS = frozenset({"username", "externalid", "id"})
_GROUP_FILTERS = frozenset({"displayname", "externalid", "id", "members", "members.value"})
#: The store's user attributes a SCIM write sets; others (set by the identitystore API:
#: Photos, Website, Birthdate) are kept as they are.
_SCIM_ATTRIBUTES = frozenset(
    {"Name", "Extensions", "ExternalIds", *STRINGS.values(), *(m for m, _ in MULTI.values())}
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    document: dict[str, Any] | None
    event: str  # the operation's name, as AWS's trail names SCIM calls
    resource_id: str | None = None


class ScimEndpoints:
    def __init__(self, store: IdentityStoreService, store_id: str) -> None:
        self._store = store
        self._store_id = store_id

    def answer(
        self, method: str, segments: list[str], query: Mapping[str, str], body: Any
    ) -> Answer:
        """Answer one request; `segments` is the path after `/scim/v2`."""
        try:
            return self._route(method, segments, query, body)
        except AwsError as error:
            raise from_domain(error) from None

    def _route(
        self, method: str, segments: list[str], query: Mapping[str, str], body: Any
    ) -> Answer:
        if not segments:
            raise not_found("Unknown SCIM resource.")
        head, rest = segments[0], segments[1:]
        if head == "ServiceProviderConfig" and not rest:
            _only(method, "GET")
            return Answer(200, discovery.service_provider_config(), "GetServiceProviderConfig")
        if head == "Schemas" and len(rest) <= 1:
            _only(method, "GET")
            found = discovery.schemas(rest[0] if rest else None)
            if found is None:
                raise not_found("Unknown schema.")
            return Answer(200, found, "GetSchema" if rest else "ListSchemas")
        if head == "ResourceTypes" and len(rest) <= 1:
            _only(method, "GET")
            found = discovery.resource_types(rest[0] if rest else None)
            if found is None:
                raise not_found("Unknown resource type.")
            return Answer(200, found, "GetResourceType" if rest else "ListResourceTypes")
        if head == "Users" and not rest:
            if method == "GET":
                return self._list_users(query)
            _only(method, "POST")
            return self._create_user(_object(body))
        if head == "Users" and len(rest) == 1:
            return self._user(method, rest[0], body)
        if head == "Groups" and not rest:
            if method == "GET":
                return self._list_groups(query)
            _only(method, "POST")
            return self._create_group(_object(body))
        if head == "Groups" and len(rest) == 1:
            return self._group(method, rest[0], body)
        raise not_found("Unknown SCIM resource.")

    # -- users -------------------------------------------------------------------------

    def _create_user(self, body: Mapping[str, Any]) -> Answer:
        if any(str(key).lower() == "groups" and value for key, value in body.items()):
            raise invalid_value("The groups attribute cannot be set when a user is created.")
        state = read_user(body, creating=True)
        params = {"UserName": state.user_name, **state.attributes}
        user = self._store.create_user(
            self._store_id,
            params,
            SCIM_ACTOR,
            status="ENABLED" if state.active else "DISABLED",
        )
        return Answer(201, scim_user(user), "CreateUser", user.user_id)

    def _user(self, method: str, user_id: str, body: Any) -> Answer:
        if method == "GET":
            return Answer(
                200, scim_user(self._store.user(self._store_id, user_id)), "GetUser", user_id
            )
        if method == "DELETE":
            self._store.delete_user(self._store_id, user_id)
            return Answer(204, None, "DeleteUser", user_id)
        if method == "PUT":
            state = read_user(_object(body), creating=True)
            user = self._store.modify_user(
                self._store_id, user_id, lambda old: _with_state(old, state), SCIM_ACTOR
            )
            return Answer(200, scim_user(user), "PutUser", user_id)
        _only(method, "PATCH")
        operations = operations_of(_object(body))

        def patched(old: DirectoryUser) -> DirectoryUser:
            document = apply_to_user(editable(scim_user(old)), operations)
            return _with_state(old, read_user(document, creating=False))

        user = self._store.modify_user(self._store_id, user_id, patched, SCIM_ACTOR)
        return Answer(200, scim_user(user), "PatchUser", user_id)

    def _list_users(self, query: Mapping[str, str]) -> Answer:
        size, cursor = _paging(query)
        conditions = _conditions(query, _USER_FILTERS)
        if conditions:
            users = self._filtered_users(conditions)
            return Answer(
                200, _list([scim_user(u) for u in users], len(users), cursor), "ListUsers"
            )
        page = self._store.users(self._store_id, [], cursor or None, size)
        total = self._store.user_count(self._store_id)
        return Answer(
            200,
            _list([scim_user(u) for u in page.items], total, cursor, page.next_token),
            "ListUsers",
        )

    def _filtered_users(self, conditions: list[Condition]) -> list[DirectoryUser]:
        found: DirectoryUser | None = None
        first = conditions[0]
        if not isinstance(first.value, str):
            return []
        if first.attribute == "username":
            page = self._store.users(
                self._store_id,
                [{"AttributePath": "UserName", "AttributeValue": first.value}],
                None,
                1,
            )
            found = page.items[0] if page.items else None
        elif first.attribute == "externalid":
            found = self._store.user_with_external_id(
                self._store_id, EXTERNAL_ID_ISSUER, first.value
            )
        else:
            found = self._maybe_user(first.value)
        if found is None:
            return []
        document = scim_user(found)
        for condition in conditions[1:]:
            if not _matches(document, condition):
                return []
        return [found]

    def _maybe_user(self, user_id: str) -> DirectoryUser | None:
        try:
            return self._store.user(self._store_id, user_id)
        except AwsError:
            return None

    # -- groups ------------------------------------------------------------------------

    def _create_group(self, body: Mapping[str, Any]) -> Answer:
        state = read_group(body)
        group = self._store.create_group(
            self._store_id, state.display_name, None, SCIM_ACTOR, state.external_ids
        )
        if state.members:
            self._store.change_members(
                self._store_id, group.group_id, state.members, [], SCIM_ACTOR
            )
        return Answer(201, scim_group(group), "CreateGroup", group.group_id)

    def _group(self, method: str, group_id: str, body: Any) -> Answer:
        if method == "GET":
            return Answer(
                200, scim_group(self._store.group(self._store_id, group_id)), "GetGroup", group_id
            )
        if method == "DELETE":
            self._store.delete_group(self._store_id, group_id)
            return Answer(204, None, "DeleteGroup", group_id)
        _only(method, "PATCH")
        change = group_change(group_id, operations_of(_object(body)))
        if change.display_name is not None or change.external_id is not None:

            def renamed(old: DirectoryGroup) -> DirectoryGroup:
                external = old.external_ids
                if change.external_id is not None:
                    external = [e for e in external if e.get("Issuer") != EXTERNAL_ID_ISSUER]
                    if change.external_id:
                        external.append({"Issuer": EXTERNAL_ID_ISSUER, "Id": change.external_id})
                return replace(
                    old, display_name=change.display_name or old.display_name, external_ids=external
                )

            self._store.modify_group(self._store_id, group_id, renamed, SCIM_ACTOR)
        if change.add or change.remove:
            self._store.change_members(
                self._store_id, group_id, change.add, change.remove, SCIM_ACTOR
            )
        # AWS answers a group's PATCH with 204 and no body.
        return Answer(204, None, "PatchGroup", group_id)

    def _list_groups(self, query: Mapping[str, str]) -> Answer:
        size, cursor = _paging(query)
        conditions = _conditions(query, _GROUP_FILTERS)
        if conditions:
            groups = self._filtered_groups(conditions)
            return Answer(
                200, _list([scim_group(g) for g in groups], len(groups), cursor), "ListGroups"
            )
        page = self._store.groups(self._store_id, [], cursor or None, size)
        total = self._store.group_count(self._store_id)
        return Answer(
            200,
            _list([scim_group(g) for g in page.items], total, cursor, page.next_token),
            "ListGroups",
        )

    def _filtered_groups(self, conditions: list[Condition]) -> list[DirectoryGroup]:
        by = {c.attribute: c.value for c in conditions}
        if any(not isinstance(value, str) for value in by.values()):
            return []
        member = by.pop("members", None) or by.pop("members.value", None)
        candidates: list[DirectoryGroup]
        if "id" in by:
            try:
                candidates = [self._store.group(self._store_id, str(by["id"]))]
            except AwsError:
                return []
        elif "displayname" in by:
            page = self._store.groups(
                self._store_id,
                [{"AttributePath": "DisplayName", "AttributeValue": str(by["displayname"])}],
                None,
                1,
            )
            candidates = page.items
        elif "externalid" in by:
            group = self._store.group_with_external_id(
                self._store_id, EXTERNAL_ID_ISSUER, str(by["externalid"])
            )
            candidates = [group] if group is not None else []
        elif member is not None:
            candidates = self._groups_of(str(member))
        else:
            return []
        result = []
        for group in candidates:
            document = scim_group(group)
            if not all(_matches(document, Condition(k, v)) for k, v in by.items()):
                continue
            if member is not None and group not in self._groups_of(str(member)):
                continue
            result.append(group)
        return result

    def _groups_of(self, user_id: str) -> list[DirectoryGroup]:
        group_ids: list[str] = []
        token: str | None = None
        try:
            while True:
                page = self._store.memberships(self._store_id, token, 100, user_id=user_id)
                group_ids += [m.group_id for m in page.items]
                token = page.next_token
                if token is None:
                    break
        except AwsError:
            return []
        return [self._store.group(self._store_id, group_id) for group_id in group_ids]


def _with_state(old: DirectoryUser, state: Any) -> DirectoryUser:
    kept = {key: value for key, value in old.attributes.items() if key not in _SCIM_ATTRIBUTES}
    return replace(
        old,
        user_name=state.user_name,
        attributes={**kept, **state.attributes},
        status="ENABLED" if state.active else "DISABLED",
    )


def _matches(document: Mapping[str, Any], condition: Condition) -> bool:
    for key, value in document.items():
        if key.lower() == condition.attribute:
            if isinstance(value, str) and isinstance(condition.value, str):
                return value.lower() == condition.value.lower()
            return bool(value == condition.value)
    return False


def _conditions(query: Mapping[str, str], allowed: frozenset[str]) -> list[Condition]:
    text = query.get("filter")
    if text is None or not text.strip():
        return []
    return parse_filter(text.strip(), allowed)


def _paging(query: Mapping[str, str]) -> tuple[int, str | None]:
    raw = query.get("count")
    size = discovery.MAX_RESULTS
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= discovery.MAX_RESULTS:
            raise invalid_value(f"count must be between 1 and {discovery.MAX_RESULTS}.")
        size = int(raw)
    cursor = query.get("cursor")
    if cursor is not None and len(cursor) > 512:
        raise invalid_value("The cursor is invalid.")
    return size, cursor


def _list(
    resources: list[dict[str, Any]],
    total: int,
    cursor: str | None,
    next_cursor: str | None = None,
) -> dict[str, Any]:
    if cursor is not None:
        # With `cursor` (even empty, for the first page) AWS answers the cursor shape.
        document: dict[str, Any] = {
            "schemas": [discovery.LIST_SCHEMA],
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
        if next_cursor:
            document["nextCursor"] = next_cursor
        return document
    return {
        "schemas": [discovery.LIST_SCHEMA],
        "totalResults": total,
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise invalid_syntax("The request body must be a JSON object.")
    return body


def _only(method: str, allowed: str) -> None:
    if method != allowed:
        raise ScimProblem(400, f"The {method} operation is not supported here.", None)

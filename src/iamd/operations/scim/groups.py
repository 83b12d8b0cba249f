"""SCIM's Group resource and the identity store's group, as AWS's implementation serves
them: `displayName` (required), `externalId` (the group's ExternalIds), and `members`,
which are written (up to 100 changes per request) but never listed: GET answers an empty
member list, and a member's groups are found with a `members eq` filter. PATCH takes
Okta's and Microsoft Entra ID's shapes: `add` to `members` with a list of values,
`remove` with a `members[value eq "..."]` path or with a list of values, and `replace`
of `displayName` or `externalId` (with a path, or as the attributes of a value object).
Replacing or removing every member at once is refused, as AWS refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iamd.model.identity_center import DirectoryGroup
from iamd.operations.scim.filters import parse_filter
from iamd.operations.scim.patch import Operation
from iamd.operations.scim.problems import invalid_path, invalid_syntax, invalid_value
from iamd.operations.scim.users import (
    EXTERNAL_ID_ISSUER,
    MAX_EXTERNAL_ID,
    MAX_STRING,
    external_id_of,
    meta_of,
)

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
MAX_MEMBER_CHANGES = 100
_KNOWN = {
    name.lower(): name for name in ("id", "meta", "schemas", "displayName", "externalId", "members")
}


@dataclass(frozen=True, slots=True)
class GroupState:
    display_name: str
    external_ids: list[dict[str, str]]
    members: list[str]


@dataclass(slots=True)
class GroupChange:
    """What a PATCH does to a group."""

    display_name: str | None = None
    external_id: str | None = None
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)


def read_group(document: Mapping[str, Any]) -> GroupState:
    body = _canonical(document)
    display_name = _text(body.get("displayName"), "displayName", MAX_STRING)
    if not display_name:
        raise invalid_value("displayName is required.")
    external_id = _text(body.get("externalId"), "externalId", MAX_EXTERNAL_ID)
    members = _member_ids(body.get("members") or [])
    if len(members) > MAX_MEMBER_CHANGES:
        raise invalid_value(f"At most {MAX_MEMBER_CHANGES} members can be added in one request.")
    external_ids = [{"Issuer": EXTERNAL_ID_ISSUER, "Id": external_id}] if external_id else []
    return GroupState(display_name, external_ids, members)


def scim_group(group: DirectoryGroup) -> dict[str, Any]:
    document: dict[str, Any] = {"id": group.group_id}
    external_id = external_id_of(group.external_ids)
    if external_id is not None:
        document["externalId"] = external_id
    document["meta"] = meta_of("Group", group.created, group.updated)
    document["schemas"] = [GROUP_SCHEMA]
    document["displayName"] = group.display_name
    document["members"] = []
    return document


def group_change(group_id: str, operations: list[Operation]) -> GroupChange:
    change = GroupChange()
    for operation in operations:
        if operation.path is None:
            if operation.op == "remove" or not isinstance(operation.value, dict):
                raise invalid_value("An operation without a path needs an object value.")
            for key, value in operation.value.items():
                _apply(change, group_id, operation.op, str(key), value)
        else:
            _apply(change, group_id, operation.op, operation.path, operation.value)
    if len(change.add) + len(change.remove) > MAX_MEMBER_CHANGES:
        raise invalid_value(
            f"At most {MAX_MEMBER_CHANGES} membership changes are allowed in one request."
        )
    return change


def _apply(change: GroupChange, group_id: str, op: str, path: str, value: Any) -> None:
    lowered = path.lower()
    if lowered.startswith(GROUP_SCHEMA.lower() + ":"):
        lowered = lowered[len(GROUP_SCHEMA) + 1 :]
    if lowered == "id":
        # Okta sends the group's own id among the attributes it replaces.
        if value != group_id:
            raise invalid_value("The id of a group cannot be changed.")
        return
    if lowered == "displayname":
        if op == "remove":
            raise invalid_value("displayName cannot be removed.")
        name = _text(value, "displayName", MAX_STRING)
        if not name:
            raise invalid_value("displayName must be a non-empty string.")
        change.display_name = name
        return
    if lowered == "externalid":
        change.external_id = "" if op == "remove" else _text(value, "externalId", MAX_EXTERNAL_ID)
        return
    if lowered == "members":
        if op == "replace":
            raise invalid_value("Replacing every member of a group is not supported.")
        if op == "remove" and not value:
            raise invalid_value("Removing every member of a group is not supported.")
        (change.add if op == "add" else change.remove).extend(_member_ids(value))
        return
    if lowered.startswith("members[") and lowered.endswith("]") and op == "remove":
        conditions = parse_filter(path[path.index("[") + 1 : -1], frozenset({"value"}))
        for condition in conditions:
            if not isinstance(condition.value, str):
                raise invalid_value("A member filter needs a string value.")
            change.remove.append(condition.value)
        return
    if _KNOWN.get(lowered) in ("meta", "schemas"):
        raise invalid_path(f"{path[:100]} cannot be changed.")
    raise invalid_path(f"Invalid path: {path[:200]}")


def _member_ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise invalid_value("members must be a list of objects with a value.")
    ids = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            raise invalid_value("Each member must be an object with a string value.")
        unknown = {str(key).lower() for key in entry} - {"value", "$ref", "display", "type"}
        if unknown:
            raise invalid_syntax(f"Unknown attribute of a member: {sorted(unknown)[0][:100]}")
        if len(entry["value"]) > 64:
            raise invalid_value("A member's value is not a user id.")
        ids.append(entry["value"])
    return ids


def _canonical(document: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in document.items():
        name = _KNOWN.get(str(key).lower())
        if name is None:
            raise invalid_syntax(f"Unknown attribute: {str(key)[:100]}")
        result[name] = value
    return result


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_value(f"{name} must be a string.")
    if len(value) > limit:
        raise invalid_value(f"{name} is longer than {limit} characters.")
    return value

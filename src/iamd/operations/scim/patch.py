"""SCIM PATCH (RFC 7644 §3.5.2) on a resource's SCIM form, with what Okta and Microsoft
Entra ID send: `op` in any case (`"Replace"`), an operation without a path whose value
holds attributes (also dotted ones, `"name.givenName"`), paths with a value filter
(`emails[type eq "work"].value`), the enterprise extension's qualified paths, and
booleans as strings (`"False"`). A multi-valued attribute holds one value in AWS's
implementation, so `add` to one replaces its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iamd.operations.scim.filters import parse_filter
from iamd.operations.scim.problems import invalid_path, invalid_syntax, invalid_value
from iamd.operations.scim.users import ENTERPRISE_SCHEMA, KNOWN, MULTI, USER_SCHEMA

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_OPERATIONS = 100
_PATH = re.compile(
    r"(?P<attribute>[A-Za-z][\w$-]*)(?:\[(?P<filter>[^\]]*)\])?(?:\.(?P<sub>[A-Za-z]\w*))?"
)
_ELEMENT_FILTER = frozenset({"type", "value", "primary"})


@dataclass(frozen=True, slots=True)
class Operation:
    op: str  # add | replace | remove
    path: str | None
    value: Any


def operations_of(body: Mapping[str, Any]) -> list[Operation]:
    """The checked operations of a PatchOp body."""
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or PATCH_SCHEMA not in schemas:
        raise invalid_syntax(f"A PATCH body must name the schema {PATCH_SCHEMA}.")
    raw = body.get("Operations", body.get("operations"))
    if not isinstance(raw, list) or not raw:
        raise invalid_syntax("A PATCH body must carry a list of Operations.")
    if len(raw) > MAX_OPERATIONS:
        raise invalid_value(f"At most {MAX_OPERATIONS} operations are allowed in one request.")
    found = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise invalid_syntax("Each operation must be an object.")
        op = entry.get("op")
        if not isinstance(op, str) or op.lower() not in ("add", "replace", "remove"):
            raise invalid_value("The operation must be add, replace or remove.")
        path = entry.get("path")
        if path is not None and (not isinstance(path, str) or not path or len(path) > 512):
            raise invalid_path("The path must be a non-empty string.")
        if op.lower() == "remove" and path is None:
            raise invalid_path("A remove operation needs a path.")
        if op.lower() != "remove" and "value" not in entry:
            raise invalid_value(f"A {op} operation needs a value.")
        found.append(Operation(op.lower(), path, entry.get("value")))
    return found


def apply_to_user(document: dict[str, Any], operations: list[Operation]) -> dict[str, Any]:
    """The user's SCIM form after the operations (checked again by the caller)."""
    result = {key: _copy(value) for key, value in document.items()}
    touched: dict[str, int] = {}
    for operation in operations:
        if operation.path is None:
            if not isinstance(operation.value, dict):
                raise invalid_value("An operation without a path needs an object value.")
            for key, value in operation.value.items():
                _apply_path(result, operation.op, str(key), value, touched)
        else:
            _apply_path(result, operation.op, operation.path, operation.value, touched)
    for attribute in ("userName", "active"):
        if touched.get(attribute, 0) > 1:
            # AWS's implementation refuses several changes of these in one PATCH.
            raise invalid_value(f"Only one operation on {attribute} is supported per request.")
    return result


def _apply_path(
    document: dict[str, Any], op: str, path: str, value: Any, touched: dict[str, int]
) -> None:
    container: dict[str, Any] = document
    rest = path
    if path.lower().startswith(ENTERPRISE_SCHEMA.lower() + ":"):
        container = document.setdefault(ENTERPRISE_SCHEMA, {})
        if not isinstance(container, dict):
            raise invalid_value(f"{ENTERPRISE_SCHEMA} must be an object.")
        rest = path[len(ENTERPRISE_SCHEMA) + 1 :]
        _apply_enterprise(container, op, rest, value)
        if not container:
            document.pop(ENTERPRISE_SCHEMA, None)
        return
    if path.lower() == ENTERPRISE_SCHEMA.lower():
        if op == "remove":
            document.pop(ENTERPRISE_SCHEMA, None)
        elif isinstance(value, dict):
            merged = dict(document.get(ENTERPRISE_SCHEMA) or {})
            for key, part in value.items():
                _apply_enterprise(merged, op, str(key), part)
            document[ENTERPRISE_SCHEMA] = merged
        else:
            raise invalid_value(f"{ENTERPRISE_SCHEMA} must be an object.")
        return
    if path.lower().startswith(USER_SCHEMA.lower() + ":"):
        rest = path[len(USER_SCHEMA) + 1 :]
    found = _PATH.fullmatch(rest)
    if found is None:
        raise invalid_path(f"Invalid path: {path[:200]}")
    attribute = KNOWN.get(found.group("attribute").lower())
    if attribute is None or attribute in ("id", "meta", "schemas"):
        raise invalid_path(f"Invalid path: {path[:200]}")
    touched[attribute] = touched.get(attribute, 0) + 1
    if op == "remove" and attribute in ("userName", "active"):
        raise invalid_value(f"{attribute} cannot be removed.")
    sub = found.group("sub")
    element_filter = found.group("filter")
    if element_filter is not None:
        if attribute not in MULTI:
            raise invalid_path(f"Invalid path: {path[:200]}")
        _apply_filtered(document, op, attribute, element_filter, sub, value)
        return
    if sub is not None:
        if attribute in MULTI:
            # `emails.value`: the (single) value's member.
            entries = document.get(attribute) or [{}]
            entry = dict(entries[0]) if isinstance(entries, list) and entries else {}
            _set_member(entry, op, sub, value)
            document[attribute] = [entry] if entry else []
            return
        if attribute != "name":
            raise invalid_path(f"Invalid path: {path[:200]}")
        name = dict(document.get("name") or {})
        _set_member(name, op, sub, value)
        document["name"] = name
        return
    if op == "remove":
        document.pop(attribute, None)
        return
    if attribute == "name" and isinstance(value, dict):
        # RFC 7644 §3.5.2.1 and §3.5.2.3: the sub-attributes given are set, the others
        # are left as they are, for add and replace alike.
        merged = dict(document.get("name") or {})
        merged.update(value)
        document["name"] = merged
        return
    if attribute in MULTI and isinstance(value, dict):
        value = [value]
    document[attribute] = value


def _apply_filtered(
    document: dict[str, Any],
    op: str,
    attribute: str,
    element_filter: str,
    sub: str | None,
    value: Any,
) -> None:
    conditions = parse_filter(element_filter, _ELEMENT_FILTER)
    entries = [dict(entry) for entry in (document.get(attribute) or []) if isinstance(entry, dict)]

    def matches(entry: Mapping[str, Any]) -> bool:
        lowered = {str(key).lower(): item for key, item in entry.items()}
        for condition in conditions:
            have = lowered.get(condition.attribute)
            if isinstance(condition.value, bool) or isinstance(have, bool):
                if str(have).lower() != str(condition.value).lower():
                    return False
            elif str(have or "").lower() != condition.value.lower():
                return False
        return True

    hits = [entry for entry in entries if matches(entry)]
    if op == "remove":
        if sub is None:
            entries = [entry for entry in entries if not matches(entry)]
        else:
            for entry in hits:
                _set_member(entry, "remove", sub, None)
        document[attribute] = [entry for entry in entries if entry]
        return
    if not hits:
        # Entra ID adds a work address with `replace` on `addresses[type eq "work"]...`.
        created = {condition.attribute: condition.value for condition in conditions}
        entries.append(created)
        hits = [created]
    for entry in hits:
        if sub is None:
            if not isinstance(value, dict):
                raise invalid_value(f"{attribute} values must be objects.")
            entry.update(value)
        else:
            _set_member(entry, op, sub, value)
    document[attribute] = entries


def _apply_enterprise(container: dict[str, Any], op: str, rest: str, value: Any) -> None:
    name, _, sub = rest.partition(".")
    if not name:
        raise invalid_path("Invalid enterprise path.")
    if op == "remove":
        container.pop(name, None)
        return
    if name.lower() == "manager" and sub:
        container[name] = {sub: value}
        return
    container[name] = value


def _set_member(entry: dict[str, Any], op: str, member: str, value: Any) -> None:
    existing = next((key for key in entry if str(key).lower() == member.lower()), member)
    if op == "remove":
        entry.pop(existing, None)
    else:
        entry[existing] = value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value

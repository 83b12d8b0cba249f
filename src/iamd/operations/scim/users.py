"""SCIM's User resource and the identity store's user (RFC 7643 §4.1, with the subset AWS
supports): the attributes AWS's implementation takes, single values only for the
multi-valued ones, `active` as the user's status, `externalId` as its ExternalIds, and
the enterprise extension as the store's `aws:identitystore:enterprise` extension.

A PATCH is applied to the user's SCIM form (operations/scim/patch.py), which is then
read again as a PUT body is: one set of checks for every way a user changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iamd.model.identity_center import DirectoryUser
from iamd.operations.scim.problems import invalid_syntax, invalid_value

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#: The Issuer of the ExternalIds that SCIM's `externalId` becomes (iamd's choice).
EXTERNAL_ID_ISSUER = "scim"
ENTERPRISE_EXTENSION = "aws:identitystore:enterprise"

#: Single-valued strings: SCIM name -> the identity store's member.
STRINGS = {
    "displayName": "DisplayName",
    "nickName": "NickName",
    "profileUrl": "ProfileUrl",
    "title": "Title",
    "userType": "UserType",
    "preferredLanguage": "PreferredLanguage",
    "locale": "Locale",
    "timezone": "Timezone",
}
NAME_PARTS = (
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
)
#: Multi-valued complex attributes (one value each, as AWS allows) and their members.
MULTI = {
    "emails": ("Emails", ("value", "type", "primary")),
    "addresses": (
        "Addresses",
        (
            "formatted",
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "country",
            "type",
            "primary",
        ),
    ),
    "phoneNumbers": ("PhoneNumbers", ("value", "type", "primary")),
    "roles": ("Roles", ("value", "type", "primary")),
}
ENTERPRISE_PARTS = (
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
)
#: What AWS's implementation refuses outright.
UNSUPPORTED = ("password", "ims", "photos", "x509Certificates", "entitlements", "groups")
#: Read-only or informational members a client may send back unchanged.
IGNORED = ("id", "meta", "schemas")
MAX_STRING = 1024
MAX_USER_NAME = 128
MAX_EXTERNAL_ID = 256

KNOWN = {
    name.lower(): name
    for name in (
        "userName",
        "name",
        "active",
        "externalId",
        *STRINGS,
        *MULTI,
        *UNSUPPORTED,
        *IGNORED,
    )
}
KNOWN[ENTERPRISE_SCHEMA.lower()] = ENTERPRISE_SCHEMA


@dataclass(frozen=True, slots=True)
class UserState:
    """What a SCIM body says a user is."""

    user_name: str
    attributes: dict[str, Any]
    active: bool


def canonical(document: Mapping[str, Any]) -> dict[str, Any]:
    """The body with its attribute names in their canonical case (names are
    case-insensitive, RFC 7643 §2.1); an unknown attribute is invalidSyntax."""
    result: dict[str, Any] = {}
    for key, value in document.items():
        name = KNOWN.get(str(key).lower())
        if name is None:
            raise invalid_syntax(f"Unknown attribute: {str(key)[:100]}")
        result[name] = value
    return result


def read_user(document: Mapping[str, Any], *, creating: bool) -> UserState:
    """A user from a POST or PUT body (or a patched user's SCIM form)."""
    body = canonical(document)
    for refused in UNSUPPORTED:
        if refused in body and body[refused] not in (None, [], ""):
            raise invalid_value(f"The {refused} attribute is not supported.")
    user_name = _string(body.get("userName"), "userName", MAX_USER_NAME)
    if not user_name:
        raise invalid_value("userName is required.")
    attributes: dict[str, Any] = {}
    name = _name(body.get("name"))
    if name:
        attributes["Name"] = name
    for scim_name, member in STRINGS.items():
        value = _string(body.get(scim_name), scim_name, MAX_STRING)
        if value:
            attributes[member] = value
    if creating:
        # AWS's constraint: these four are required when a user is created.
        if not attributes.get("DisplayName"):
            raise invalid_value("displayName is required.")
        if not name.get("GivenName") or not name.get("FamilyName"):
            raise invalid_value("name.givenName and name.familyName are required.")
    for scim_name, (member, parts) in MULTI.items():
        values = _multi(body.get(scim_name), scim_name, parts, require_primary=creating)
        if values:
            attributes[member] = values
    enterprise = _enterprise(body.get(ENTERPRISE_SCHEMA))
    if enterprise:
        attributes["Extensions"] = {ENTERPRISE_EXTENSION: enterprise}
    external_id = _string(body.get("externalId"), "externalId", MAX_EXTERNAL_ID)
    if external_id:
        attributes["ExternalIds"] = [{"Issuer": EXTERNAL_ID_ISSUER, "Id": external_id}]
    return UserState(user_name, attributes, _active(body.get("active", True)))


def external_id_of(entries: Any) -> str | None:
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and entry.get("Issuer") == EXTERNAL_ID_ISSUER:
                return str(entry.get("Id"))
    return None


def scim_user(user: DirectoryUser) -> dict[str, Any]:
    """The SCIM form of an identity store user (what every answer carries)."""
    attributes = user.attributes
    document: dict[str, Any] = {"id": user.user_id}
    external_id = external_id_of(attributes.get("ExternalIds"))
    if external_id is not None:
        document["externalId"] = external_id
    document["meta"] = meta_of("User", user.created, user.updated)
    enterprise = (attributes.get("Extensions") or {}).get(ENTERPRISE_EXTENSION)
    document["schemas"] = [USER_SCHEMA, *([ENTERPRISE_SCHEMA] if enterprise else [])]
    document["userName"] = user.user_name
    name = attributes.get("Name")
    if isinstance(name, dict) and name:
        document["name"] = {
            part: name[part[:1].upper() + part[1:]]
            for part in NAME_PARTS
            if name.get(part[:1].upper() + part[1:])
        }
    for scim_name, member in STRINGS.items():
        if attributes.get(member):
            document[scim_name] = attributes[member]
    document["active"] = user.status == "ENABLED"
    for scim_name, (member, parts) in MULTI.items():
        values = attributes.get(member)
        if isinstance(values, list) and values:
            document[scim_name] = [
                {
                    part: entry[part[:1].upper() + part[1:]]
                    for part in parts
                    if entry.get(part[:1].upper() + part[1:]) is not None
                }
                for entry in values
                if isinstance(entry, dict)
            ]
    if enterprise:
        document[ENTERPRISE_SCHEMA] = dict(enterprise)
    return document


def editable(document: Mapping[str, Any]) -> dict[str, Any]:
    """A user's SCIM form without what no write may change (the base of a PATCH)."""
    return {key: value for key, value in document.items() if key not in IGNORED}


def meta_of(resource_type: str, created: datetime, updated: datetime) -> dict[str, str]:
    return {
        "resourceType": resource_type,
        "created": _instant(created),
        "lastModified": _instant(updated),
    }


def _instant(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _string(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_value(f"{name} must be a string.")
    if len(value) > limit:
        raise invalid_value(f"{name} is longer than {limit} characters.")
    return value


def _name(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_value("name must be an object.")
    result: dict[str, str] = {}
    parts = {part.lower(): part for part in NAME_PARTS}
    for key, part_value in value.items():
        part = parts.get(str(key).lower())
        if part is None:
            raise invalid_syntax(f"Unknown attribute: name.{str(key)[:100]}")
        text = _string(part_value, f"name.{part}", MAX_STRING)
        if text:
            result[part[:1].upper() + part[1:]] = text
    return result


def _multi(
    value: Any, name: str, parts: tuple[str, ...], *, require_primary: bool
) -> list[dict[str, Any]]:
    if value is None or value == []:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise invalid_value(f"{name} must be a list of objects.")
    if len(value) > 1:
        raise invalid_value(f"Only one value is supported in {name}.")
    entry = value[0]
    known = {part.lower(): part for part in parts}
    converted: dict[str, Any] = {}
    for key, part_value in entry.items():
        part = known.get(str(key).lower())
        if part is None:
            raise invalid_syntax(f"Unknown or unsupported attribute: {name}.{str(key)[:100]}")
        if part == "primary":
            converted["Primary"] = _boolean(part_value, f"{name}.primary")
        elif part_value is not None:
            text = _string(part_value, f"{name}.{part}", MAX_STRING)
            if text:
                converted[part[:1].upper() + part[1:]] = text
    if name == "emails" and require_primary and converted and not converted.get("Primary"):
        # AWS's constraint on a user's (single) email address.
        raise invalid_value("The emails attribute value must be marked as primary.")
    return [converted] if converted else []


def _enterprise(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_value(f"{ENTERPRISE_SCHEMA} must be an object.")
    known = {part.lower(): part for part in ENTERPRISE_PARTS}
    result: dict[str, Any] = {}
    for key, part_value in value.items():
        part = known.get(str(key).lower())
        if part is None:
            raise invalid_syntax(f"Unknown attribute: {ENTERPRISE_SCHEMA}:{str(key)[:100]}")
        if part == "manager":
            manager = _manager(part_value)
            if manager:
                result["manager"] = {"value": manager}
        else:
            text = _string(part_value, part, MAX_STRING)
            if text:
                result[part] = text
    return result


def _manager(value: Any) -> str | None:
    # Entra ID sends the manager's id as a bare string in PATCH, Okta as {"value": id}.
    if value is None or isinstance(value, str):
        return _string(value, "manager", MAX_STRING)
    if isinstance(value, dict):
        unknown = set(value) - {"value", "$ref"}
        if unknown:
            raise invalid_value("Only the value of the manager is supported.")
        return _string(value.get("value"), "manager.value", MAX_STRING)
    raise invalid_value("manager must be an object with a value.")


def _active(value: Any) -> bool:
    return _boolean(value, "active")


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    # Microsoft Entra ID sends booleans as the strings "True" and "False" in PATCH.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_value(f"{name} must be a boolean.")

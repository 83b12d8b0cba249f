"""SCIM's discovery documents (RFC 7643 §5-§7, RFC 7644 §4): /ServiceProviderConfig,
/Schemas and /ResourceTypes, describing what this implementation serves (AWS's subset:
PATCH yes; bulk, sort, ETags and password changes no; filters with `eq` and `and`, at
most 100 results a page)."""

from __future__ import annotations

from typing import Any

from iamd.operations.scim.groups import GROUP_SCHEMA
from iamd.operations.scim.users import ENTERPRISE_SCHEMA, NAME_PARTS, USER_SCHEMA

CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
MAX_RESULTS = 100
MAX_PAYLOAD = 256 * 1024


def service_provider_config() -> dict[str, Any]:
    return {
        "schemas": [CONFIG_SCHEMA],
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The instance's SCIM access token (iamd identity-center "
                "scim-token create)",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": True,
            }
        ],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 1, "maxPayloadSize": MAX_PAYLOAD},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "meta": {"resourceType": "ServiceProviderConfig"},
    }


def _attribute(
    name: str,
    kind: str = "string",
    *,
    multi: bool = False,
    required: bool = False,
    unique: bool = False,
    sub: list[dict[str, Any]] | None = None,
    mutability: str = "readWrite",
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": name,
        "type": kind,
        "multiValued": multi,
        "required": required,
        "caseExact": False,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "server" if unique else "none",
    }
    if sub is not None:
        found["subAttributes"] = sub
    return found


def _multi(name: str, parts: tuple[str, ...]) -> dict[str, Any]:
    sub = [_attribute(part, "boolean" if part == "primary" else "string") for part in parts]
    return _attribute(name, "complex", multi=True, sub=sub)


def _schemas() -> list[dict[str, Any]]:
    user_attributes = [
        _attribute("userName", required=True, unique=True),
        _attribute("name", "complex", sub=[_attribute(part) for part in NAME_PARTS]),
        _attribute("displayName", required=True),
        *(
            _attribute(name)
            for name in (
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
            )
        ),
        _attribute("active", "boolean"),
        _multi("emails", ("value", "type", "primary")),
        _multi(
            "addresses",
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
        _multi("phoneNumbers", ("value", "type", "primary")),
        _multi("roles", ("value", "type", "primary")),
    ]
    enterprise_attributes = [
        *(
            _attribute(name)
            for name in ("employeeNumber", "costCenter", "organization", "division", "department")
        ),
        _attribute("manager", "complex", sub=[_attribute("value")]),
    ]
    group_attributes = [
        _attribute("displayName", required=True, unique=True),
        _attribute(
            "members",
            "complex",
            multi=True,
            sub=[_attribute("value", mutability="immutable")],
        ),
    ]
    return [
        _schema(USER_SCHEMA, "User", "User Account", user_attributes),
        _schema(ENTERPRISE_SCHEMA, "EnterpriseUser", "Enterprise User", enterprise_attributes),
        _schema(GROUP_SCHEMA, "Group", "Group", group_attributes),
    ]


def _schema(
    schema_id: str, name: str, description: str, attributes: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": schema_id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": f"/Schemas/{schema_id}"},
    }


def _resource_types() -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": False}],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"},
        },
        {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"},
        },
    ]


def listing(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


def schemas(schema_id: str | None) -> dict[str, Any] | None:
    """Every schema (a ListResponse), or the one named; None for an unknown one."""
    found = _schemas()
    if schema_id is None:
        return listing(found)
    return next((schema for schema in found if schema["id"] == schema_id), None)


def resource_types(type_id: str | None) -> dict[str, Any] | None:
    found = _resource_types()
    if type_id is None:
        return listing(found)
    return next((kind for kind in found if kind["id"] == type_id), None)

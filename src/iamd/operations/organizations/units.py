"""Organizational units: Create/Describe/Update/Delete, ListOrganizationalUnitsForParent,
ListChildren, ListParents."""

from __future__ import annotations

from iamd.operations.organizations.shapes import organizational_unit, resource_of, tags_of
from iamd.operations.registry import CallContext, Operation, Params, Result


def create_organizational_unit(ctx: CallContext, p: Params) -> Result:
    org, ou = ctx.services.organizations.create_ou(
        ctx.caller.account_id, p["ParentId"], p["Name"], tags_of(p)
    )
    return {"OrganizationalUnit": organizational_unit(org, ou)}


def describe_organizational_unit(ctx: CallContext, p: Params) -> Result:
    org, ou = ctx.services.organizations.describe_ou(
        ctx.caller.account_id, p["OrganizationalUnitId"]
    )
    return {"OrganizationalUnit": organizational_unit(org, ou)}


def update_organizational_unit(ctx: CallContext, p: Params) -> Result:
    org, ou = ctx.services.organizations.update_ou(
        ctx.caller.account_id, p["OrganizationalUnitId"], p.get("Name")
    )
    return {"OrganizationalUnit": organizational_unit(org, ou)}


def delete_organizational_unit(ctx: CallContext, p: Params) -> Result:
    ctx.services.organizations.delete_ou(ctx.caller.account_id, p["OrganizationalUnitId"])
    return None


def list_organizational_units_for_parent(ctx: CallContext, p: Params) -> Result:
    org, page = ctx.services.organizations.list_ous_for_parent(
        ctx.caller.account_id, p["ParentId"], p.get("NextToken"), p.get("MaxResults")
    )
    return {
        "OrganizationalUnits": [organizational_unit(org, ou) for ou in page.items],
        "NextToken": page.next_token,
    }


def list_children(ctx: CallContext, p: Params) -> Result:
    child_type = p["ChildType"]
    page = ctx.services.organizations.list_children(
        ctx.caller.account_id, p["ParentId"], child_type, p.get("NextToken"), p.get("MaxResults")
    )
    return {
        "Children": [{"Id": child, "Type": child_type} for child in page.items],
        "NextToken": page.next_token,
    }


def list_parents(ctx: CallContext, p: Params) -> Result:
    parent = ctx.services.organizations.list_parents(ctx.caller.account_id, p["ChildId"])
    kind = "ROOT" if parent.startswith("r-") else "ORGANIZATIONAL_UNIT"
    return {"Parents": [{"Id": parent, "Type": kind}]}


OPERATIONS = (
    Operation(
        "organizations",
        "CreateOrganizationalUnit",
        create_organizational_unit,
        resource_of("ParentId"),
    ),
    Operation(
        "organizations",
        "DescribeOrganizationalUnit",
        describe_organizational_unit,
        resource_of("OrganizationalUnitId"),
    ),
    Operation(
        "organizations",
        "UpdateOrganizationalUnit",
        update_organizational_unit,
        resource_of("OrganizationalUnitId"),
    ),
    Operation(
        "organizations",
        "DeleteOrganizationalUnit",
        delete_organizational_unit,
        resource_of("OrganizationalUnitId"),
    ),
    Operation(
        "organizations",
        "ListOrganizationalUnitsForParent",
        list_organizational_units_for_parent,
        resource_of("ParentId"),
    ),
    Operation("organizations", "ListChildren", list_children, resource_of("ParentId")),
    Operation("organizations", "ListParents", list_parents, resource_of("ChildId")),
)

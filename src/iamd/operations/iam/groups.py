"""IAM group operations."""

from __future__ import annotations

from iamd.operations.iam.shapes import group_shape, max_items, paged, user_shape
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    Result,
    any_resource,
    group_resource,
    new_entity_resource,
    user_resource,
)


def create_group(ctx: CallContext, p: Params) -> Result:
    group = ctx.services.groups.create(p["GroupName"], p.get("Path", "/"))
    return {"Group": group_shape(group)}


def get_group(ctx: CallContext, p: Params) -> Result:
    group, members = ctx.services.groups.get(p["GroupName"], p.get("Marker"), max_items(p))
    result = paged(members, "Users", lambda u: user_shape(u, full=False))
    result["Group"] = group_shape(group)
    return result


def list_groups(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.groups.listing(p.get("PathPrefix", "/"), p.get("Marker"), max_items(p))
    return paged(page, "Groups", group_shape)


def list_groups_for_user(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.groups.list_for_user(p["UserName"], p.get("Marker"), max_items(p))
    return paged(page, "Groups", group_shape)


def update_group(ctx: CallContext, p: Params) -> Result:
    ctx.services.groups.update(p["GroupName"], p.get("NewGroupName"), p.get("NewPath"))
    return None


def delete_group(ctx: CallContext, p: Params) -> Result:
    ctx.services.groups.delete(p["GroupName"])
    return None


def add_user_to_group(ctx: CallContext, p: Params) -> Result:
    ctx.services.groups.add_user(p["GroupName"], p["UserName"])
    return None


def remove_user_from_group(ctx: CallContext, p: Params) -> Result:
    ctx.services.groups.remove_user(p["GroupName"], p["UserName"])
    return None


OPERATIONS = (
    Operation("iam", "CreateGroup", create_group, new_entity_resource("group", "GroupName")),
    Operation("iam", "GetGroup", get_group, group_resource),
    Operation("iam", "ListGroups", list_groups, any_resource),
    Operation("iam", "ListGroupsForUser", list_groups_for_user, user_resource),
    Operation("iam", "UpdateGroup", update_group, group_resource),
    Operation("iam", "DeleteGroup", delete_group, group_resource),
    # AWS authorizes membership changes against the group, not the user.
    Operation("iam", "AddUserToGroup", add_user_to_group, group_resource),
    Operation("iam", "RemoveUserFromGroup", remove_user_from_group, group_resource),
)

"""IAM user operations."""

from __future__ import annotations

from iamd.operations.iam.shapes import max_items, paged, tags_shape, user_shape
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    Result,
    any_resource,
    new_entity_resource,
    user_resource,
)
from iamd.services.tagging import tags_from_params
from iamd.services.users import target_user_name


def create_user(ctx: CallContext, p: Params) -> Result:
    user = ctx.services.users.create(
        p["UserName"],
        p.get("Path", "/"),
        tags_from_params(p.get("Tags")),
        p.get("PermissionsBoundary"),
    )
    return {"User": user_shape(user)}


def get_user(ctx: CallContext, p: Params) -> Result:
    user = ctx.services.users.get(target_user_name(ctx.caller, p.get("UserName")))
    return {"User": user_shape(user)}


def list_users(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.users.listing(p.get("PathPrefix", "/"), p.get("Marker"), max_items(p))
    return paged(page, "Users", lambda u: user_shape(u, full=False))


def update_user(ctx: CallContext, p: Params) -> Result:
    ctx.services.users.update(p["UserName"], p.get("NewUserName"), p.get("NewPath"))
    return None


def delete_user(ctx: CallContext, p: Params) -> Result:
    ctx.services.users.delete(p["UserName"])
    return None


def tag_user(ctx: CallContext, p: Params) -> Result:
    ctx.services.users.tag(p["UserName"], tags_from_params(p["Tags"]))
    return None


def untag_user(ctx: CallContext, p: Params) -> Result:
    ctx.services.users.untag(p["UserName"], p["TagKeys"])
    return None


def list_user_tags(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.users.list_tags(p["UserName"], p.get("Marker"), max_items(p))
    result = paged(page, "Tags", lambda t: t)
    result["Tags"] = tags_shape(page.items)
    return result


OPERATIONS = (
    Operation("iam", "CreateUser", create_user, new_entity_resource("user", "UserName")),
    Operation("iam", "GetUser", get_user, user_resource),
    Operation("iam", "ListUsers", list_users, any_resource),
    Operation("iam", "UpdateUser", update_user, user_resource),
    Operation("iam", "DeleteUser", delete_user, user_resource),
    Operation("iam", "TagUser", tag_user, user_resource),
    Operation("iam", "UntagUser", untag_user, user_resource),
    Operation("iam", "ListUserTags", list_user_tags, user_resource),
)

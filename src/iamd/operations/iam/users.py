"""IAM user operations."""

from __future__ import annotations

from iamd.operations.iam.shapes import (
    about_root_user,
    max_items,
    paged,
    tags_from_params,
    user_shape,
)
from iamd.operations.iam.tag_operations import tag_operations
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    Result,
    any_resource,
    new_entity_resource,
    user_resource,
)
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
    if about_root_user(ctx.caller, p):
        # The root user (an AssumeRoot session): no UserName or Path, as AWS answers it.
        account = ctx.services.accounts.get(ctx.caller.account_id)
        return {
            "User": {
                "UserId": account.account_id,
                "Arn": ctx.caller.arn,
                "CreateDate": account.create_date,
            }
        }
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


OPERATIONS = (
    Operation("iam", "CreateUser", create_user, new_entity_resource("user", "UserName")),
    Operation("iam", "GetUser", get_user, user_resource),
    Operation("iam", "ListUsers", list_users, any_resource),
    Operation("iam", "UpdateUser", update_user, user_resource),
    Operation("iam", "DeleteUser", delete_user, user_resource),
    *tag_operations("User", "UserName", lambda services: services.users.tags, user_resource),
)

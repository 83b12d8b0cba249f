"""IAM inline policy operations for users and groups."""

from __future__ import annotations

from iamd.operations.iam.shapes import max_items, paged
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    Result,
    group_resource,
    user_resource,
)


def put_user_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.inline_policies.put_user_policy(
        p["UserName"], p["PolicyName"], p["PolicyDocument"]
    )
    return None


def get_user_policy(ctx: CallContext, p: Params) -> Result:
    user_name, policy = ctx.services.inline_policies.get_user_policy(p["UserName"], p["PolicyName"])
    return {"UserName": user_name, "PolicyName": policy.name, "PolicyDocument": policy.document}


def list_user_policies(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.inline_policies.list_user_policies(
        p["UserName"], p.get("Marker"), max_items(p)
    )
    return paged(page, "PolicyNames", lambda name: name)


def delete_user_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.inline_policies.delete_user_policy(p["UserName"], p["PolicyName"])
    return None


def put_group_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.inline_policies.put_group_policy(
        p["GroupName"], p["PolicyName"], p["PolicyDocument"]
    )
    return None


def get_group_policy(ctx: CallContext, p: Params) -> Result:
    group_name, policy = ctx.services.inline_policies.get_group_policy(
        p["GroupName"], p["PolicyName"]
    )
    return {
        "GroupName": group_name,
        "PolicyName": policy.name,
        "PolicyDocument": policy.document,
    }


def list_group_policies(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.inline_policies.list_group_policies(
        p["GroupName"], p.get("Marker"), max_items(p)
    )
    return paged(page, "PolicyNames", lambda name: name)


def delete_group_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.inline_policies.delete_group_policy(p["GroupName"], p["PolicyName"])
    return None


OPERATIONS = (
    Operation("iam", "PutUserPolicy", put_user_policy, user_resource),
    Operation("iam", "GetUserPolicy", get_user_policy, user_resource),
    Operation("iam", "ListUserPolicies", list_user_policies, user_resource),
    Operation("iam", "DeleteUserPolicy", delete_user_policy, user_resource),
    Operation("iam", "PutGroupPolicy", put_group_policy, group_resource),
    Operation("iam", "GetGroupPolicy", get_group_policy, group_resource),
    Operation("iam", "ListGroupPolicies", list_group_policies, group_resource),
    Operation("iam", "DeleteGroupPolicy", delete_group_policy, group_resource),
)

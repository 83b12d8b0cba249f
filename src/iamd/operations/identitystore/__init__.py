"""The Identity Center identity store (`identitystore`, JSON 1.1, API 2020-06-15):
users, groups and group memberships.

Every operation is authorized as `identitystore:<Operation>` on the store's ARN
(`arn:aws:identitystore::ACCOUNT:identitystore/d-…`); the service answers only for the
caller's own instance's store.
"""

from __future__ import annotations

from typing import Any

from iamd.errors import ValidationError
from iamd.model.identity_center import DirectoryGroup, DirectoryUser, GroupMembership
from iamd.operations.registry import CallContext, Operation, Params, Result


def _store_resource(ctx: CallContext, p: Params) -> str:
    return f"arn:aws:identitystore::{ctx.caller.account_id}:identitystore/{p['IdentityStoreId']}"


def _user_shape(user: DirectoryUser) -> dict[str, Any]:
    return {
        "IdentityStoreId": user.identity_store_id,
        "UserId": user.user_id,
        "UserName": user.user_name,
        **user.attributes,
        "UserStatus": user.status,
        "CreatedAt": user.created,
        "CreatedBy": user.created_by,
        "UpdatedAt": user.updated,
        "UpdatedBy": user.updated_by,
    }


def _group_shape(group: DirectoryGroup) -> dict[str, Any]:
    return {
        "IdentityStoreId": group.identity_store_id,
        "GroupId": group.group_id,
        "DisplayName": group.display_name,
        "Description": group.description,
        "ExternalIds": group.external_ids or None,
        "CreatedAt": group.created,
        "CreatedBy": group.created_by,
        "UpdatedAt": group.updated,
        "UpdatedBy": group.updated_by,
    }


def _membership_shape(membership: GroupMembership) -> dict[str, Any]:
    return {
        "IdentityStoreId": membership.identity_store_id,
        "MembershipId": membership.membership_id,
        "GroupId": membership.group_id,
        "MemberId": {"UserId": membership.user_id},
        "CreatedAt": membership.created,
        "CreatedBy": membership.created_by,
        "UpdatedAt": membership.created,
        "UpdatedBy": membership.created_by,
    }


def _member_user_id(p: Params) -> str:
    user_id = p["MemberId"].get("UserId")
    if not user_id:
        raise ValidationError("MemberId must name a UserId.")
    return str(user_id)


# -- users -----------------------------------------------------------------------------


def create_user(ctx: CallContext, p: Params) -> Result:
    user = ctx.services.identity_store.create_user(p["IdentityStoreId"], p, ctx.caller.arn)
    return {"IdentityStoreId": user.identity_store_id, "UserId": user.user_id}


def describe_user(ctx: CallContext, p: Params) -> Result:
    return _user_shape(ctx.services.identity_store.user(p["IdentityStoreId"], p["UserId"]))


def list_users(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.identity_store.users(
        p["IdentityStoreId"], p.get("Filters", []), p.get("NextToken"), p.get("MaxResults")
    )
    return {"Users": [_user_shape(user) for user in page.items], "NextToken": page.next_token}


def update_user(ctx: CallContext, p: Params) -> Result:
    ctx.services.identity_store.update_user(
        p["IdentityStoreId"], p["UserId"], p["Operations"], ctx.caller.arn
    )
    return None


def delete_user(ctx: CallContext, p: Params) -> Result:
    ctx.services.identity_store.delete_user(p["IdentityStoreId"], p["UserId"])
    return None


def get_user_id(ctx: CallContext, p: Params) -> Result:
    user_id = ctx.services.identity_store.user_id_of(p["IdentityStoreId"], p["AlternateIdentifier"])
    return {"IdentityStoreId": p["IdentityStoreId"], "UserId": user_id}


# -- groups ----------------------------------------------------------------------------


def create_group(ctx: CallContext, p: Params) -> Result:
    group = ctx.services.identity_store.create_group(
        p["IdentityStoreId"], p.get("DisplayName"), p.get("Description"), ctx.caller.arn
    )
    return {"IdentityStoreId": group.identity_store_id, "GroupId": group.group_id}


def describe_group(ctx: CallContext, p: Params) -> Result:
    return _group_shape(ctx.services.identity_store.group(p["IdentityStoreId"], p["GroupId"]))


def list_groups(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.identity_store.groups(
        p["IdentityStoreId"], p.get("Filters", []), p.get("NextToken"), p.get("MaxResults")
    )
    return {"Groups": [_group_shape(group) for group in page.items], "NextToken": page.next_token}


def update_group(ctx: CallContext, p: Params) -> Result:
    ctx.services.identity_store.update_group(
        p["IdentityStoreId"], p["GroupId"], p["Operations"], ctx.caller.arn
    )
    return None


def delete_group(ctx: CallContext, p: Params) -> Result:
    ctx.services.identity_store.delete_group(p["IdentityStoreId"], p["GroupId"])
    return None


def get_group_id(ctx: CallContext, p: Params) -> Result:
    group_id = ctx.services.identity_store.group_id_of(
        p["IdentityStoreId"], p["AlternateIdentifier"]
    )
    return {"IdentityStoreId": p["IdentityStoreId"], "GroupId": group_id}


# -- memberships -----------------------------------------------------------------------


def create_group_membership(ctx: CallContext, p: Params) -> Result:
    membership = ctx.services.identity_store.add_member(
        p["IdentityStoreId"], p["GroupId"], _member_user_id(p), ctx.caller.arn
    )
    return {
        "IdentityStoreId": membership.identity_store_id,
        "MembershipId": membership.membership_id,
    }


def describe_group_membership(ctx: CallContext, p: Params) -> Result:
    membership = ctx.services.identity_store.membership(p["IdentityStoreId"], p["MembershipId"])
    return _membership_shape(membership)


def delete_group_membership(ctx: CallContext, p: Params) -> Result:
    ctx.services.identity_store.remove_member(p["IdentityStoreId"], p["MembershipId"])
    return None


def get_group_membership_id(ctx: CallContext, p: Params) -> Result:
    membership_id = ctx.services.identity_store.membership_id_of(
        p["IdentityStoreId"], p["GroupId"], _member_user_id(p)
    )
    return {"IdentityStoreId": p["IdentityStoreId"], "MembershipId": membership_id}


def list_group_memberships(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.identity_store.memberships(
        p["IdentityStoreId"], p.get("NextToken"), p.get("MaxResults"), group_id=p["GroupId"]
    )
    return {
        "GroupMemberships": [_membership_shape(m) for m in page.items],
        "NextToken": page.next_token,
    }


def list_group_memberships_for_member(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.identity_store.memberships(
        p["IdentityStoreId"], p.get("NextToken"), p.get("MaxResults"), user_id=_member_user_id(p)
    )
    return {
        "GroupMemberships": [_membership_shape(m) for m in page.items],
        "NextToken": page.next_token,
    }


def is_member_in_groups(ctx: CallContext, p: Params) -> Result:
    user_id = _member_user_id(p)
    results = ctx.services.identity_store.member_in_groups(
        p["IdentityStoreId"], user_id, p["GroupIds"]
    )
    return {
        "Results": [
            {"GroupId": group_id, "MemberId": {"UserId": user_id}, "MembershipExists": exists}
            for group_id, exists in results
        ]
    }


_HANDLERS = {
    "CreateUser": create_user,
    "DescribeUser": describe_user,
    "ListUsers": list_users,
    "UpdateUser": update_user,
    "DeleteUser": delete_user,
    "GetUserId": get_user_id,
    "CreateGroup": create_group,
    "DescribeGroup": describe_group,
    "ListGroups": list_groups,
    "UpdateGroup": update_group,
    "DeleteGroup": delete_group,
    "GetGroupId": get_group_id,
    "CreateGroupMembership": create_group_membership,
    "DescribeGroupMembership": describe_group_membership,
    "DeleteGroupMembership": delete_group_membership,
    "GetGroupMembershipId": get_group_membership_id,
    "ListGroupMemberships": list_group_memberships,
    "ListGroupMembershipsForMember": list_group_memberships_for_member,
    "IsMemberInGroups": is_member_in_groups,
}

OPERATIONS: tuple[Operation, ...] = tuple(
    Operation("identitystore", name, handler, _store_resource)
    for name, handler in _HANDLERS.items()
)

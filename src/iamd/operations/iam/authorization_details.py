"""GetAccountAuthorizationDetails: the account's users, groups, roles and policies."""

from __future__ import annotations

from typing import Any

from iamd.model import InlinePolicy
from iamd.operations.iam.instance_profiles import instance_profile_shape
from iamd.operations.iam.shapes import (
    attached_policy_shape,
    boundary_shape,
    group_shape,
    max_items,
    policy_shape,
    role_last_used_shape,
    role_shape,
    tags_shape,
)
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.authorization_details import (
    GroupDetail,
    PolicyDetail,
    RoleDetail,
    UserDetail,
)


def _inline(policies: list[InlinePolicy]) -> list[dict[str, str]]:
    return [{"PolicyName": p.name, "PolicyDocument": p.document} for p in policies]


def _user(detail: UserDetail) -> dict[str, Any]:
    user = detail.user
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": user.create_date,
        "UserPolicyList": _inline(detail.inline_policies),
        "GroupList": detail.group_names,
        "AttachedManagedPolicies": [attached_policy_shape(p) for p in detail.attached_policies],
    }
    if user.permissions_boundary_arn:
        shape["PermissionsBoundary"] = boundary_shape(user.permissions_boundary_arn)
    if user.tags:
        shape["Tags"] = tags_shape(user.tags)
    return shape


def _group(detail: GroupDetail) -> dict[str, Any]:
    return {
        **group_shape(detail.group),
        "GroupPolicyList": _inline(detail.inline_policies),
        "AttachedManagedPolicies": [attached_policy_shape(p) for p in detail.attached_policies],
    }


def _role(detail: RoleDetail) -> dict[str, Any]:
    role = detail.role
    shape: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": role.create_date,
        "AssumeRolePolicyDocument": role.assume_role_policy,
        "InstanceProfileList": [instance_profile_shape(ip) for ip in detail.instance_profiles],
        "RolePolicyList": _inline(detail.inline_policies),
        "AttachedManagedPolicies": [attached_policy_shape(p) for p in detail.attached_policies],
    }
    full = role_shape(role)
    for member in ("PermissionsBoundary", "Tags"):
        if member in full:
            shape[member] = full[member]
    shape["RoleLastUsed"] = role_last_used_shape(role.last_used_date, role.last_used_region)
    return shape


def _policy(detail: PolicyDetail) -> dict[str, Any]:
    # The listing shape plus Description (when set) and every version with its document.
    shape = policy_shape(detail.policy, full=False)
    if detail.policy.description:
        shape["Description"] = detail.policy.description
    shape["PolicyVersionList"] = [
        {
            "Document": v.document,
            "VersionId": v.version_id,
            "IsDefaultVersion": v.is_default,
            "CreateDate": v.create_date,
        }
        for v in detail.versions
    ]
    return shape


def get_account_authorization_details(ctx: CallContext, p: Params) -> Result:
    found = ctx.services.authorization_details.details(
        p.get("Filter") or (), p.get("Marker"), max_items(p)
    )
    result: dict[str, Any] = {
        "UserDetailList": [_user(d) for d in found.users],
        "GroupDetailList": [_group(d) for d in found.groups],
        "RoleDetailList": [_role(d) for d in found.roles],
        "Policies": [_policy(d) for d in found.policies],
        "IsTruncated": found.next_marker is not None,
    }
    if found.next_marker is not None:
        result["Marker"] = found.next_marker
    return result


OPERATIONS = (
    Operation(
        "iam",
        "GetAccountAuthorizationDetails",
        get_account_authorization_details,
        any_resource,
        costly=True,
    ),
)

"""Condition keys that come from the request itself, derived from its parameters.

AWS sets these for IAM: `aws:RequestTag/<key>` and `aws:TagKeys` when a request carries
tags (or removes them), `iam:PolicyARN` when it attaches or detaches a managed policy,
`iam:PermissionsBoundary` when it sets a boundary, and `aws:ResourceTag/<key>` (also as
`iam:ResourceTag/<key>`) with the tags of the user, role, MFA device or managed policy a
request is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from iamd.errors import AwsError, NoSuchEntity
from iamd.model import Tag
from iamd.model.page import Page
from iamd.operations.registry import CallContext, Params
from iamd.services.outbound_federation import DEFAULT_DURATION_SECONDS

_POLICY_ARN_ACTIONS = frozenset(
    {
        "iam:AttachUserPolicy",
        "iam:DetachUserPolicy",
        "iam:AttachGroupPolicy",
        "iam:DetachGroupPolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
    }
)


def request_condition_keys(
    ctx: CallContext, action: str, params: Params, *, with_resource_tags: bool
) -> dict[str, str | Sequence[str]]:
    keys: dict[str, str | Sequence[str]] = {}
    tags = params.get("Tags")
    if tags:
        for tag in tags:
            keys[f"aws:RequestTag/{tag['Key']}"] = tag["Value"]
        keys["aws:TagKeys"] = [tag["Key"] for tag in tags]
    tag_keys = params.get("TagKeys")
    if tag_keys:
        keys["aws:TagKeys"] = list(tag_keys)
    if action in _POLICY_ARN_ACTIONS and "PolicyArn" in params:
        keys["iam:PolicyARN"] = params["PolicyArn"]
    boundary = params.get("PermissionsBoundary")
    if boundary:
        keys["iam:PermissionsBoundary"] = boundary
    if action == "sts:GetWebIdentityToken":
        keys["sts:IdentityTokenAudience"] = list(params["Audience"])
        # The token's lifetime, the default included, so a NumericLessThanEquals
        # condition holds for a request that leaves it out.
        keys["sts:DurationSeconds"] = str(params.get("DurationSeconds") or DEFAULT_DURATION_SECONDS)
    if action == "sts:AssumeRoot" and isinstance(params.get("TaskPolicyArn"), Mapping):
        arn = params["TaskPolicyArn"].get("arn")
        if isinstance(arn, str):
            keys["sts:TaskPolicyArn"] = arn
    if with_resource_tags and action.startswith("iam:"):
        if "UserName" in params or action in _CALLER_ACTIONS:
            keys.update(_resource_tags(ctx, params.get("UserName")))
        elif "RoleName" in params:
            keys.update(_role_tags(ctx, params["RoleName"]))
        elif action in _MFA_DEVICE_ACTIONS:
            keys.update(_listed_tags(ctx.services.mfa_devices.tags, params["SerialNumber"]))
        elif action in _MANAGED_POLICY_ACTIONS:
            keys.update(_listed_tags(ctx.services.policies.tags, params["PolicyArn"]))
    return keys


class _TagLister(Protocol):
    def list_tags(self, key: str, marker: str | None, max_items: int, /) -> Page[Tag]: ...


def _listed_tags(service: _TagLister, key: str) -> dict[str, str | Sequence[str]]:
    """The tags of the MFA device or managed policy a request is about (at most 50)."""
    try:
        return _tag_keys(service.list_tags(key, None, 50).items)
    except AwsError:
        # No such device or policy: the handler answers that after authorization.
        return {}


# Operations whose UserName defaults to the caller (their resource is then the caller).
_CALLER_ACTIONS = frozenset(
    {
        "iam:GetUser",
        "iam:CreateAccessKey",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
        "iam:ListMFADevices",
        "iam:GetMFADevice",
        "iam:DeactivateMFADevice",
    }
)
# Operations whose resource is the MFA device or the managed policy itself: only these
# see its tags (AttachGroupPolicy names a PolicyArn, but its resource is the group).
_MFA_DEVICE_ACTIONS = frozenset(
    {
        "iam:DeleteVirtualMFADevice",
        "iam:TagMFADevice",
        "iam:UntagMFADevice",
        "iam:ListMFADeviceTags",
    }
)
_MANAGED_POLICY_ACTIONS = frozenset(
    {
        "iam:GetPolicy",
        "iam:DeletePolicy",
        "iam:CreatePolicyVersion",
        "iam:GetPolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:ListPolicyVersions",
        "iam:SetDefaultPolicyVersion",
        "iam:TagPolicy",
        "iam:UntagPolicy",
        "iam:ListPolicyTags",
    }
)


def _resource_tags(ctx: CallContext, user_name: str | None) -> dict[str, str | Sequence[str]]:
    if user_name is None or (
        ctx.caller.user is not None and user_name.lower() == ctx.caller.user.name.lower()
    ):
        tags = ctx.caller.user.tags if ctx.caller.user is not None else ()
    else:
        try:
            tags = ctx.services.users.get(user_name).tags
        except NoSuchEntity:
            return {}
    return _tag_keys(tags)


def _role_tags(ctx: CallContext, role_name: str) -> dict[str, str | Sequence[str]]:
    try:
        return _tag_keys(ctx.services.roles.get(role_name).tags)
    except NoSuchEntity:
        return {}


def _tag_keys(tags: Sequence[Tag]) -> dict[str, str | Sequence[str]]:
    keys: dict[str, str | Sequence[str]] = {}
    for tag in tags:
        keys[f"aws:ResourceTag/{tag.key}"] = tag.value
        keys[f"iam:ResourceTag/{tag.key}"] = tag.value
    return keys

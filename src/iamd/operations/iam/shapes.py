"""Domain objects rendered as the output shapes of the IAM model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from iamd.errors import ValidationError
from iamd.model import AccessKey, AttachedPolicy, Group, ManagedPolicy, Role, Tag, User
from iamd.model.page import Page
from iamd.principals.caller import Caller, PrincipalType
from iamd.services.tagging import require_distinct_keys

T = TypeVar("T")
S = TypeVar("S", bound=Enum)

DEFAULT_MAX_ITEMS = 100


def max_items(params: Any) -> int:
    return int(params.get("MaxItems", DEFAULT_MAX_ITEMS))


def settable_status(status: type[S], value: str) -> S:
    """An access key's or SSH key's new Status: Active or Inactive.

    'Expired' is in the model's status enum (which both share) but cannot be set.
    """
    try:
        return status(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in status)
        raise ValidationError.constraint(
            "status", f"Member must satisfy enum value set: [{allowed}]", value=value
        ) from None


def tags_from_params(raw: Sequence[dict[str, str]] | None) -> tuple[Tag, ...]:
    """A request's Tags member as tags, its keys unique ignoring case."""
    if not raw:
        return ()
    tags = tuple(Tag(t["Key"], t["Value"]) for t in raw)
    require_distinct_keys(tags)
    return tags


def tags_shape(tags: Sequence[Tag]) -> list[dict[str, str]]:
    return [{"Key": t.key, "Value": t.value} for t in tags]


def boundary_shape(arn: str) -> dict[str, str]:
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def user_shape(user: User, *, full: bool = True) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": user.create_date,
    }
    if user.password_last_used is not None:
        shape["PasswordLastUsed"] = user.password_last_used
    if full and user.permissions_boundary_arn:
        shape["PermissionsBoundary"] = boundary_shape(user.permissions_boundary_arn)
    if full and user.tags:
        shape["Tags"] = tags_shape(user.tags)
    return shape


def group_shape(group: Group) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.group_id,
        "Arn": group.arn,
        "CreateDate": group.create_date,
    }


def role_shape(role: Role, *, full: bool = True) -> dict[str, Any]:
    """A Role; listings (`full=False`) omit the boundary and tags, as ListRoles does.
    The trust policy is percent-encoded on the wire by the serializer (policyDocumentType)."""
    shape: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": role.create_date,
        "AssumeRolePolicyDocument": role.assume_role_policy,
    }
    if role.description:
        shape["Description"] = role.description
    shape["MaxSessionDuration"] = role.max_session_duration
    if full and role.permissions_boundary_arn:
        shape["PermissionsBoundary"] = boundary_shape(role.permissions_boundary_arn)
    if full and role.tags:
        shape["Tags"] = tags_shape(role.tags)
    return shape


def role_last_used_shape(when: datetime | None, region: str | None) -> dict[str, Any]:
    """RoleLastUsed: empty when no session of the role was ever used."""
    shape: dict[str, Any] = {}
    if when is not None:
        shape["LastUsedDate"] = when
    if region is not None:
        shape["Region"] = region
    return shape


def policy_shape(
    policy: ManagedPolicy, *, full: bool = True, created: bool = False
) -> dict[str, Any]:
    """A Policy element: full for GetPolicy, the listing form otherwise.

    AWS's GetPolicy always has Tags (an empty list for an untagged policy), its
    CreatePolicy does not echo the Description (only the tags it was given), and its
    listings have neither.
    """
    shape: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version_id,
        "AttachmentCount": policy.attachment_count,
        "PermissionsBoundaryUsageCount": policy.permissions_boundary_usage_count,
        "IsAttachable": policy.is_attachable,
        "CreateDate": policy.create_date,
        "UpdateDate": policy.update_date,
    }
    if created:
        if policy.tags:
            shape["Tags"] = tags_shape(policy.tags)
    elif full:
        if policy.description:
            shape["Description"] = policy.description
        shape["Tags"] = tags_shape(policy.tags)
    return shape


def attached_policy_shape(policy: AttachedPolicy) -> dict[str, str]:
    return {"PolicyName": policy.name, "PolicyArn": policy.arn}


def access_key_metadata_shape(key: AccessKey) -> dict[str, Any]:
    return {
        "UserName": key.user_name,
        "AccessKeyId": key.access_key_id,
        "Status": key.status.value,
        "CreateDate": key.create_date,
    }


def about_root_user(caller: Caller, params: Any) -> bool:
    """Whether a request about "the caller" comes from a root session (AssumeRoot) and
    names no user: it is about the member account's root user, which in iamd holds no
    access keys, MFA devices, signing certificates or password (its lists are empty,
    what it names cannot be found)."""
    return caller.principal_type is PrincipalType.ACCOUNT and params.get("UserName") is None


EMPTY_PAGE: Page[Any] = Page([], None)


def paged(page: Page[T], member: str, render: Callable[[T], Any]) -> dict[str, Any]:
    """A List operation's result: the items, IsTruncated, and Marker when truncated."""
    result: dict[str, Any] = {
        member: [render(item) for item in page.items],
        "IsTruncated": page.is_truncated,
    }
    if page.next_marker is not None:
        result["Marker"] = page.next_marker
    return result

"""IAM managed policy operations: policies, versions, tags, and attachments to users,
groups and roles."""

from __future__ import annotations

from typing import Any

from iamd.model import PolicyVersion
from iamd.model.owners import OwnerKind
from iamd.operations.iam.shapes import (
    attached_policy_shape,
    max_items,
    paged,
    policy_shape,
    tags_from_params,
)
from iamd.operations.iam.tag_operations import tag_operations
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    ResourceOf,
    Result,
    any_resource,
    group_resource,
    new_entity_resource,
    policy_resource,
    role_resource,
    user_resource,
)


def _version_shape(version: PolicyVersion, *, with_document: bool) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.is_default,
        "CreateDate": version.create_date,
    }
    if with_document:
        shape = {"Document": version.document, **shape}
    return shape


def create_policy(ctx: CallContext, p: Params) -> Result:
    policy = ctx.services.policies.create(
        p["PolicyName"],
        p.get("Path", "/"),
        p["PolicyDocument"],
        p.get("Description"),
        tags_from_params(p.get("Tags")),
    )
    return {"Policy": policy_shape(policy, created=True)}


def get_policy(ctx: CallContext, p: Params) -> Result:
    return {"Policy": policy_shape(ctx.services.policies.get(p["PolicyArn"]))}


def list_policies(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.policies.listing(
        scope=p.get("Scope", "All"),
        only_attached=p.get("OnlyAttached", False),
        path_prefix=p.get("PathPrefix", "/"),
        marker=p.get("Marker"),
        max_items=max_items(p),
        usage=p.get("PolicyUsageFilter"),
    )
    return paged(page, "Policies", lambda policy: policy_shape(policy, full=False))


def delete_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.policies.delete(p["PolicyArn"])
    return None


def create_policy_version(ctx: CallContext, p: Params) -> Result:
    version = ctx.services.policies.create_version(
        p["PolicyArn"], p["PolicyDocument"], p.get("SetAsDefault", False)
    )
    return {"PolicyVersion": _version_shape(version, with_document=False)}


def get_policy_version(ctx: CallContext, p: Params) -> Result:
    version = ctx.services.policies.get_version(p["PolicyArn"], p["VersionId"])
    return {"PolicyVersion": _version_shape(version, with_document=True)}


def list_policy_versions(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.policies.list_versions(p["PolicyArn"], p.get("Marker"), max_items(p))
    return paged(page, "Versions", lambda v: _version_shape(v, with_document=False))


def delete_policy_version(ctx: CallContext, p: Params) -> Result:
    ctx.services.policies.delete_version(p["PolicyArn"], p["VersionId"])
    return None


def set_default_policy_version(ctx: CallContext, p: Params) -> Result:
    ctx.services.policies.set_default_version(p["PolicyArn"], p["VersionId"])
    return None


def list_entities_for_policy(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.policies.entities_for(
        p["PolicyArn"],
        p.get("EntityFilter"),
        p.get("PathPrefix", "/"),
        p.get("Marker"),
        max_items(p),
        usage=p.get("PolicyUsageFilter"),
    )
    result: dict[str, Any] = {
        "PolicyGroups": [
            {"GroupName": e.name, "GroupId": e.entity_id} for e in page.items if e.kind == "Group"
        ],
        "PolicyUsers": [
            {"UserName": e.name, "UserId": e.entity_id} for e in page.items if e.kind == "User"
        ],
        "PolicyRoles": [
            {"RoleName": e.name, "RoleId": e.entity_id} for e in page.items if e.kind == "Role"
        ],
        "IsTruncated": page.is_truncated,
    }
    if page.next_marker is not None:
        result["Marker"] = page.next_marker
    return result


def _attachment_operations(kind: OwnerKind, resource: ResourceOf) -> tuple[Operation, ...]:
    """Attach/Detach/ListAttached<Kind>Policies of one kind of owner."""
    title = kind.value.capitalize()
    owner_param = f"{title}Name"

    def attach(ctx: CallContext, p: Params) -> Result:
        ctx.services.policies.attach(kind, p[owner_param], p["PolicyArn"])
        return None

    def detach(ctx: CallContext, p: Params) -> Result:
        ctx.services.policies.detach(kind, p[owner_param], p["PolicyArn"])
        return None

    def listing(ctx: CallContext, p: Params) -> Result:
        page = ctx.services.policies.attached(
            kind, p[owner_param], p.get("PathPrefix", "/"), p.get("Marker"), max_items(p)
        )
        return paged(page, "AttachedPolicies", attached_policy_shape)

    return (
        Operation("iam", f"Attach{title}Policy", attach, resource),
        Operation("iam", f"Detach{title}Policy", detach, resource),
        Operation("iam", f"ListAttached{title}Policies", listing, resource),
    )


OPERATIONS = (
    Operation("iam", "CreatePolicy", create_policy, new_entity_resource("policy", "PolicyName")),
    Operation("iam", "GetPolicy", get_policy, policy_resource),
    Operation("iam", "ListPolicies", list_policies, any_resource),
    Operation("iam", "DeletePolicy", delete_policy, policy_resource),
    Operation("iam", "CreatePolicyVersion", create_policy_version, policy_resource),
    Operation("iam", "GetPolicyVersion", get_policy_version, policy_resource),
    Operation("iam", "ListPolicyVersions", list_policy_versions, policy_resource),
    Operation("iam", "DeletePolicyVersion", delete_policy_version, policy_resource),
    Operation("iam", "SetDefaultPolicyVersion", set_default_policy_version, policy_resource),
    Operation("iam", "ListEntitiesForPolicy", list_entities_for_policy, policy_resource),
    *tag_operations(
        "Policy", "PolicyArn", lambda services: services.policies.tags, policy_resource
    ),
    *_attachment_operations(OwnerKind.USER, user_resource),
    *_attachment_operations(OwnerKind.GROUP, group_resource),
    *_attachment_operations(OwnerKind.ROLE, role_resource),
)

"""IAM role operations: the role itself, its trust policy, its tags.

Inline policies, attachments and permissions boundaries of roles are in the modules
shared with users and groups (`inline_policies`, `policies`, `permissions_boundaries`).
"""

from __future__ import annotations

from iamd.operations.iam.shapes import (
    max_items,
    paged,
    role_last_used_shape,
    role_shape,
    tags_from_params,
)
from iamd.operations.iam.tag_operations import tag_operations
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    Result,
    any_resource,
    new_entity_resource,
    role_resource,
)


def create_role(ctx: CallContext, p: Params) -> Result:
    role = ctx.services.roles.create(
        p["RoleName"],
        p.get("Path", "/"),
        p["AssumeRolePolicyDocument"],
        description=p.get("Description"),
        max_session_duration=p.get("MaxSessionDuration"),
        permissions_boundary_arn=p.get("PermissionsBoundary"),
        tags=tags_from_params(p.get("Tags")),
    )
    return {"Role": role_shape(role)}


def get_role(ctx: CallContext, p: Params) -> Result:
    batches = ctx.services.last_used.batches_written
    role = ctx.services.roles.get(p["RoleName"])
    # A use recorded but not yet written is newer than the stored one.
    pending = ctx.services.last_used.pending_role(role.role_id)
    if pending is None and ctx.services.last_used.batches_written != batches:
        role = ctx.services.roles.get(p["RoleName"])  # its use committed meanwhile
    when, region = role.last_used_date, role.last_used_region
    if pending is not None and (when is None or pending.when > when):
        when, region = pending.when, pending.region
    return {"Role": {**role_shape(role), "RoleLastUsed": role_last_used_shape(when, region)}}


def list_roles(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.roles.listing(p.get("PathPrefix", "/"), p.get("Marker"), max_items(p))
    return paged(page, "Roles", lambda r: role_shape(r, full=False))


def update_role(ctx: CallContext, p: Params) -> Result:
    ctx.services.roles.update(
        p["RoleName"],
        description=p.get("Description"),
        max_session_duration=p.get("MaxSessionDuration"),
    )
    return {}


def update_role_description(ctx: CallContext, p: Params) -> Result:
    role = ctx.services.roles.update(
        p["RoleName"], description=p["Description"], max_session_duration=None
    )
    return {"Role": role_shape(role)}


def update_assume_role_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.roles.update_assume_role_policy(p["RoleName"], p["PolicyDocument"])
    return None


def delete_role(ctx: CallContext, p: Params) -> Result:
    ctx.services.roles.delete(p["RoleName"])
    return None


OPERATIONS = (
    Operation("iam", "CreateRole", create_role, new_entity_resource("role", "RoleName")),
    Operation("iam", "GetRole", get_role, role_resource),
    Operation("iam", "ListRoles", list_roles, any_resource),
    Operation("iam", "UpdateRole", update_role, role_resource),
    Operation("iam", "UpdateRoleDescription", update_role_description, role_resource),
    Operation("iam", "UpdateAssumeRolePolicy", update_assume_role_policy, role_resource),
    Operation("iam", "DeleteRole", delete_role, role_resource),
    *tag_operations("Role", "RoleName", lambda services: services.roles.tags, role_resource),
)

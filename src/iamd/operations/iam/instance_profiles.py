"""IAM instance profile operations: the profile, the role it holds, its tags."""

from __future__ import annotations

from typing import Any

from iamd.model import Role
from iamd.model.instance_profiles import InstanceProfile
from iamd.operations.iam.shapes import max_items, paged, tags_from_params, tags_shape
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


def instance_profile_resource(ctx: CallContext, params: Params) -> str:
    """The named profile's ARN, path included (unknown names take the path `/`)."""
    return ctx.services.paths.instance_profile_arn(params["InstanceProfileName"])


def _role_in_profile(role: Role) -> dict[str, Any]:
    # The members AWS shows for a role inside an instance profile.
    return {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": role.create_date,
        "AssumeRolePolicyDocument": role.assume_role_policy,
    }


def instance_profile_shape(profile: InstanceProfile, *, full: bool = True) -> dict[str, Any]:
    """An InstanceProfile; listings (`full=False`) leave the tags out, as AWS's do."""
    shape: dict[str, Any] = {
        "Path": profile.path,
        "InstanceProfileName": profile.name,
        "InstanceProfileId": profile.instance_profile_id,
        "Arn": profile.arn,
        "CreateDate": profile.create_date,
        "Roles": [_role_in_profile(role) for role in profile.roles],
    }
    if full and profile.tags:
        shape["Tags"] = tags_shape(profile.tags)
    return shape


def create_instance_profile(ctx: CallContext, p: Params) -> Result:
    profile = ctx.services.instance_profiles.create(
        p["InstanceProfileName"], p.get("Path", "/"), tags_from_params(p.get("Tags"))
    )
    return {"InstanceProfile": instance_profile_shape(profile)}


def get_instance_profile(ctx: CallContext, p: Params) -> Result:
    profile = ctx.services.instance_profiles.get(p["InstanceProfileName"])
    return {"InstanceProfile": instance_profile_shape(profile)}


def list_instance_profiles(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.instance_profiles.listing(
        p.get("PathPrefix", "/"), p.get("Marker"), max_items(p)
    )
    return paged(page, "InstanceProfiles", lambda ip: instance_profile_shape(ip, full=False))


def list_instance_profiles_for_role(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.instance_profiles.for_role(p["RoleName"], p.get("Marker"), max_items(p))
    return paged(page, "InstanceProfiles", lambda ip: instance_profile_shape(ip, full=False))


def delete_instance_profile(ctx: CallContext, p: Params) -> Result:
    ctx.services.instance_profiles.delete(p["InstanceProfileName"])
    return None


def add_role_to_instance_profile(ctx: CallContext, p: Params) -> Result:
    ctx.services.instance_profiles.add_role(p["InstanceProfileName"], p["RoleName"])
    return None


def remove_role_from_instance_profile(ctx: CallContext, p: Params) -> Result:
    ctx.services.instance_profiles.remove_role(p["InstanceProfileName"], p["RoleName"])
    return None


OPERATIONS = (
    Operation(
        "iam",
        "CreateInstanceProfile",
        create_instance_profile,
        new_entity_resource("instance-profile", "InstanceProfileName"),
    ),
    Operation("iam", "GetInstanceProfile", get_instance_profile, instance_profile_resource),
    Operation("iam", "ListInstanceProfiles", list_instance_profiles, any_resource),
    Operation("iam", "ListInstanceProfilesForRole", list_instance_profiles_for_role, role_resource),
    Operation("iam", "DeleteInstanceProfile", delete_instance_profile, instance_profile_resource),
    Operation(
        "iam", "AddRoleToInstanceProfile", add_role_to_instance_profile, instance_profile_resource
    ),
    Operation(
        "iam",
        "RemoveRoleFromInstanceProfile",
        remove_role_from_instance_profile,
        instance_profile_resource,
    ),
    *tag_operations(
        "InstanceProfile",
        "InstanceProfileName",
        lambda services: services.instance_profiles.tags,
        instance_profile_resource,
    ),
)

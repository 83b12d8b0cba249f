"""CreateServiceLinkedRole, DeleteServiceLinkedRole, GetServiceLinkedRoleDeletionStatus."""

from __future__ import annotations

from typing import Any

from iamd.errors import AwsError
from iamd.model import iam_arn
from iamd.operations.iam.shapes import role_shape
from iamd.operations.registry import CallContext, Operation, Params, Result, role_resource
from iamd.services.service_linked_roles import (
    service_role_name,
    service_role_path,
    task_role_arn,
)


def new_service_role_resource(ctx: CallContext, params: Params) -> str:
    """The ARN the role will have; for a service iamd does not know, every role of it."""
    service = params["AWSServiceName"]
    path = service_role_path(service)
    try:
        name = service_role_name(service, params.get("CustomSuffix"))
    except AwsError:
        name = "*"
    return iam_arn(ctx.caller.account_id, "role", path, name)


def deletion_task_resource(ctx: CallContext, params: Params) -> str:
    """The role a deletion task is about (its id names it), or `*` for a malformed id."""
    return task_role_arn(ctx.caller.account_id, params["DeletionTaskId"]) or "*"


def create_service_linked_role(ctx: CallContext, p: Params) -> Result:
    role = ctx.services.service_linked_roles.create(
        p["AWSServiceName"], p.get("Description"), p.get("CustomSuffix")
    )
    return {"Role": role_shape(role)}


def delete_service_linked_role(ctx: CallContext, p: Params) -> Result:
    return {"DeletionTaskId": ctx.services.service_linked_roles.delete(p["RoleName"])}


def get_service_linked_role_deletion_status(ctx: CallContext, p: Params) -> Result:
    task = ctx.services.service_linked_roles.deletion_status(p["DeletionTaskId"])
    result: dict[str, Any] = {"Status": task.status.value}
    if task.reason is not None:
        result["Reason"] = {"Reason": task.reason}
    return result


OPERATIONS = (
    Operation(
        "iam", "CreateServiceLinkedRole", create_service_linked_role, new_service_role_resource
    ),
    Operation("iam", "DeleteServiceLinkedRole", delete_service_linked_role, role_resource),
    Operation(
        "iam",
        "GetServiceLinkedRoleDeletionStatus",
        get_service_linked_role_deletion_status,
        deletion_task_resource,
    ),
)

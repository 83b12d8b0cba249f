"""IAM permissions boundary operations of users and roles (set and remove)."""

from __future__ import annotations

from iamd.model.owners import OwnerKind
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    ResourceOf,
    Result,
    role_resource,
    user_resource,
)


def _operations(kind: OwnerKind, resource: ResourceOf) -> tuple[Operation, ...]:
    title = kind.value.capitalize()
    owner_param = f"{title}Name"

    def put(ctx: CallContext, p: Params) -> Result:
        ctx.services.permissions_boundaries.put(kind, p[owner_param], p["PermissionsBoundary"])
        return None

    def delete(ctx: CallContext, p: Params) -> Result:
        ctx.services.permissions_boundaries.delete(kind, p[owner_param])
        return None

    # Both are authorized against the user or role; the new boundary's ARN is the
    # request's iam:PermissionsBoundary condition key (operations/context_keys.py).
    return (
        Operation("iam", f"Put{title}PermissionsBoundary", put, resource),
        Operation("iam", f"Delete{title}PermissionsBoundary", delete, resource),
    )


OPERATIONS = (
    *_operations(OwnerKind.USER, user_resource),
    *_operations(OwnerKind.ROLE, role_resource),
)

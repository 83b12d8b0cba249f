"""IAM permissions boundary operations of users (set and remove)."""

from __future__ import annotations

from iamd.operations.registry import CallContext, Operation, Params, Result, user_resource


def put_user_permissions_boundary(ctx: CallContext, p: Params) -> Result:
    ctx.services.permissions_boundaries.put_user_boundary(p["UserName"], p["PermissionsBoundary"])
    return None


def delete_user_permissions_boundary(ctx: CallContext, p: Params) -> Result:
    ctx.services.permissions_boundaries.delete_user_boundary(p["UserName"])
    return None


OPERATIONS = (
    # Both are authorized against the user; the new boundary's ARN is the request's
    # iam:PermissionsBoundary condition key (operations/context_keys.py).
    Operation("iam", "PutUserPermissionsBoundary", put_user_permissions_boundary, user_resource),
    Operation(
        "iam", "DeleteUserPermissionsBoundary", delete_user_permissions_boundary, user_resource
    ),
)

"""IAM inline policy operations of users, groups and roles (Put/Get/List/Delete*Policy).

The twelve operations differ only in the kind of owner and the name of its parameter
(`UserName`, `GroupName`, `RoleName`), so they are made from one set of handlers.
"""

from __future__ import annotations

from iamd.model.owners import OwnerKind
from iamd.operations.iam.shapes import max_items, paged
from iamd.operations.registry import (
    CallContext,
    Handler,
    Operation,
    Params,
    ResourceOf,
    Result,
    group_resource,
    role_resource,
    user_resource,
)


def _operations(kind: OwnerKind, resource: ResourceOf) -> tuple[Operation, ...]:
    title = kind.value.capitalize()  # "User", "Group", "Role"
    owner_param = f"{title}Name"

    def put(ctx: CallContext, p: Params) -> Result:
        ctx.services.inline_policies.put(kind, p[owner_param], p["PolicyName"], p["PolicyDocument"])
        return None

    def get(ctx: CallContext, p: Params) -> Result:
        owner, policy = ctx.services.inline_policies.get(kind, p[owner_param], p["PolicyName"])
        return {owner_param: owner, "PolicyName": policy.name, "PolicyDocument": policy.document}

    def names(ctx: CallContext, p: Params) -> Result:
        page = ctx.services.inline_policies.names(
            kind, p[owner_param], p.get("Marker"), max_items(p)
        )
        return paged(page, "PolicyNames", lambda name: name)

    def delete(ctx: CallContext, p: Params) -> Result:
        ctx.services.inline_policies.delete(kind, p[owner_param], p["PolicyName"])
        return None

    handlers: tuple[tuple[str, Handler], ...] = (
        (f"Put{title}Policy", put),
        (f"Get{title}Policy", get),
        (f"List{title}Policies", names),
        (f"Delete{title}Policy", delete),
    )
    return tuple(Operation("iam", name, handler, resource) for name, handler in handlers)


OPERATIONS = (
    *_operations(OwnerKind.USER, user_resource),
    *_operations(OwnerKind.GROUP, group_resource),
    *_operations(OwnerKind.ROLE, role_resource),
)

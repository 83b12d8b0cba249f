"""Tags on accounts, OUs, roots and policies: TagResource, UntagResource,
ListTagsForResource."""

from __future__ import annotations

from iamd.operations.organizations.shapes import resource_of, tags_of
from iamd.operations.registry import CallContext, Operation, Params, Result


def tag_resource(ctx: CallContext, p: Params) -> Result:
    ctx.services.organization_policies.tag_resource(
        ctx.caller.account_id, p["ResourceId"], tags_of(p)
    )
    return None


def untag_resource(ctx: CallContext, p: Params) -> Result:
    ctx.services.organization_policies.untag_resource(
        ctx.caller.account_id, p["ResourceId"], p["TagKeys"]
    )
    return None


def list_tags_for_resource(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.organization_policies.list_tags(
        ctx.caller.account_id, p["ResourceId"], p.get("NextToken")
    )
    return {
        "Tags": [{"Key": key, "Value": value} for key, value in page.items],
        "NextToken": page.next_token,
    }


OPERATIONS = (
    Operation("organizations", "TagResource", tag_resource, resource_of("ResourceId")),
    Operation("organizations", "UntagResource", untag_resource, resource_of("ResourceId")),
    Operation(
        "organizations", "ListTagsForResource", list_tags_for_resource, resource_of("ResourceId")
    ),
)

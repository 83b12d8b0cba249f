"""The organization itself: CreateOrganization, DescribeOrganization,
DeleteOrganization, ListRoots."""

from __future__ import annotations

from typing import Any

from iamd.model.organizations import Organization
from iamd.operations.organizations.shapes import organization_resource, policy_types, root
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.organization_paging import page_of


def _organization(ctx: CallContext, org: Organization) -> dict[str, Any]:
    management = ctx.services.organizations.management_account(org)
    email = management.email if management is not None and management.email else None
    return {
        "Id": org.organization_id,
        "Arn": org.arn,
        "FeatureSet": org.feature_set,
        "MasterAccountArn": org.account_arn(org.management_account_id),
        "MasterAccountId": org.management_account_id,
        "MasterAccountEmail": email,
        # Deprecated in AWS's model; AWS still sends the root's policy types here.
        "AvailablePolicyTypes": policy_types(org),
    }


def create_organization(ctx: CallContext, p: Params) -> Result:
    org = ctx.services.organizations.create_organization(ctx.caller.account_id, p.get("FeatureSet"))
    return {"Organization": _organization(ctx, org)}


def describe_organization(ctx: CallContext, _p: Params) -> Result:
    org = ctx.services.organizations.describe_organization(ctx.caller.account_id)
    return {"Organization": _organization(ctx, org)}


def delete_organization(ctx: CallContext, _p: Params) -> Result:
    ctx.services.organizations.delete_organization(ctx.caller.account_id)
    return None


def list_roots(ctx: CallContext, p: Params) -> Result:
    org = ctx.services.organizations.list_roots(ctx.caller.account_id)
    page = page_of([org], "roots", p.get("NextToken"), p.get("MaxResults"))
    return {"Roots": [root(o) for o in page.items], "NextToken": page.next_token}


OPERATIONS = (
    Operation("organizations", "CreateOrganization", create_organization, any_resource),
    Operation("organizations", "DescribeOrganization", describe_organization, any_resource),
    Operation("organizations", "DeleteOrganization", delete_organization, organization_resource),
    Operation("organizations", "ListRoots", list_roots, any_resource),
)

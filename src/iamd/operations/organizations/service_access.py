"""Trusted access: EnableAWSServiceAccess, DisableAWSServiceAccess,
ListAWSServiceAccessForOrganization (the management account only)."""

from __future__ import annotations

from iamd.operations.organizations.shapes import organization_resource
from iamd.operations.registry import CallContext, Operation, Params, Result
from iamd.services.organization_paging import page_of


def enable_aws_service_access(ctx: CallContext, p: Params) -> Result:
    ctx.services.organizations.enable_service_access(ctx.caller.account_id, p["ServicePrincipal"])
    return None


def disable_aws_service_access(ctx: CallContext, p: Params) -> Result:
    ctx.services.organizations.disable_service_access(ctx.caller.account_id, p["ServicePrincipal"])
    return None


def list_aws_service_access(ctx: CallContext, p: Params) -> Result:
    enabled = ctx.services.organizations.service_access(ctx.caller.account_id)
    page = page_of(enabled, "service-access", p.get("NextToken"), p.get("MaxResults"))
    return {
        "EnabledServicePrincipals": [
            {"ServicePrincipal": name, "DateEnabled": when} for name, when in page.items
        ],
        "NextToken": page.next_token,
    }


OPERATIONS = (
    Operation(
        "organizations", "EnableAWSServiceAccess", enable_aws_service_access, organization_resource
    ),
    Operation(
        "organizations",
        "DisableAWSServiceAccess",
        disable_aws_service_access,
        organization_resource,
    ),
    Operation(
        "organizations",
        "ListAWSServiceAccessForOrganization",
        list_aws_service_access,
        organization_resource,
    ),
)

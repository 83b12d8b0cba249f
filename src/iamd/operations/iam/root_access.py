"""IAM's centralized root access for an organization's member accounts:
Enable/DisableOrganizationsRootCredentialsManagement, Enable/DisableOrganizationsRootSessions
and ListOrganizationsFeatures (the management account, with trusted access for IAM)."""

from __future__ import annotations

from collections.abc import Callable

from iamd.model.organizations import Organization
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def _features(org: Organization, enabled: list[str]) -> Result:
    return {"OrganizationId": org.organization_id, "EnabledFeatures": enabled}


def _setter(feature: str, enabled: bool) -> Callable[[CallContext, Params], Result]:
    def handler(ctx: CallContext, _p: Params) -> Result:
        org, features = ctx.services.organizations.set_root_feature(
            ctx.caller.account_id, feature, enabled
        )
        return _features(org, features)

    return handler


def list_organizations_features(ctx: CallContext, _p: Params) -> Result:
    return _features(*ctx.services.organizations.root_features(ctx.caller.account_id))


OPERATIONS = (
    Operation(
        "iam",
        "EnableOrganizationsRootCredentialsManagement",
        _setter("RootCredentialsManagement", True),
        any_resource,
    ),
    Operation(
        "iam",
        "DisableOrganizationsRootCredentialsManagement",
        _setter("RootCredentialsManagement", False),
        any_resource,
    ),
    Operation(
        "iam", "EnableOrganizationsRootSessions", _setter("RootSessions", True), any_resource
    ),
    Operation(
        "iam", "DisableOrganizationsRootSessions", _setter("RootSessions", False), any_resource
    ),
    Operation("iam", "ListOrganizationsFeatures", list_organizations_features, any_resource),
)

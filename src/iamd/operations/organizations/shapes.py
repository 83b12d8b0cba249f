"""Organizations' wire shapes built from domain values, and the resources operations
are authorized against (AWS's ARNs; "*" where the Service Authorization Reference
names no resource, or while the caller belongs to no organization)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iamd.errors import InvalidInputException
from iamd.model.organizations import (
    CreateAccountRequest,
    Organization,
    OrganizationalUnit,
    OrganizationPolicy,
)
from iamd.operations.registry import CallContext, Params, ResourceOf
from iamd.services.organizations import AccountView


def resource_of(param: str) -> ResourceOf:
    """The ARN of the root, OU, account or policy the parameter names."""

    def resource(ctx: CallContext, params: Params) -> str:
        return ctx.services.organizations.resource_arn(ctx.caller.account_id, params[param])

    return resource


def organization_resource(ctx: CallContext, _params: Params) -> str:
    return ctx.services.organizations.resource_arn(ctx.caller.account_id, None)


def policy_types(org: Organization) -> list[dict[str, str]]:
    if not org.scp_enabled:
        return []
    return [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]


def root(org: Organization) -> dict[str, Any]:
    return {
        "Id": org.root_id,
        "Arn": org.root_arn(),
        "Name": "Root",
        "PolicyTypes": policy_types(org),
    }


def account(view: AccountView) -> dict[str, Any]:
    org, member, record = view.organization, view.member, view.account
    status = view.status
    return {
        "Id": member.account_id,
        "Arn": org.account_arn(member.account_id),
        "Email": record.email if record is not None and record.email else None,
        "Name": (record.name or record.account_id) if record is not None else None,
        "Status": status,
        "State": status,
        "JoinedMethod": member.joined_method,
        "JoinedTimestamp": member.joined_date,
    }


def organizational_unit(org: Organization, ou: OrganizationalUnit) -> dict[str, Any]:
    return {"Id": ou.ou_id, "Arn": org.ou_arn(ou.ou_id), "Name": ou.name}


def policy_summary(org: Organization, policy: OrganizationPolicy) -> dict[str, Any]:
    return {
        "Id": policy.policy_id,
        "Arn": org.policy_arn(policy.policy_id, policy.policy_type),
        "Name": policy.name,
        "Description": policy.description,
        "Type": policy.policy_type,
        "AwsManaged": policy.aws_managed,
    }


def policy(org: Organization, value: OrganizationPolicy) -> dict[str, Any]:
    return {"PolicySummary": policy_summary(org, value), "Content": value.content}


def create_account_status(request: CreateAccountRequest) -> dict[str, Any]:
    return {
        "Id": request.request_id,
        "AccountName": request.account_name,
        "State": request.state,
        "RequestedTimestamp": request.requested_date,
        "CompletedTimestamp": request.completed_date,
        "AccountId": request.account_id,
        "FailureReason": request.failure_reason,
    }


def tags_of(params: Params) -> dict[str, str]:
    """A request's Tags list as a mapping; a key given twice is AWS's DUPLICATE_TAG_KEY."""
    out: dict[str, str] = {}
    for tag in params.get("Tags") or []:
        if tag["Key"] in out:
            raise InvalidInputException.because(
                "DUPLICATE_TAG_KEY",
                "Tag keys must be unique among the tags attached to the same entity.",
            )
        out[tag["Key"]] = tag["Value"]
    return out


Shape = Callable[..., dict[str, Any]]

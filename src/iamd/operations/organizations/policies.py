"""Service control policies: EnablePolicyType, DisablePolicyType, Create/Describe/
Update/DeletePolicy, ListPolicies, Attach/DetachPolicy, ListPoliciesForTarget,
ListTargetsForPolicy."""

from __future__ import annotations

from iamd.operations.organizations.shapes import (
    policy,
    policy_summary,
    resource_of,
    root,
    tags_of,
)
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def enable_policy_type(ctx: CallContext, p: Params) -> Result:
    org = ctx.services.organization_policies.enable_policy_type(
        ctx.caller.account_id, p["RootId"], p["PolicyType"]
    )
    return {"Root": root(org)}


def disable_policy_type(ctx: CallContext, p: Params) -> Result:
    org = ctx.services.organization_policies.disable_policy_type(
        ctx.caller.account_id, p["RootId"], p["PolicyType"]
    )
    return {"Root": root(org)}


def create_policy(ctx: CallContext, p: Params) -> Result:
    org, created = ctx.services.organization_policies.create_policy(
        ctx.caller.account_id,
        p["Name"],
        p["Description"],
        p["Content"],
        p["Type"],
        tags_of(p),
    )
    return {"Policy": policy(org, created)}


def describe_policy(ctx: CallContext, p: Params) -> Result:
    org, found = ctx.services.organization_policies.describe_policy(
        ctx.caller.account_id, p["PolicyId"]
    )
    return {"Policy": policy(org, found)}


def update_policy(ctx: CallContext, p: Params) -> Result:
    org, updated = ctx.services.organization_policies.update_policy(
        ctx.caller.account_id, p["PolicyId"], p.get("Name"), p.get("Description"), p.get("Content")
    )
    return {"Policy": policy(org, updated)}


def delete_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.organization_policies.delete_policy(ctx.caller.account_id, p["PolicyId"])
    return None


def list_policies(ctx: CallContext, p: Params) -> Result:
    org, page = ctx.services.organization_policies.list_policies(
        ctx.caller.account_id, p["Filter"], p.get("NextToken"), p.get("MaxResults")
    )
    return {
        "Policies": [policy_summary(org, item) for item in page.items],
        "NextToken": page.next_token,
    }


def attach_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.organization_policies.attach_policy(
        ctx.caller.account_id, p["PolicyId"], p["TargetId"]
    )
    return None


def detach_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.organization_policies.detach_policy(
        ctx.caller.account_id, p["PolicyId"], p["TargetId"]
    )
    return None


def list_policies_for_target(ctx: CallContext, p: Params) -> Result:
    org, page = ctx.services.organization_policies.list_policies_for_target(
        ctx.caller.account_id,
        p["TargetId"],
        p["Filter"],
        p.get("NextToken"),
        p.get("MaxResults"),
    )
    return {
        "Policies": [policy_summary(org, item) for item in page.items],
        "NextToken": page.next_token,
    }


def list_targets_for_policy(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.organization_policies.list_targets_for_policy(
        ctx.caller.account_id, p["PolicyId"], p.get("NextToken"), p.get("MaxResults")
    )
    return {
        "Targets": [
            {"TargetId": t.target_id, "Arn": t.arn, "Name": t.name, "Type": t.target_type}
            for t in page.items
        ],
        "NextToken": page.next_token,
    }


OPERATIONS = (
    Operation("organizations", "EnablePolicyType", enable_policy_type, resource_of("RootId")),
    Operation("organizations", "DisablePolicyType", disable_policy_type, resource_of("RootId")),
    Operation("organizations", "CreatePolicy", create_policy, any_resource),
    Operation("organizations", "DescribePolicy", describe_policy, resource_of("PolicyId")),
    Operation("organizations", "UpdatePolicy", update_policy, resource_of("PolicyId")),
    Operation("organizations", "DeletePolicy", delete_policy, resource_of("PolicyId")),
    Operation("organizations", "ListPolicies", list_policies, any_resource),
    # On the policy and on the target, as AWS authorizes them.
    Operation(
        "organizations",
        "AttachPolicy",
        attach_policy,
        resource_of("PolicyId"),
        also_on=(resource_of("TargetId"),),
    ),
    Operation(
        "organizations",
        "DetachPolicy",
        detach_policy,
        resource_of("PolicyId"),
        also_on=(resource_of("TargetId"),),
    ),
    Operation(
        "organizations",
        "ListPoliciesForTarget",
        list_policies_for_target,
        resource_of("TargetId"),
    ),
    Operation(
        "organizations",
        "ListTargetsForPolicy",
        list_targets_for_policy,
        resource_of("PolicyId"),
    ),
)

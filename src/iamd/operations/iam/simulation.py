"""IAM policy simulator operations: SimulatePrincipalPolicy, SimulateCustomPolicy,
GetContextKeysForPrincipalPolicy and GetContextKeysForCustomPolicy.

Wire names stop here; the evaluation itself is `services.simulation` (the enforcement
engine). SimulatePrincipalPolicy and GetContextKeysForPrincipalPolicy are authorized
against the PolicySourceArn, the custom ones against `*` (Service Authorization
Reference, iam-facts §4.3).
"""

from __future__ import annotations

from typing import Any

from iamd.errors import InvalidInput
from iamd.operations.iam.shapes import max_items
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.policy import CompiledPolicy, PolicyKind, Position
from iamd.principals.principal_policies import CompiledScps
from iamd.services.simulation import (
    MatchedStatement,
    Outcome,
    PolicySet,
    SimulationService,
    arn_account,
    compile_input,
    context_keys,
    input_policies,
    keys_of,
    page,
    resource_owner,
    role_keys,
    simulate,
    user_keys,
)


def _service(ctx: CallContext) -> SimulationService:
    return SimulationService(ctx.services.tx, ctx.services.policy_compiler)


def _position(position: Position) -> dict[str, int]:
    # AWS's columns are one more than the 1-based column of the statement's braces: the
    # documented simulate-custom-policy example reports Column 38 / 167 for a statement
    # whose `{` and `}` are the 37th and 166th characters of its one-line policy.
    return {"Line": position.line, "Column": position.column + 1}


def _matched(statements: tuple[MatchedStatement, ...]) -> list[dict[str, Any]]:
    return [
        {
            "SourcePolicyId": m.source_policy_id,
            "SourcePolicyType": m.source_policy_type,
            "StartPosition": _position(m.ref.start),
            "EndPosition": _position(m.ref.end),
        }
        for m in statements
    ]


def _result(outcome: Outcome, resources_given: bool) -> dict[str, Any]:
    decision = outcome.decision
    boundary: dict[str, Any] = {}
    if decision.allowed_by_boundary is not None:
        boundary = {
            "PermissionsBoundaryDecisionDetail": {
                "AllowedByPermissionsBoundary": decision.allowed_by_boundary
            }
        }
    organizations: dict[str, Any] = {}
    if decision.allowed_by_organizations is not None:
        organizations = {
            "OrganizationsDecisionDetail": {
                "AllowedByOrganizations": decision.allowed_by_organizations
            }
        }
    shape: dict[str, Any] = {
        "EvalActionName": outcome.action,
        "EvalResourceName": outcome.resource,
        "EvalDecision": decision.effect.value,
        "MatchedStatements": _matched(outcome.matched),
        "MissingContextValues": list(decision.missing_context_keys),
        **organizations,
        **boundary,
    }
    if resources_given:
        shape["ResourceSpecificResults"] = [
            {
                "EvalResourceName": outcome.resource,
                "EvalResourceDecision": decision.effect.value,
                "MatchedStatements": shape["MatchedStatements"],
                "MissingContextValues": shape["MissingContextValues"],
                **boundary,
            }
        ]
    return shape


def _run(
    ctx: CallContext,
    p: Params,
    identity: tuple[CompiledPolicy, ...],
    boundary: tuple[CompiledPolicy, ...] | None,
    keys: dict[str, Any],
    caller_arn: str | None,
    caller_account: str | None,
    scps: CompiledScps | None = None,
) -> Result:
    boundaries = p.get("PermissionsBoundaryPolicyInputList")
    if boundaries:
        # AWS: one boundary at a time; the one given replaces the entity's own.
        if len(boundaries) > 1:
            raise InvalidInput("Only one permissions boundary policy may be simulated at a time.")
        boundary = tuple(
            input_policies(boundaries, "PermissionsBoundaryPolicyInputList", PolicyKind.BOUNDARY)
        )
    resource = None
    if p.get("ResourcePolicy") is not None:
        if caller_arn is None:
            raise InvalidInput(
                "CallerArn is required when a ResourcePolicy is simulated and the "
                "PolicySourceArn is not an IAM user."
            )
        resource = compile_input(
            p["ResourcePolicy"], PolicyKind.RESOURCE, "resource", "ResourcePolicy"
        )
    owner = None if p.get("ResourceOwner") is None else resource_owner(p["ResourceOwner"])
    keys.update(context_keys(p.get("ContextEntries") or []))
    resources = list(p.get("ResourceArns") or [])
    policies = PolicySet(identity, boundary, resource, caller_arn, caller_account, owner, scps)
    actions = p["ActionNames"]
    targets = resources or ["*"]
    window, marker = page(len(actions) * len(targets), p.get("Marker"), max_items(p))
    items = simulate(policies, actions, targets, keys, window)
    out: dict[str, Any] = {
        "EvaluationResults": [_result(o, bool(resources)) for o in items],
        "IsTruncated": marker is not None,
    }
    if marker is not None:
        out["Marker"] = marker
    return out


def _caller(
    ctx: CallContext, p: Params, default_keys: dict[str, str], default_caller: str | None
) -> tuple[dict[str, Any], str | None, str | None]:
    """Principal keys, resource-policy principal and the caller's account: CallerArn's
    user when given, else the simulated user (a group or role cannot be a resource
    policy's caller, but its account is still the caller's)."""
    caller_arn = p.get("CallerArn")
    if caller_arn is None:
        account = arn_account(default_keys.get("aws:PrincipalArn", "")) or (
            ctx.services.tx.account_id if default_keys else None
        )
        return dict(default_keys), default_caller, account
    keys = _service(ctx).caller_keys(caller_arn)
    return dict(keys), caller_arn, arn_account(caller_arn)


def simulate_principal_policy(ctx: CallContext, p: Params) -> Result:
    service = _service(ctx)
    principal = service.principal(p["PolicySourceArn"])
    identity = principal.identity + tuple(
        input_policies(p.get("PolicyInputList") or [], "PolicyInputList", PolicyKind.IDENTITY)
    )
    default: dict[str, str] = {}
    if principal.user is not None:
        default = user_keys(principal.user, service.account_id)
    elif principal.role is not None:
        default = role_keys(principal.role, service.account_id)
    caller = principal.user.arn if principal.user is not None else None
    keys, caller_arn, caller_account = _caller(ctx, p, default, caller)
    if caller_account is None:
        caller_account = service.account_id  # a group: its account is the simulation's
    return _run(
        ctx, p, identity, principal.boundary, keys, caller_arn, caller_account, service.scps()
    )


def simulate_custom_policy(ctx: CallContext, p: Params) -> Result:
    for action in p["ActionNames"]:
        if "*" in action or "?" in action:
            raise InvalidInput(f"Action names cannot contain wildcards: {action}")
    identity = tuple(input_policies(p["PolicyInputList"], "PolicyInputList", PolicyKind.IDENTITY))
    keys, caller_arn, caller_account = _caller(ctx, p, {}, None)
    return _run(ctx, p, identity, None, keys, caller_arn, caller_account)


def get_context_keys_for_principal_policy(ctx: CallContext, p: Params) -> Result:
    principal = _service(ctx).principal(p["PolicySourceArn"])
    inputs = input_policies(p.get("PolicyInputList") or [], "PolicyInputList", PolicyKind.IDENTITY)
    policies = [*principal.identity, *(principal.boundary or ()), *inputs]
    return {"ContextKeyNames": keys_of(policies)}


def get_context_keys_for_custom_policy(_ctx: CallContext, p: Params) -> Result:
    inputs = input_policies(p["PolicyInputList"], "PolicyInputList", PolicyKind.IDENTITY)
    return {"ContextKeyNames": keys_of(inputs)}


def _policy_source(_ctx: CallContext, p: Params) -> str:
    return str(p["PolicySourceArn"])


OPERATIONS = (
    Operation(
        "iam", "SimulatePrincipalPolicy", simulate_principal_policy, _policy_source, costly=True
    ),
    Operation("iam", "SimulateCustomPolicy", simulate_custom_policy, any_resource, costly=True),
    Operation(
        "iam",
        "GetContextKeysForPrincipalPolicy",
        get_context_keys_for_principal_policy,
        _policy_source,
        costly=True,
    ),
    Operation(
        "iam",
        "GetContextKeysForCustomPolicy",
        get_context_keys_for_custom_policy,
        any_resource,
        costly=True,
    ),
)

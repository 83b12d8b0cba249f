"""GetFederationToken: a federated user session of the calling IAM user.

The pipeline authorizes sts:GetFederationToken on the federated user's ARN; passing
session tags needs sts:TagSession as well (AWS's session-tag rule), checked here with
the same request context.
"""

from __future__ import annotations

from iamd.authz import AuthorizationRequest, PolicyAuthorizer
from iamd.errors import AccessDenied
from iamd.operations.context_keys import request_condition_keys
from iamd.operations.registry import CallContext, Operation, Params, Result
from iamd.operations.sts.sessions import credentials_shape, policy_arns_of


def federated_user_arn(ctx: CallContext, params: Params) -> str:
    return f"arn:aws:sts::{ctx.caller.account_id}:federated-user/{params['Name']}"


def get_federation_token(ctx: CallContext, params: Params) -> Result:
    caller = ctx.caller
    if caller.session is not None:
        raise AccessDenied.federation_cannot_nest()
    name = str(params["Name"])
    tags = tuple((t["Key"], t["Value"]) for t in params.get("Tags", ()))
    policy_arns = policy_arns_of(params)
    packed = ctx.services.sts.check_session_policies(params.get("Policy"), policy_arns, tags)
    arn = federated_user_arn(ctx, params)
    if tags:
        credential = ctx.credential
        if credential is None or ctx.now is None:  # the pipeline always provides them
            raise AccessDenied("GetFederationToken needs an authenticated caller")
        PolicyAuthorizer().authorize(
            AuthorizationRequest(
                credential=credential,
                action="sts:TagSession",
                resource=arn,
                source_ip=ctx.source_ip,
                user_agent=ctx.user_agent,
                secure_transport=ctx.secure_transport,
                region=ctx.region,
                now=ctx.now,
                request_keys=request_condition_keys(
                    ctx, "sts:TagSession", params, with_resource_tags=False
                ),
            )
        )
    issued = ctx.services.sts.get_federation_token(
        caller,
        name,
        params.get("DurationSeconds"),
        params.get("Policy"),
        policy_arns,
        tags,
    )
    result: dict[str, object] = {
        "Credentials": credentials_shape(issued),
        "FederatedUser": {"FederatedUserId": f"{caller.account_id}:{name}", "Arn": arn},
    }
    if packed is not None:
        result["PackedPolicySize"] = packed
    return result


OPERATIONS: tuple[Operation, ...] = (
    Operation("sts", "GetFederationToken", get_federation_token, federated_user_arn),
)

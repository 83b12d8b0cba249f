"""GetWebIdentityToken: a JWT signed by the account's OIDC issuer for the caller.

`sts:GetWebIdentityToken` is authorized by the pipeline with `sts:IdentityTokenAudience`
and `sts:DurationSeconds` in the context (`operations/context_keys.py`); request tags
also need `sts:TagGetWebIdentityToken`, checked here against the same context.
"""

from __future__ import annotations

from iamd.authz import AuthorizationRequest, PolicyAuthorizer
from iamd.errors import AccessDenied
from iamd.operations.context_keys import request_condition_keys
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.outbound_federation import TokenRequest

_PRINCIPAL_TAG = "aws:PrincipalTag/"
_TAGGING = PolicyAuthorizer()


def get_web_identity_token(ctx: CallContext, params: Params) -> Result:
    credential = ctx.credential
    if credential is None or ctx.now is None:  # the pipeline always provides them
        raise AccessDenied("GetWebIdentityToken needs an authenticated caller")
    tags = tuple((t["Key"], t["Value"]) for t in params.get("Tags", ()))
    if tags:
        # The same context as the pipeline's check (audience, duration, request tags).
        keys = request_condition_keys(
            ctx, "sts:GetWebIdentityToken", params, with_resource_tags=False
        )
        _TAGGING.authorize(
            AuthorizationRequest(
                credential=credential,
                action="sts:TagGetWebIdentityToken",
                resource="*",
                source_ip=ctx.source_ip,
                user_agent=ctx.user_agent,
                secure_transport=ctx.secure_transport,
                region=ctx.region,
                now=ctx.now,
                request_keys=keys,
            )
        )
    caller = ctx.caller
    principal_tags = {
        key.removeprefix(_PRINCIPAL_TAG): value
        for key, value in credential.principal_keys.items()
        if key.startswith(_PRINCIPAL_TAG) and isinstance(value, str)
    }
    organization = ctx.services.organizations.org_facts(caller.account_id)
    issued = ctx.services.outbound_federation.issue(
        TokenRequest(
            # A role session's subject is its role, as AWS's sample token shows.
            subject=caller.role_arn or caller.arn,
            audiences=tuple(params["Audience"]),
            algorithm=str(params["SigningAlgorithm"]),
            duration_seconds=params.get("DurationSeconds"),
            region=ctx.region,
            principal_tags=principal_tags,
            request_tags=tags,
            session_expires=caller.session.expires if caller.session is not None else None,
            org_id=organization.org_id if organization is not None else None,
            ou_path=organization.org_paths[0] if organization is not None else None,
        )
    )
    return {"WebIdentityToken": issued.token, "Expiration": issued.expiration}


OPERATIONS: tuple[Operation, ...] = (
    Operation("sts", "GetWebIdentityToken", get_web_identity_token, any_resource),
)

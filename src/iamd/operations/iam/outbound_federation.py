"""Enable/Disable/GetOutboundWebIdentityFederation(Info): the account's OIDC issuer."""

from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def enable(ctx: CallContext, _p: Params) -> Result:
    return {"IssuerIdentifier": ctx.services.outbound_federation.enable()}


def disable(ctx: CallContext, _p: Params) -> Result:
    ctx.services.outbound_federation.disable()
    return None


def info(ctx: CallContext, _p: Params) -> Result:
    issuer, enabled = ctx.services.outbound_federation.info()
    return {"IssuerIdentifier": issuer, "JwtVendingEnabled": enabled}


OPERATIONS: tuple[Operation, ...] = (
    Operation("iam", "EnableOutboundWebIdentityFederation", enable, any_resource),
    Operation("iam", "DisableOutboundWebIdentityFederation", disable, any_resource),
    Operation("iam", "GetOutboundWebIdentityFederationInfo", info, any_resource),
)

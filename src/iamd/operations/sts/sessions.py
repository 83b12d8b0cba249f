"""GetSessionToken (and AssumeRole): temporary credentials."""

from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def get_session_token(ctx: CallContext, params: Params) -> Result:
    issued = ctx.services.sts.get_session_token(
        ctx.caller,
        params.get("DurationSeconds"),
        params.get("SerialNumber"),
        params.get("TokenCode"),
    )
    return {"Credentials": issued.as_result()}


OPERATIONS: tuple[Operation, ...] = (
    # No policy can deny GetSessionToken: it only authenticates (AWS docs).
    Operation("sts", "GetSessionToken", get_session_token, any_resource, always_allowed=True),
)

"""STS operations (API version 2011-06-15)."""

from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def get_caller_identity(ctx: CallContext, _p: Params) -> Result:
    return {
        "UserId": ctx.caller.user_id,
        "Account": ctx.caller.account_id,
        "Arn": ctx.caller.arn,
    }


OPERATIONS: tuple[Operation, ...] = (
    Operation("sts", "GetCallerIdentity", get_caller_identity, any_resource, always_allowed=True),
)

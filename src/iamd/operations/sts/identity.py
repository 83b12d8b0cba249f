"""GetCallerIdentity and GetAccessKeyInfo: who is calling, whose key is this."""

from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def get_caller_identity(ctx: CallContext, _p: Params) -> Result:
    # aws:userid and the caller's ARN: the user's for long-term keys and GetSessionToken
    # sessions, ROLE_ID:SESSION and the assumed-role ARN for role sessions.
    return {
        "UserId": ctx.caller.user_id,
        "Account": ctx.caller.account_id,
        "Arn": ctx.caller.arn,
    }


def get_access_key_info(ctx: CallContext, params: Params) -> Result:
    return {"Account": ctx.services.sts.get_access_key_info(params["AccessKeyId"])}


OPERATIONS: tuple[Operation, ...] = (
    # AWS never denies GetCallerIdentity, whatever the policies say.
    Operation("sts", "GetCallerIdentity", get_caller_identity, any_resource, always_allowed=True),
    Operation("sts", "GetAccessKeyInfo", get_access_key_info, any_resource),
)

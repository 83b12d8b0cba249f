"""STS operations (API version 2011-06-15)."""

from iamd.errors import NotImplementedOperation
from iamd.operations.registry import (
    AnonymousContext,
    AnonymousHandler,
    Operation,
    Params,
    Result,
    unsigned_operation,
)
from iamd.operations.sts import (
    authorization_messages,
    federation,
    identity,
    sessions,
    web_identity_tokens,
)


def _not_served(name: str) -> AnonymousHandler:
    def handler(_ctx: AnonymousContext, _params: Params) -> Result:
        raise NotImplementedOperation.for_operation("sts", name)

    return handler


# Served unsigned, as AWS serves them (botocore: `smithy.api#noAuth`), so the request
# reaches the operation; identity federation (issue 15) gives them their handlers.
_UNSIGNED = tuple(
    unsigned_operation("sts", name, _not_served(name))
    for name in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")
)

OPERATIONS: tuple[Operation, ...] = (
    *identity.OPERATIONS,
    *sessions.OPERATIONS,
    *federation.OPERATIONS,
    *authorization_messages.OPERATIONS,
    *web_identity_tokens.OPERATIONS,
    *_UNSIGNED,
)

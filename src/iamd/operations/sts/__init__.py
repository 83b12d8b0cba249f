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
    saml,
    sessions,
    web_identity_tokens,
)


def _not_served(name: str) -> AnonymousHandler:
    def handler(_ctx: AnonymousContext, _params: Params) -> Result:
        raise NotImplementedOperation.for_operation("sts", name)

    return handler


# Served unsigned, as AWS serves them (botocore: `smithy.api#noAuth`), so the request
# reaches the operation; identity federation (issue 15) gives them their handlers.
_UNSIGNED = (
    unsigned_operation(
        "sts", "AssumeRoleWithWebIdentity", _not_served("AssumeRoleWithWebIdentity")
    ),
    unsigned_operation("sts", "AssumeRoleWithSAML", saml.assume_role_with_saml),
)

OPERATIONS: tuple[Operation, ...] = (
    *identity.OPERATIONS,
    *sessions.OPERATIONS,
    *federation.OPERATIONS,
    *authorization_messages.OPERATIONS,
    *web_identity_tokens.OPERATIONS,
    *_UNSIGNED,
)

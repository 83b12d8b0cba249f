"""STS operations (API version 2011-06-15)."""

from iamd.operations.registry import Operation, unsigned_operation
from iamd.operations.sts import (
    authorization_messages,
    delegated_access,
    federation,
    identity,
    root_sessions,
    saml,
    sessions,
    web_identity,
    web_identity_tokens,
)

# Served unsigned, as AWS serves them (botocore: `smithy.api#noAuth`): the token or
# assertion the request carries is its credential.
_UNSIGNED = (
    unsigned_operation(
        "sts", "AssumeRoleWithWebIdentity", web_identity.assume_role_with_web_identity
    ),
    unsigned_operation("sts", "AssumeRoleWithSAML", saml.assume_role_with_saml),
)

OPERATIONS: tuple[Operation, ...] = (
    *identity.OPERATIONS,
    *sessions.OPERATIONS,
    *federation.OPERATIONS,
    *authorization_messages.OPERATIONS,
    *web_identity_tokens.OPERATIONS,
    *root_sessions.OPERATIONS,
    *delegated_access.OPERATIONS,
    *_UNSIGNED,
)

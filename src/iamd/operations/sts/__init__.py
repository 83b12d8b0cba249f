"""STS operations (API version 2011-06-15)."""

from iamd.operations.registry import Operation
from iamd.operations.sts import authorization_messages, federation, identity, sessions

OPERATIONS: tuple[Operation, ...] = (
    *identity.OPERATIONS,
    *sessions.OPERATIONS,
    *federation.OPERATIONS,
    *authorization_messages.OPERATIONS,
)

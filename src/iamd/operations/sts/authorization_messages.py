"""DecodeAuthorizationMessage: what an encoded AccessDenied says.

The pipeline encodes a refusal when the caller asks for it with the request header
``X-Iamd-Authorization-Message: encoded`` (iamd's opt-in: AWS's IAM and STS answer
in plain text, and unmodified clients expect that); the message then ends with
``Encoded authorization failure message: ...``, as EC2's do.
"""

from __future__ import annotations

from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource

ENCODE_HEADER = b"x-iamd-authorization-message"
ENCODE_VALUE = "encoded"


def decode_authorization_message(ctx: CallContext, params: Params) -> Result:
    decoded = ctx.services.sts.decode_authorization_message(str(params["EncodedMessage"]))
    return {"DecodedMessage": decoded}


OPERATIONS: tuple[Operation, ...] = (
    Operation("sts", "DecodeAuthorizationMessage", decode_authorization_message, any_resource),
)

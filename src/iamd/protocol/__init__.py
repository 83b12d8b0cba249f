"""Model-driven codecs for the AWS wire protocols iamd speaks.

The AWS Query protocol (IAM and STS) is handled by :class:`QueryCodec`: it turns a
decoded form (see :func:`parse_form`) into an operation name and typed, validated
parameters, and turns results and errors back into the XML envelopes botocore expects.
Everything is derived from botocore's own service models, loaded through botocore's
loader, and compiled into per-operation plans once at start-up. The AWS JSON protocol
(CodeCommit) is handled by :class:`JsonCodec` the same way.
"""

from iamd.protocol.codec import QueryCodec
from iamd.protocol.form import parse_form
from iamd.protocol.json_codec import JsonCodec

__all__ = ["JsonCodec", "QueryCodec", "parse_form"]

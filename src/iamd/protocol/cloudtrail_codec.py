"""The AWS CloudTrail codec: JSON 1.1
(``com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>``).

The wire is the JSON codec's; what differs is how a request that breaks the model's
constraints is refused: CloudTrail names the parameter in the error's code
(InvalidMaxResultsException, InvalidLookupAttributesException ...).
"""

from __future__ import annotations

from typing import Any

from iamd.errors import (
    AwsError,
    InvalidEventCategoryException,
    InvalidLookupAttributesException,
    InvalidMaxResultsException,
    ValidationError,
)
from iamd.protocol.json_codec import JsonCodec


def cloudtrail_error_of(error: ValidationError) -> AwsError:
    text = error.message
    if "maxResults" in text:
        return InvalidMaxResultsException()
    if "eventCategory" in text:
        return InvalidEventCategoryException("Event category is not valid.")
    if "ookupAttributes" in text or "attributeKey" in text or "attributeValue" in text:
        return InvalidLookupAttributesException(text)
    return error


class CloudTrailCodec(JsonCodec):
    def __init__(self) -> None:
        super().__init__("cloudtrail")

    def parse(self, target: str, body: bytes) -> tuple[str, dict[str, Any]]:
        try:
            return super().parse(target, body)
        except ValidationError as error:
            raise cloudtrail_error_of(error) from None

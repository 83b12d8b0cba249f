"""The AWS Organizations codec: JSON 1.1 (``AWSOrganizationsV20161128.<Op>``).

The wire is the JSON codec's; what differs is how a request that breaks the model's
constraints is refused. Organizations has no ValidationException: it answers
``InvalidInputException`` with a ``Reason`` (INVALID_PATTERN, MAX_LENGTH_EXCEEDED,
INVALID_ENUM, INPUT_REQUIRED ...), the message being the reason's sentence
("You provided a value that does not match the required pattern." for a pattern).
"""

from __future__ import annotations

from typing import Any

from iamd.errors import InvalidInputException, ValidationError
from iamd.protocol.json_codec import JsonCodec

# The validation problem's constraint text -> AWS's reason and its sentence (the API
# reference's list for InvalidInputException).
_REASONS = (
    ("regular expression pattern", "INVALID_PATTERN", InvalidInputException.PATTERN),
    (
        "length less than or equal",
        "MAX_LENGTH_EXCEEDED",
        "You provided a string parameter that is longer than allowed.",
    ),
    (
        "length greater than or equal",
        "MIN_LENGTH_EXCEEDED",
        "You provided a string parameter that is shorter than allowed.",
    ),
    (
        "value less than or equal",
        "MAX_VALUE_EXCEEDED",
        "You provided a numeric parameter that has a larger value than allowed.",
    ),
    (
        "value greater than or equal",
        "MIN_VALUE_EXCEEDED",
        "You provided a numeric parameter that has a smaller value than allowed.",
    ),
    ("enum value set", "INVALID_ENUM", "You specified an invalid value."),
    ("must not be null", "INPUT_REQUIRED", "You must include a value for all required parameters."),
)


def invalid_input_of(error: ValidationError) -> InvalidInputException:
    """The InvalidInputException AWS Organizations answers for the first broken constraint."""
    text = error.message
    first: tuple[int, str, str] | None = None
    for needle, reason, sentence in _REASONS:
        at = text.find(needle)
        if at >= 0 and (first is None or at < first[0]):
            first = (at, reason, sentence)
    if first is None:
        return InvalidInputException.because("INVALID_PATTERN", text)
    return InvalidInputException.because(first[1], first[2])


class OrganizationsCodec(JsonCodec):
    def __init__(self) -> None:
        super().__init__("organizations")

    def parse(self, target: str, body: bytes) -> tuple[str, dict[str, Any]]:
        try:
            return super().parse(target, body)
        except ValidationError as error:
            raise invalid_input_of(error) from None

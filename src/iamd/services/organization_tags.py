"""The rules of tags on Organizations' resources (accounts, OUs, roots, policies)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from iamd.errors import ConstraintViolationException, InvalidInputException

#: AWS's quota: 50 tags per resource.
MAX_TAGS = 50


def check_tags(tags: Mapping[str, str]) -> None:
    check_keys(tags)
    if len(tags) > MAX_TAGS:
        raise too_many_tags()


def check_keys(keys: Iterable[str]) -> None:
    for key in keys:
        if key.lower().startswith("aws:"):
            raise InvalidInputException.because(
                "INVALID_SYSTEM_TAGS_PARAMETER",
                "You specified a tag key that is a system tag. You can't add, edit, or "
                "delete system tag keys because they're reserved for AWS use.",
            )


def too_many_tags() -> ConstraintViolationException:
    return ConstraintViolationException.because(
        "MAX_TAG_LIMIT_EXCEEDED",
        "You have exceeded the maximum number of tags allowed on this resource.",
    )

"""Session tags and the source identity an identity provider asserts, shared by
AssumeRoleWithSAML (attributes) and AssumeRoleWithWebIdentity (claims).

Each caller reads its own document's shape into key/value pairs; the rules are AWS's
for every session-tagging operation and checked here once: at most 50 tags, keys of 1
to 128 and values of at most 256 tag characters, no key beginning with `aws:`, no key
twice (ignoring case), transitive keys naming one of the tags, and a source identity of
2 to 64 of `[\\w+=,.@-]`. A document that breaks them is the identity provider's fault,
so the answer is IDPRejectedClaim. What passes then needs `sts:TagSession` and
`sts:SetSourceIdentity` in the role's trust policy, with `aws:RequestTag/*`,
`aws:TagKeys`, `sts:TransitiveTagKeys` and `sts:SourceIdentity` in its context, as
AssumeRole's Tags, TransitiveTagKeys and SourceIdentity parameters do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regex

from iamd.errors import IDPRejectedClaim

MAX_SESSION_TAGS = 50
# The botocore model's tagKeyType / tagValueType patterns and lengths.
_TAG_KEY = regex.compile(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}")
_TAG_VALUE = regex.compile(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}")
_SOURCE_IDENTITY = re.compile(r"[\w+=,.@-]{2,64}")


@dataclass(frozen=True, slots=True)
class AssertedSession:
    """What the provider asserts about the session beyond who the user is."""

    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None


def checked_session(
    tags: Iterable[tuple[object, object]],
    transitive_tag_keys: Sequence[object],
    source_identity: object,
) -> AssertedSession:
    """The asserted tags, transitive keys and source identity, or IDPRejectedClaim."""
    pairs = list(tags)
    if len(pairs) > MAX_SESSION_TAGS:
        raise IDPRejectedClaim(f"The assertion carries more than {MAX_SESSION_TAGS} session tags")
    checked: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for key, value in pairs:
        if not isinstance(key, str) or not _TAG_KEY.fullmatch(key):
            raise IDPRejectedClaim(
                "A session tag key must be 1 to 128 letters, digits, spaces and _.:/=+-@"
            )
        if key.lower().startswith("aws:"):
            raise IDPRejectedClaim("A session tag key may not begin with aws:")
        if not isinstance(value, str) or not _TAG_VALUE.fullmatch(value):
            raise IDPRejectedClaim(
                f"The session tag {key} must have one value of at most 256 letters, "
                "digits, spaces and _.:/=+-@"
            )
        if key.lower() in seen:
            raise IDPRejectedClaim(
                f"The session tag {key} is given twice (tag keys are case insensitive)"
            )
        seen[key.lower()] = key
        checked.append((key, value))
    transitive: list[str] = []
    for key in transitive_tag_keys:
        if not isinstance(key, str) or key.lower() not in seen:
            raise IDPRejectedClaim(f"The transitive tag key {key} names no session tag")
        if key not in transitive:
            transitive.append(key)
    return AssertedSession(tuple(checked), tuple(transitive), _source_identity(source_identity))


def _source_identity(value: object) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not _SOURCE_IDENTITY.fullmatch(value)
        or value.lower().startswith("aws:")
    ):
        raise IDPRejectedClaim(
            "The source identity must be 2 to 64 characters of letters, digits and =,.@-_+ "
            "and may not begin with aws:"
        )
    return value


def trust_actions(
    action: str, asserted: AssertedSession, keys: dict[str, str | Sequence[str]]
) -> list[str]:
    """The actions the role's trust policy must allow for this session (`action` first),
    with the request's tag and source-identity keys added to `keys`."""
    actions = [action]
    if asserted.tags:
        actions.append("sts:TagSession")
        for key, value in asserted.tags:
            keys[f"aws:RequestTag/{key}"] = value
        keys["aws:TagKeys"] = [key for key, _ in asserted.tags]
        if asserted.transitive_tag_keys:
            keys["sts:TransitiveTagKeys"] = list(asserted.transitive_tag_keys)
    if asserted.source_identity is not None:
        actions.append("sts:SetSourceIdentity")
        keys["sts:SourceIdentity"] = asserted.source_identity
    return actions

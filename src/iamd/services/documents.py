"""Checks made on policy documents when they are written.

Size is counted the way AWS counts it, without whitespace. The complete grammar check
is the policy engine's; this module is the one place services ask.
"""

from __future__ import annotations

import json

from iamd.errors import LimitExceeded, MalformedPolicyDocument


def size_without_whitespace(document: str) -> int:
    return sum(1 for ch in document if not ch.isspace())


def check_policy_document(document: str, *, managed: bool) -> None:
    """Raise MalformedPolicyDocument when the document is not a usable identity policy."""
    try:
        parsed = json.loads(document, object_pairs_hook=_reject_duplicate_keys)
    except (ValueError, _DuplicateKey) as exc:
        raise MalformedPolicyDocument("Syntax errors in policy.") from exc
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    version = parsed.get("Version")
    if version not in (None, "2012-10-17", "2008-10-17"):
        raise MalformedPolicyDocument("Syntax errors in policy.")
    if managed and version != "2012-10-17":
        raise MalformedPolicyDocument("Policy document must be version 2012-10-17 or greater.")


def check_managed_policy_size(document: str, limit: int) -> None:
    if size_without_whitespace(document) > limit:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {limit}")


class _DuplicateKey(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result

"""Checks made on policy documents when they are written.

Every document written through the API (CreatePolicy, CreatePolicyVersion,
PutUserPolicy, PutGroupPolicy) goes through the policy engine's strict check, so nothing
IAM would refuse is ever stored. The first error becomes MalformedPolicyDocument with
AWS's message; a document over the managed policy size quota is LimitExceeded (409),
not MalformedPolicyDocument, as in AWS. Inline policies have no per-document quota:
their owner's aggregate is checked by the inline policy service.
"""

from __future__ import annotations

import json

from iamd.errors import LimitExceeded, MalformedPolicyDocument
from iamd.policy import PolicyKind, check_policy

MANAGED_VERSION = "2012-10-17"


def size_without_whitespace(document: str) -> int:
    """A document's size as AWS's policy size quotas count it."""
    return sum(1 for ch in document if not ch.isspace())


def check_policy_document(document: str, *, managed: bool, max_size: int | None = None) -> None:
    """Raise MalformedPolicyDocument or LimitExceeded unless `document` may be stored.

    `max_size` is the managed policy size quota (None for inline policies).
    """
    problems = check_policy(document, PolicyKind.IDENTITY, max_size=max_size)
    # A document with an error is malformed whatever its size: report that first
    # (AWS's order between the two checks is not documented).
    for problem in problems:
        if problem.kind == "error":
            raise MalformedPolicyDocument(problem.message)
    for problem in problems:
        if problem.kind == "limit":
            raise LimitExceeded(problem.message)
    # Managed policies must opt into the current language version; inline policies may
    # still omit Version (2008-10-17), as AWS allows.
    if managed and json.loads(document).get("Version") != MANAGED_VERSION:
        raise MalformedPolicyDocument("Policy document must be version 2012-10-17 or greater.")

"""The AWS managed policies iamd ships, as AWS publishes them.

AWS owns a set of policies under ``arn:aws:iam::aws:policy/...`` that every account can
list and attach but nobody can change. iamd carries the ones that matter for the
services it serves as data, one JSON file per policy in ``iamd/data/aws_managed_policies/``,
each taken from the AWS Managed Policy Reference (the file names its source page).

A file holds the policy's name, path, id, default version id, creation and edit times,
description and the policy document of its default version. Where the published
document is very large (``ReadOnlyAccess``), the file keeps only the statements and
actions of the services iamd serves and says so in its ``Note``. When a file carries no
``PolicyId`` (the reference pages do not publish it), a stable id is derived from the
name, so the same policy always has the same id on every iamd.

This module only reads the data; it never writes it. The result is cached: the files
are part of the installed package and do not change while the process runs.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

_PACKAGE = "iamd"
_DATA_DIR = ("data", "aws_managed_policies")

#: Every AWS managed policy ARN starts with this, followed by the path and the name.
AWS_MANAGED_POLICY_ARN_PREFIX = "arn:aws:iam::aws:policy"

#: IAM ids of managed policies: ``ANPA`` and 17 characters of base32, 21 in all.
_POLICY_ID_PREFIX = "ANPA"
_POLICY_ID_SUFFIX_LENGTH = 17


@dataclass(frozen=True, slots=True)
class AwsManagedPolicy:
    """One AWS managed policy and the default version of its document."""

    name: str
    path: str
    policy_id: str
    arn: str
    default_version_id: str
    create_date: datetime
    update_date: datetime
    description: str
    document: str
    """The policy document of the default version, as JSON text (4-space indented)."""


def derive_policy_id(name: str) -> str:
    """A stable 21-character policy id for ``name``: ``ANPA`` and base32 of its sha256.

    Used only when the data file carries no published ``PolicyId``.
    """
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    suffix = base64.b32encode(digest).decode("ascii")[:_POLICY_ID_SUFFIX_LENGTH]
    return _POLICY_ID_PREFIX + suffix


def policy_arn(path: str, name: str) -> str:
    """The ARN of the AWS managed policy ``name`` under ``path`` (``/`` or ``/x/.../``)."""
    return f"{AWS_MANAGED_POLICY_ARN_PREFIX}{path}{name}"


def _parse_date(value: str) -> datetime:
    """An ISO 8601 UTC timestamp (``...Z`` or ``...+00:00``) as an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _required_str(raw: dict[str, Any], key: str, source: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{source}: {key} must be a non-empty string")
    return value


def _from_raw(raw: dict[str, Any], source: str) -> AwsManagedPolicy:
    """Build one policy from the parsed content of its data file."""
    name = _required_str(raw, "PolicyName", source)
    path = _required_str(raw, "Path", source)
    if not (path.startswith("/") and path.endswith("/")):
        raise ValueError(f"{source}: Path must start and end with '/'")
    document = raw.get("Document")
    if not isinstance(document, dict):
        raise ValueError(f"{source}: Document must be a JSON object")
    policy_id = raw.get("PolicyId") or derive_policy_id(name)
    if not isinstance(policy_id, str):
        raise ValueError(f"{source}: PolicyId must be a string")
    return AwsManagedPolicy(
        name=name,
        path=path,
        policy_id=policy_id,
        arn=policy_arn(path, name),
        default_version_id=_required_str(raw, "DefaultVersionId", source),
        create_date=_parse_date(_required_str(raw, "CreateDate", source)),
        update_date=_parse_date(_required_str(raw, "UpdateDate", source)),
        description=_required_str(raw, "Description", source),
        document=json.dumps(document, indent=4),
    )


@functools.cache
def load_aws_managed_policies() -> tuple[AwsManagedPolicy, ...]:
    """Every AWS managed policy iamd ships, sorted by name.

    Raises ``ValueError`` if a data file is malformed or two files share a name: the data
    is part of iamd, so a bad file is a packaging bug, not a runtime condition.
    """
    directory = resources.files(_PACKAGE).joinpath(*_DATA_DIR)
    policies: dict[str, AwsManagedPolicy] = {}
    for entry in directory.iterdir():
        if not entry.name.endswith(".json") or not entry.is_file():
            continue
        raw = json.loads(entry.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"{entry.name}: must hold a JSON object")
        policy = _from_raw(raw, entry.name)
        if policy.name in policies:
            raise ValueError(f"{entry.name}: duplicate policy name {policy.name}")
        policies[policy.name] = policy
    return tuple(policies[name] for name in sorted(policies))

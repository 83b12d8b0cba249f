"""The audit's checks: credential-report rows and policy documents in, findings out.

Pure (no I/O): `iamd audit` fetches the inputs and prints what comes out, and tests can
feed rows of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from iamd.policy.findings import security_findings

CHECKS = {
    "old-access-key": "active access key older than the limit: rotate it",
    "unused-access-key": "active access key not used within the limit (or never): deactivate it",
    "password-without-mfa": "console password without an MFA device",
    "inactive-access-key": "inactive access key left lying around: delete it",
    "two-active-access-keys": "two active access keys: one is probably forgotten",
    "broad-credential-policy": "policy grants key or SSH-key management on every user",
    "unused-service-permission": "permission to a service not used within the limit: remove it",
}
# Policy findings that hand out credentials of any user (administrator access does too).
_BROAD_KINDS = frozenset({"credentials-for-every-user", "administrator"})


@dataclass(frozen=True, slots=True)
class AuditFinding:
    check: str  # a key of CHECKS
    subject: str  # user name, or policy name
    detail: str
    access_key_slot: int | None = None  # 1 or 2: the report's access_key_N columns
    access_key_id: str | None = None  # filled in later for the key findings


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A policy to inspect: where it lives (for the finding) and its JSON text."""

    name: str
    document: str


def report_findings(
    rows: Iterable[Mapping[str, str]], now: datetime, max_age: timedelta
) -> Iterator[AuditFinding]:
    """Findings from the credential report's user rows (the root row is skipped)."""
    for row in rows:
        user = row["user"]
        if user == "<root_account>":
            continue
        if row["password_enabled"] == "true" and row["mfa_active"] != "true":  # noqa: S105
            yield AuditFinding("password-without-mfa", user, "password enabled, no MFA device")
        active = 0
        for slot in (1, 2):
            yield from _key_findings(row, slot, now, max_age)
            active += row[f"access_key_{slot}_active"] == "true"
        if active == 2:
            yield AuditFinding("two-active-access-keys", user, "both access keys are active")


def unused_keys(
    rows: Iterable[Mapping[str, str]], now: datetime, limit: timedelta
) -> Iterator[AuditFinding]:
    """Only the unused-access-key findings, with their own limit (--deactivate-unused)."""
    for finding in report_findings(rows, now, limit):
        if finding.check == "unused-access-key":
            yield finding


def policy_findings(policies: Iterable[PolicyDocument]) -> Iterator[AuditFinding]:
    for policy in policies:
        for finding in security_findings(policy.document):
            if finding.kind in _BROAD_KINDS:
                yield AuditFinding(
                    "broad-credential-policy",
                    policy.name,
                    f"line {finding.start.line}: {finding.message}",
                )


@dataclass(frozen=True, slots=True)
class AdvisedEntity:
    """A user or role with its access advisor report (GetServiceLastAccessedDetails)."""

    subject: str  # "user NAME" or "role NAME"
    created: datetime
    report_time: datetime  # the job's completion date: the server's "now"
    services: Sequence[Mapping[str, Any]]  # ServicesLastAccessed


def unused_service_findings(
    entities: Iterable[AdvisedEntity], limit: timedelta
) -> Iterator[AuditFinding]:
    """Services an entity's policies grant that it has not used for `limit` (or never,
    and it is older than that: a new user has had no time to use them)."""
    for entity in entities:
        now = entity.report_time
        for service in entity.services:
            namespace = service["ServiceNamespace"]
            used = service.get("LastAuthenticated")
            if used is None:
                if now - entity.created > limit:
                    age = _age(now, entity.created)
                    yield AuditFinding(
                        "unused-service-permission",
                        entity.subject,
                        f"{namespace}: granted, never used in {age}",
                    )
            elif now - used > limit:
                yield AuditFinding(
                    "unused-service-permission",
                    entity.subject,
                    f"{namespace}: last used {_age(now, used)} ago (limit {limit.days} days)",
                )


def _key_findings(
    row: Mapping[str, str], slot: int, now: datetime, max_age: timedelta
) -> Iterator[AuditFinding]:
    user = row["user"]
    prefix = f"access_key_{slot}_"
    rotated = _when(row[prefix + "last_rotated"])
    if rotated is None:
        return
    days = max_age.days
    if row[prefix + "active"] != "true":
        yield AuditFinding("inactive-access-key", user, "inactive", slot)
        return
    if now - rotated > max_age:
        yield AuditFinding(
            "old-access-key", user, f"created {_age(now, rotated)} ago (limit {days} days)", slot
        )
    used = _when(row[prefix + "last_used_date"])
    if used is None:
        if now - rotated > max_age:
            yield AuditFinding(
                "unused-access-key", user, f"never used in {_age(now, rotated)}", slot
            )
    elif now - used > max_age:
        yield AuditFinding(
            "unused-access-key", user, f"last used {_age(now, used)} ago (limit {days} days)", slot
        )


def _when(value: str) -> datetime | None:
    if value in ("N/A", "no_information", "not_supported", ""):
        return None
    return datetime.fromisoformat(value)


def _age(now: datetime, then: datetime) -> str:
    days = (now - then).days
    return f"{days} day" if days == 1 else f"{days} days"

"""Fetching what the audit inspects from an IAM endpoint, and acting on its findings.

The credential report gives every user's credential state in one document (it is
generated first when there is none, or when the stored one is stale); policies come from
GetAccountAuthorizationDetails. The report names access keys by position only (key 1 is
the older), so the ids of flagged keys are looked up with ListAccessKeys, for those
users only.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from iamd.tools.audit.checks import AdvisedEntity, AuditFinding, PolicyDocument


class AuditError(Exception):
    """The endpoint did not give what the audit needs; the message says why."""


def credential_report(iam: Any, timeout: float = 120.0) -> tuple[list[dict[str, str]], datetime]:
    """The report's rows and when it was generated (the "now" its ages are measured at)."""
    deadline = time.monotonic() + timeout
    try:
        while iam.generate_credential_report()["State"] != "COMPLETE":
            if time.monotonic() > deadline:
                raise AuditError(f"the credential report was not ready within {timeout:.0f} s")
            time.sleep(0.5)
        report = iam.get_credential_report()
    except (ClientError, BotoCoreError) as error:
        raise AuditError(f"could not get the credential report: {error}") from None
    rows = list(csv.DictReader(io.StringIO(report["Content"].decode("utf-8"))))
    return rows, report["GeneratedTime"]


def customer_policies(iam: Any) -> Iterator[PolicyDocument]:
    """Customer managed policies (default version) and every inline policy.

    AWS managed policies are left out: AdministratorAccess and IAMFullAccess grant key
    management on every user by design, and who holds them is the question, not them.
    """
    try:
        paginator = iam.get_paginator("get_account_authorization_details")
        for page in paginator.paginate():
            for user in page.get("UserDetailList", []):
                yield from _inline(f"user {user['UserName']}", user.get("UserPolicyList", []))
            for group in page.get("GroupDetailList", []):
                yield from _inline(f"group {group['GroupName']}", group.get("GroupPolicyList", []))
            for role in page.get("RoleDetailList", []):
                yield from _inline(f"role {role['RoleName']}", role.get("RolePolicyList", []))
            for policy in page.get("Policies", []):
                if policy["Arn"].startswith("arn:aws:iam::aws:"):
                    continue
                for version in policy.get("PolicyVersionList", []):
                    if version.get("IsDefaultVersion"):
                        yield PolicyDocument(
                            f"policy {policy['Arn']}", _document(version["Document"])
                        )
    except (ClientError, BotoCoreError) as error:
        raise AuditError(f"could not read the account's policies: {error}") from None


def advised_entities(iam: Any, timeout: float = 120.0) -> Iterator[AdvisedEntity]:
    """Every user and role with its access advisor report (service level).

    The jobs of a chunk are started first and then read, so the reports are built
    while the earlier ones are read rather than one wait after another.
    """
    try:
        entities = []
        for kind, lister, key, name_key in (
            ("user", "list_users", "Users", "UserName"),
            ("role", "list_roles", "Roles", "RoleName"),
        ):
            for page in iam.get_paginator(lister).paginate():
                for entity in page[key]:
                    if kind == "role" and entity.get("Path", "/").startswith("/aws-service-role/"):
                        continue  # service-linked roles' permissions are AWS's to set
                    entities.append((f"{kind} {entity[name_key]}", entity))
        # In chunks: a server keeps a bounded number of jobs (iamd: 1000 per account).
        for first in range(0, len(entities), _JOBS_AT_ONCE):
            chunk = entities[first : first + _JOBS_AT_ONCE]
            jobs = [
                iam.generate_service_last_accessed_details(Arn=entity["Arn"])["JobId"]
                for _subject, entity in chunk
            ]
            deadline = time.monotonic() + timeout
            for (subject, entity), job_id in zip(chunk, jobs, strict=True):
                report = _advisor_report(iam, entity["Arn"], job_id, deadline)
                yield AdvisedEntity(
                    subject,
                    entity["CreateDate"],
                    report["JobCompletionDate"],
                    report["ServicesLastAccessed"],
                )
    except (ClientError, BotoCoreError) as error:
        raise AuditError(f"could not read the access advisor's reports: {error}") from None


_JOBS_AT_ONCE = 100


def _advisor_report(iam: Any, arn: str, job_id: str, deadline: float) -> dict[str, Any]:
    while True:
        report: dict[str, Any] = iam.get_service_last_accessed_details(JobId=job_id)
        if report["JobStatus"] == "FAILED":
            raise AuditError(f"the access advisor's report on {arn} failed")
        if report["JobStatus"] == "COMPLETED":
            break
        if time.monotonic() > deadline:
            raise AuditError(f"the access advisor's report on {arn} was not ready in time")
        time.sleep(0.2)
    services = list(report["ServicesLastAccessed"])
    while report.get("IsTruncated"):
        report = iam.get_service_last_accessed_details(JobId=job_id, Marker=report["Marker"])
        services += report["ServicesLastAccessed"]
    report["ServicesLastAccessed"] = services
    return report


def with_key_ids(iam: Any, findings: Sequence[AuditFinding]) -> list[AuditFinding]:
    ids_by_user: dict[str, list[str]] = {}
    resolved = []
    for finding in findings:
        if finding.access_key_slot is None:
            resolved.append(finding)
            continue
        if finding.subject not in ids_by_user:
            ids_by_user[finding.subject] = _key_ids_oldest_first(iam, finding.subject)
        ids = ids_by_user[finding.subject]
        slot = finding.access_key_slot
        key_id = ids[slot - 1] if slot <= len(ids) else None
        resolved.append(replace(finding, access_key_id=key_id))
    return resolved


def deactivate(iam: Any, finding: AuditFinding) -> None:
    if finding.access_key_id is None:
        raise AuditError(f"the access key of {finding.subject} is gone; nothing to deactivate")
    try:
        iam.update_access_key(
            UserName=finding.subject, AccessKeyId=finding.access_key_id, Status="Inactive"
        )
    except (ClientError, BotoCoreError) as error:
        raise AuditError(f"could not deactivate {finding.access_key_id}: {error}") from None


def _key_ids_oldest_first(iam: Any, user_name: str) -> list[str]:
    try:
        keys = iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]
    except (ClientError, BotoCoreError) as error:
        raise AuditError(f"could not list the access keys of {user_name}: {error}") from None
    keys.sort(key=lambda key: (key["CreateDate"], key["AccessKeyId"]))
    return [key["AccessKeyId"] for key in keys]


def _inline(owner: str, policies: list[dict[str, Any]]) -> Iterator[PolicyDocument]:
    for policy in policies:
        yield PolicyDocument(
            f"{owner} inline {policy['PolicyName']}", _document(policy["PolicyDocument"])
        )


def _document(value: Any) -> str:
    # botocore decodes the URL-encoded JSON into a dict for some clients, not others.
    if isinstance(value, str):
        return unquote(value) if value.startswith("%7B") else value
    return json.dumps(value)

"""The access advisor for AWS Organizations entities (GenerateOrganizationsAccessReport,
GetOrganizationsAccessReport): for the root, an OU or an account of the caller's
organization, which services the SCPs allow it, and when principals of its accounts
last used each one.

Only the organization's management account asks, with SCPs enabled. The services listed
are those every level of SCPs from the root down to the entity allows (an Allow naming
one of the service's actions at each level, and no Deny of the whole service), or with
an SCP given, those that SCP allows; for the management account, every service, since
SCPs never restrict it. Use is counted per account: the accounts under the entity
(without the management account, unless it is the entity), and with an SCP given only
those it applies to (attached to the account or to one of its parents).

Jobs are services/advisor_jobs.py's, of the kind ORGANIZATIONS (the IAM access
advisor's are of their granularity), so the two never answer for each other.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from iamd.errors import InvalidInput
from iamd.model.organizations import (
    FULL_AWS_ACCESS,
    FULL_AWS_ACCESS_CONTENT,
    FULL_AWS_ACCESS_ID,
    Organization,
    OrganizationMember,
)
from iamd.services.access_advisor import SERVICE_NAMES, allow_statements, grants
from iamd.services.advisor_jobs import AdvisorJobs
from iamd.store.sql.service_last_accessed import SERVICE_LEVEL, ServiceUse, service_uses_in
from iamd.store.transactions import Repositories, Transactions

log = logging.getLogger(__name__)

#: The kind an Organizations job has in the advisor's job table (its `granularity`).
ORGANIZATIONS_JOB = "ORGANIZATIONS"
_ACCOUNT = re.compile(r"\d{12}")


@dataclass(frozen=True, slots=True)
class AccessDetail:
    namespace: str
    name: str
    last_authenticated: datetime | None = None
    region: str | None = None
    entity_path: str | None = None  # the path of the account that used it last
    total_entities: int = 0  # accounts that used it


@dataclass(slots=True)
class OrganizationsJob:
    job_id: str
    entity_path: str
    policy_id: str | None
    created: datetime
    status: str = "IN_PROGRESS"
    completed: datetime | None = None
    error: str | None = None
    details: list[AccessDetail] = field(default_factory=list)

    @property
    def not_accessed(self) -> int:
        return sum(1 for d in self.details if d.last_authenticated is None)


@dataclass(frozen=True, slots=True)
class _Scope:
    """What a report covers: the services allowed and the accounts counted, with the
    path each account's use is reported under."""

    services: list[str]
    accounts: dict[str, str]


class OrganizationsAccessReportService:
    def __init__(self, tx: Transactions, jobs: AdvisorJobs) -> None:
        self._tx = tx
        self._jobs = jobs

    def generate(self, entity_path: str, policy_id: str | None) -> str:
        with self._tx.read() as repos:
            self._scope(repos, entity_path, policy_id)  # errors now, not in the job
        target = entity_path if policy_id is None else f"{entity_path}?{policy_id}"
        row = self._jobs.start(
            ORGANIZATIONS_JOB, target, lambda: self._build(entity_path, policy_id)
        )
        return row.job_id

    def job(self, job_id: str) -> OrganizationsJob:
        row = self._jobs.get(job_id, (ORGANIZATIONS_JOB,))
        entity_path, _, policy_id = row.arn.partition("?")
        job = OrganizationsJob(row.job_id, entity_path, policy_id or None, row.created, row.status)
        job.completed, job.error = row.completed, row.error
        if row.report is not None:
            job.details = _from_json(row.report)
        return job

    def _build(self, entity_path: str, policy_id: str | None) -> str:
        with self._tx.read() as repos:
            scope = self._scope(repos, entity_path, policy_id)
            uses = service_uses_in(repos.conn, scope.accounts)
        return _to_json(_details(scope, uses))

    def _scope(self, repos: Repositories, entity_path: str, policy_id: str | None) -> _Scope:
        orgs = repos.organizations
        org = orgs.managed_by(self._tx.account_id)
        if org is None:
            # [I: AWS documents only that the management account must call.]
            raise InvalidInput(
                "This operation can be called only from the organization's management account."
            )
        if not org.scp_enabled:
            raise InvalidInput("Service control policies are not enabled for the organization.")
        levels = _levels(repos, org, entity_path)
        target = levels[-1]
        members = orgs.members(org.organization_id)
        paths = {m.account_id: _account_path(repos, org, m) for m in members}
        management = org.management_account_id
        if target == management:
            # SCPs never restrict the management account: every service, its own use.
            return _Scope(sorted(SERVICE_NAMES), {management: paths[management]})
        attachments = orgs.attachments(org.organization_id)  # target -> policy ids
        contents = orgs.contents(org.organization_id)
        contents[FULL_AWS_ACCESS_ID] = FULL_AWS_ACCESS_CONTENT
        prefix = "/".join([org.organization_id, *levels]) + "/"
        covered = {
            account: path
            for account, path in paths.items()
            if account != management and (path == prefix or path.startswith(prefix))
        }
        if policy_id is not None:
            policy = (
                FULL_AWS_ACCESS
                if policy_id == FULL_AWS_ACCESS_ID
                else orgs.policy(org.organization_id, policy_id)
            )
            if policy is None or policy.policy_type != "SERVICE_CONTROL_POLICY":
                raise InvalidInput(f"The policy {policy_id} is not an SCP of the organization.")
            targets = {t for t, ids in attachments.items() if policy_id in ids}
            covered = {
                account: path
                for account, path in covered.items()
                if targets & set(path.rstrip("/").split("/")[1:])
            }
            return _Scope(_allowed([[policy.content]]), covered)
        documents = [
            [contents[p] for p in attachments.get(level, []) if p in contents] for level in levels
        ]
        return _Scope(_allowed(documents), covered)


def _levels(repos: Repositories, org: Organization, entity_path: str) -> list[str]:
    """The ids from the root down to the entity the path names, checked against the
    organization's tree; InvalidInput when the path is not one of its entities."""
    invalid = InvalidInput(f"Invalid Entity Path: {entity_path}")  # [I: AWS's wording unknown]
    parts = entity_path.rstrip("/").split("/")
    if len(parts) < 2 or parts[0] != org.organization_id or parts[1] != org.root_id:
        raise invalid
    parent = org.root_id
    for index, part in enumerate(parts[2:], start=2):
        if _ACCOUNT.fullmatch(part):
            member = repos.organizations.member(part)
            if index != len(parts) - 1 or member is None or member.parent_id != parent:
                raise invalid
        else:
            ou = repos.organizations.ou(part)
            if ou is None or ou.organization_id != org.organization_id or ou.parent_id != parent:
                raise invalid
        parent = part
    return parts[1:]


def _account_path(repos: Repositories, org: Organization, member: OrganizationMember) -> str:
    chain = [member.account_id]
    current = member.parent_id
    while current != org.root_id:
        chain.append(current)
        ou = repos.organizations.ou(current)
        if ou is None:
            break
        current = ou.parent_id
    return "/".join([org.organization_id, org.root_id, *reversed(chain)]) + "/"


def _denies_service(document: str, namespace: str) -> bool:
    try:
        statements = json.loads(document).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        if "Condition" in statement or "NotAction" in statement:
            continue  # denies only some requests: the service stays reachable
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if action == "*" or (isinstance(action, str) and action.lower() == f"{namespace}:*"):
                return True
    return False


def _allowed(levels: Iterable[list[str]]) -> list[str]:
    """The services every level's SCPs allow (a level with no SCP allows nothing)."""
    levels = list(levels)
    allowed = []
    for namespace in sorted(SERVICE_NAMES):
        if all(
            any(grants(allow_statements(doc), namespace) for doc in level)
            and not any(_denies_service(doc, namespace) for doc in level)
            for level in levels
        ):
            allowed.append(namespace)
    return allowed


def _details(scope: _Scope, uses: list[ServiceUse]) -> list[AccessDetail]:
    details = []
    for namespace in scope.services:
        latest: dict[str, ServiceUse] = {}
        for use in uses:
            if use.service_namespace != namespace or use.action != SERVICE_LEVEL:
                continue
            known = latest.get(use.account_id)
            if known is None or known.when < use.when:
                latest[use.account_id] = use
        last = max(latest.values(), key=lambda u: u.when, default=None)
        name = SERVICE_NAMES[namespace]
        if last is None:
            details.append(AccessDetail(namespace, name))
            continue
        details.append(
            AccessDetail(
                namespace,
                name,
                last.when,
                last.region,
                scope.accounts[last.account_id],
                len(latest),
            )
        )
    return details


def _to_json(details: list[AccessDetail]) -> str:
    return json.dumps(
        [
            [
                d.namespace,
                d.name,
                None if d.last_authenticated is None else d.last_authenticated.isoformat(),
                d.region,
                d.entity_path,
                d.total_entities,
            ]
            for d in details
        ],
        separators=(",", ":"),
    )


def _from_json(text: str) -> list[AccessDetail]:
    return [
        AccessDetail(
            item[0],
            item[1],
            None if item[2] is None else datetime.fromisoformat(item[2]),
            item[3],
            item[4],
            item[5],
        )
        for item in json.loads(text)
    ]

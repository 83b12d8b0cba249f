"""The IAM access advisor: which services a user, group, role or policy may use, and
when each was last used (GenerateServiceLastAccessedDetails and its two readers).

A job is started by a request and built on the advisor's thread; until then it is
IN_PROGRESS. The services a report
lists are those named in the Allow statements of the entity's policies (`*` and
NotAction: every service iamd serves). Use comes from the recorder of
services/last_used.py (its pending uses are written first): a user's and a role's own,
a group's members', and for a policy the use by the users and roles it is attached to
(directly or through a group), as AWS defines a policy's report.

Jobs live as services/advisor_jobs.py keeps them (in the database, so any node answers
for them; one whose node stopped is answered FAILED).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from iamd.errors import InvalidInput, NoSuchEntity
from iamd.model.owners import OwnerKind
from iamd.services.advisor_jobs import AdvisorJobs
from iamd.services.last_used import ACTION_LEVEL_SERVICES
from iamd.store.owners import attachments_table, inline_policies_of
from iamd.store.sql.service_last_accessed import SERVICE_LEVEL, ServiceUse, uses_of
from iamd.store.transactions import Repositories, Transactions

# The services iamd serves, by namespace, with the names AWS's access advisor gives them.
SERVICE_NAMES = {
    "codecommit": "AWS CodeCommit",
    "iam": "AWS Identity and Access Management",
    "organizations": "AWS Organizations",
    "sts": "AWS Security Token Service",
}
GRANULARITIES = ("SERVICE_LEVEL", "ACTION_LEVEL")
_ARN = re.compile(r"^arn:aws:iam::(\d{12}|aws):(user|group|role|policy)(/(?:[^/]+/)*)?([^/]+)$")


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str  # USER | ROLE | GROUP | POLICY | AWS_MANAGED_POLICY
    arn: str
    name: str
    entity_id: str
    path: str
    # Uses recorded before it are a deleted namesake's (the record is by ARN).
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class TrackedAction:
    name: str
    last_entity: str | None
    last_time: datetime | None
    last_region: str | None


@dataclass(frozen=True, slots=True)
class ServiceAccess:
    namespace: str
    name: str
    last_authenticated: datetime | None
    last_entity: str | None
    last_region: str | None
    total_entities: int
    tracked_actions: list[TrackedAction] | None
    # The users and roles that used it, with their last use (WithEntities).
    entities: list[tuple[Entity, datetime]] = field(default_factory=list)


@dataclass(slots=True)
class Job:
    job_id: str
    arn: str
    granularity: str
    created: datetime
    status: str = "IN_PROGRESS"
    completed: datetime | None = None
    error: str | None = None
    services: list[ServiceAccess] = field(default_factory=list)


class AccessAdvisorService:
    def __init__(self, tx: Transactions, jobs: AdvisorJobs) -> None:
        self._tx = tx
        self._jobs = jobs

    def generate(self, arn: str, granularity: str | None) -> str:
        granularity = granularity or "SERVICE_LEVEL"
        if granularity not in GRANULARITIES:
            raise InvalidInput(f"Invalid granularity: {granularity}")
        with self._tx.read() as repos:
            self._target(repos, arn)  # NoSuchEntity / InvalidInput now, not in the job
        action_level = granularity == "ACTION_LEVEL"
        return self._jobs.start(granularity, arn, lambda: self._build(arn, action_level)).job_id

    def job(self, job_id: str) -> Job:
        # The granularity is the job's kind; an Organizations report's is not one of them.
        row = self._jobs.get(job_id, GRANULARITIES)
        job = Job(row.job_id, row.arn, row.granularity, row.created, row.status)
        job.completed, job.error = row.completed, row.error
        if row.report is not None:
            job.services = _report_from_json(row.report)
        return job

    def _build(self, arn: str, action_level: bool) -> str:
        with self._tx.read() as repos:
            target = self._target(repos, arn)
            documents, users_and_roles = _documents_and_entities(repos, target)
            uses = uses_of(repos.conn, self._tx.account_id, [e.arn for e in users_and_roles])
        return _report_to_json(_report(_granted(documents), users_and_roles, uses, action_level))

    def policies_granting(
        self, arn: str, namespaces: Iterable[str]
    ) -> list[tuple[str, list[GrantingPolicy]]]:
        """ListPoliciesGrantingServiceAccess: per namespace, in the order asked, the
        identity's permissions policies with an Allow for one of its actions (a user's
        include its groups'; no boundary, SCP or resource policy counts, as in AWS)."""
        with self._tx.read() as repos:
            target = self._target(repos, arn)
            if target.kind not in ("USER", "GROUP", "ROLE"):
                raise InvalidInput(f"ARN {arn} is not valid.")
            owned = _owned_policies(repos, target)
        allows = [(policy, allow_statements(document)) for policy, document in owned]
        return [
            (
                namespace,
                [policy for policy, statements in allows if grants(statements, namespace)],
            )
            for namespace in namespaces
        ]

    def _target(self, repos: Repositories, arn: str) -> Entity:
        match = _ARN.match(arn)
        if match is None:
            raise InvalidInput(f"ARN {arn} is not valid.")
        account, kind, path, name = (
            match.group(1),
            match.group(2),
            match.group(3) or "/",
            match.group(4),
        )
        if kind == "policy":
            policy = repos.policies.get_by_arn(arn)
            if policy is None:
                raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
            scope = "AWS_MANAGED_POLICY" if account == "aws" else "POLICY"
            return Entity(scope, policy.arn, policy.name, policy.policy_id, policy.path)
        if account != self._tx.account_id:
            raise NoSuchEntity(f"The entity {arn} cannot be found.")
        entity: Any
        if kind == "user":
            entity = repos.users.get_by_name(name)
            found = entity and _user_entity(entity)
        elif kind == "group":
            entity = repos.groups.get_by_name(name)
            found = entity and Entity(
                "GROUP", entity.arn, entity.name, entity.group_id, entity.path
            )
        else:
            entity = repos.roles.get_by_name(name)
            found = entity and _role_entity(entity)
        if not found or found.path != path:
            raise NoSuchEntity(f"The entity {arn} cannot be found.")
        return found


@dataclass(frozen=True, slots=True)
class GrantingPolicy:
    """A PolicyGrantingServiceAccess: a managed policy (its ARN) or an inline one (the
    user, group or role holding it)."""

    name: str
    policy_type: str  # MANAGED or INLINE
    arn: str | None = None
    entity_type: str | None = None
    entity_name: str | None = None


def _policies_of(
    repos: Repositories, kind: OwnerKind, owner_id: str, owner_name: str
) -> list[tuple[GrantingPolicy, str]]:
    entity_type = kind.value.upper()
    found = [
        (
            GrantingPolicy(p.name, "INLINE", entity_type=entity_type, entity_name=owner_name),
            p.document,
        )
        for p in inline_policies_of(repos, kind).all(owner_id)
    ]
    found += [
        (GrantingPolicy(arn.rsplit("/", 1)[-1], "MANAGED", arn=arn), document)
        for arn, document in repos.policies.attached_documents(
            attachments_table(kind), kind.owner_column, owner_id
        )
    ]
    return found


def _owned_policies(repos: Repositories, target: Entity) -> list[tuple[GrantingPolicy, str]]:
    if target.kind == "ROLE":
        return _policies_of(repos, OwnerKind.ROLE, target.entity_id, target.name)
    if target.kind == "GROUP":
        return _policies_of(repos, OwnerKind.GROUP, target.entity_id, target.name)
    found = _policies_of(repos, OwnerKind.USER, target.entity_id, target.name)
    # At most 10 groups per user (the quota), so one page holds them all.
    for group in repos.groups.list_for_user(target.entity_id, None, 1000).items:
        found += _policies_of(repos, OwnerKind.GROUP, group.group_id, group.name)
    seen: set[tuple[str, str | None, str | None]] = set()
    unique: list[tuple[GrantingPolicy, str]] = []
    # A managed policy attached to the user and to one of its groups is listed once.
    for policy, document in found:
        key = (policy.name, policy.arn, policy.entity_name if policy.arn is None else None)
        if key not in seen:
            seen.add(key)
            unique.append((policy, document))
    return unique


def allow_statements(document: str) -> list[dict[str, Any]]:
    try:
        statements = json.loads(document).get("Statement", [])
    except (ValueError, AttributeError):
        return []
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Allow"]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _names_service(pattern: str, namespace: str) -> bool:
    """Whether an action pattern covers some action of the namespace ("*", "s3:Get*",
    "s*:*"; the service part matched ignoring case, as action names are)."""
    if pattern == "*":
        return True
    service, sep, _ = pattern.partition(":")
    return bool(sep) and fnmatch.fnmatchcase(namespace.lower(), service.lower())


def grants(statements: list[dict[str, Any]], namespace: str) -> bool:
    for statement in statements:
        if "NotAction" in statement:
            # Allow with NotAction grants the service unless it excludes all of it.
            excluded = _strings(statement["NotAction"])
            if not any(p == "*" or p.lower() == f"{namespace.lower()}:*" for p in excluded):
                return True
            continue
        if any(_names_service(p, namespace) for p in _strings(statement.get("Action"))):
            return True
    return False


def _owned(repos: Repositories, kind: OwnerKind, owner_id: str) -> list[str]:
    docs = [p.document for p in inline_policies_of(repos, kind).all(owner_id)]
    docs += [
        d
        for _arn, d in repos.policies.attached_documents(
            attachments_table(kind), kind.owner_column, owner_id
        )
    ]
    return docs


def _user_entity(user: Any) -> Entity:
    return Entity("USER", user.arn, user.name, user.user_id, user.path, user.create_date)


def _role_entity(role: Any) -> Entity:
    return Entity("ROLE", role.arn, role.name, role.role_id, role.path, role.create_date)


def _members(repos: Repositories, group_id: str) -> list[Entity]:
    members: list[Entity] = []
    marker: str | None = None
    while True:
        page = repos.groups.members(group_id, marker, 1000)
        members += [_user_entity(u) for u in page.items]
        marker = page.next_marker
        if marker is None:
            return members


def _documents_and_entities(repos: Repositories, target: Entity) -> tuple[list[str], list[Entity]]:
    """The policy documents that grant the target its services, and the users and roles
    whose use counts for it."""
    if target.kind == "USER":
        docs = _owned(repos, OwnerKind.USER, target.entity_id)
        for group_id in repos.groups.group_ids_of_user(target.entity_id):
            docs += _owned(repos, OwnerKind.GROUP, group_id)
        return docs, [target]
    if target.kind == "ROLE":
        return _owned(repos, OwnerKind.ROLE, target.entity_id), [target]
    if target.kind == "GROUP":
        return _owned(repos, OwnerKind.GROUP, target.entity_id), _members(repos, target.entity_id)
    document = repos.policies.document_of(target.arn)
    attached = repos.policies.entities_for_policy(target.entity_id)
    entities: dict[str, Entity] = {}
    for user_id in attached.get("user", []):
        user = repos.users.get_by_id(user_id)
        if user is not None:
            entities[user.arn] = _user_entity(user)
    for group_id in attached.get("group", []):
        for member in _members(repos, group_id):
            entities[member.arn] = member
    for role_id in attached.get("role", []):
        role = repos.roles.get_by_id(role_id)
        if role is not None:
            entities[role.arn] = _role_entity(role)
    return ([document] if document else []), list(entities.values())


def _granted(documents: Iterable[str]) -> dict[str, set[str]]:
    """Per service namespace the actions named without wildcards (for action level)."""
    granted: dict[str, set[str]] = {}
    for document in documents:
        try:
            statements = json.loads(document).get("Statement", [])
        except (ValueError, AttributeError):
            continue
        if isinstance(statements, dict):
            statements = [statements]
        for statement in statements:
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                for namespace in SERVICE_NAMES:
                    granted.setdefault(namespace, set())
                continue
            actions = statement.get("Action", [])
            for action in [actions] if isinstance(actions, str) else actions:
                if not isinstance(action, str):
                    continue
                if action == "*":
                    for namespace in SERVICE_NAMES:
                        granted.setdefault(namespace, set())
                    continue
                namespace, _, name = action.partition(":")
                names = granted.setdefault(namespace.lower(), set())
                if name and "*" not in name and "?" not in name:
                    names.add(name)
    return granted


def _report(
    granted: dict[str, set[str]],
    entities: list[Entity],
    uses: list[ServiceUse],
    action_level: bool,
) -> list[ServiceAccess]:
    by_arn = {e.arn: e for e in entities}
    uses = [u for u in uses if _own(by_arn[u.principal_arn], u)]
    report: list[ServiceAccess] = []
    for namespace in sorted(granted):
        service_uses = sorted(
            (u for u in uses if u.service_namespace == namespace and u.action == SERVICE_LEVEL),
            key=lambda u: u.when,
            reverse=True,
        )
        last = service_uses[0] if service_uses else None
        tracked: list[TrackedAction] | None = None
        if action_level and namespace in ACTION_LEVEL_SERVICES:
            tracked = _tracked(granted[namespace], uses, namespace)
        report.append(
            ServiceAccess(
                namespace=namespace,
                name=SERVICE_NAMES.get(namespace, namespace),
                last_authenticated=last.when if last else None,
                last_entity=last.principal_arn if last else None,
                last_region=last.region if last else None,
                total_entities=len(service_uses),
                tracked_actions=tracked,
                entities=[(by_arn[u.principal_arn], u.when) for u in service_uses],
            )
        )
    return report


def _own(entity: Entity, use: ServiceUse) -> bool:
    """The use is this entity's, not a deleted one's of the same ARN."""
    return entity.created is None or use.when >= entity.created


def _tracked(named: set[str], uses: list[ServiceUse], namespace: str) -> list[TrackedAction]:
    latest: dict[str, ServiceUse] = {}
    for use in uses:
        if use.service_namespace == namespace and use.action != SERVICE_LEVEL:
            known = latest.get(use.action)
            if known is None or known.when < use.when:
                latest[use.action] = use
    actions = []
    for name in sorted(named | set(latest)):
        last = latest.get(name)
        actions.append(
            TrackedAction(
                name,
                last.principal_arn if last else None,
                last.when if last else None,
                last.region if last else None,
            )
        )
    return actions


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parsed(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _report_to_json(services: list[ServiceAccess]) -> str:
    """A finished report as the database keeps it."""
    return json.dumps(
        [
            {
                "namespace": access.namespace,
                "name": access.name,
                "last": _when(access.last_authenticated),
                "entity": access.last_entity,
                "region": access.last_region,
                "total": access.total_entities,
                "actions": None
                if access.tracked_actions is None
                else [
                    [action.name, action.last_entity, _when(action.last_time), action.last_region]
                    for action in access.tracked_actions
                ],
                "entities": [
                    [
                        entity.kind,
                        entity.arn,
                        entity.name,
                        entity.entity_id,
                        entity.path,
                        _when(entity.created),
                        used.isoformat(),
                    ]
                    for entity, used in access.entities
                ],
            }
            for access in services
        ],
        separators=(",", ":"),
    )


def _report_from_json(text: str) -> list[ServiceAccess]:
    report = []
    for item in json.loads(text):
        actions = item["actions"]
        report.append(
            ServiceAccess(
                namespace=item["namespace"],
                name=item["name"],
                last_authenticated=_parsed(item["last"]),
                last_entity=item["entity"],
                last_region=item["region"],
                total_entities=item["total"],
                tracked_actions=None
                if actions is None
                else [TrackedAction(a[0], a[1], _parsed(a[2]), a[3]) for a in actions],
                entities=[
                    (
                        Entity(e[0], e[1], e[2], e[3], e[4], _parsed(e[5])),
                        datetime.fromisoformat(e[6]),
                    )
                    for e in item["entities"]
                ],
            )
        )
    return report

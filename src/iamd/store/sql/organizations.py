"""Rows of AWS Organizations: organizations (with their root), members, OUs, policies,
attachments, CreateAccount requests and tags. Not on the request hot path: the service
caches what authorization needs (the SCPs of an account's levels).

The services check for duplicates before inserting; the unique constraints decide
between concurrent writers (PostgreSQL), and their violation is the same AWS error."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import (
    AlreadyInOrganizationException,
    DuplicateOrganizationalUnitException,
    DuplicatePolicyAttachmentException,
    DuplicatePolicyException,
)
from iamd.model.organizations import (
    CreateAccountRequest,
    Organization,
    OrganizationalUnit,
    OrganizationMember,
    OrganizationPolicy,
)
from iamd.store.schema import (
    create_account_requests,
    organization_features,
    organization_members,
    organization_policies,
    organization_policy_attachments,
    organization_tags,
    organizational_units,
    organizations,
)

_BY_ORG: tuple[Table, ...] = (
    organization_features,
    organization_tags,
    organization_policy_attachments,
    create_account_requests,
    organization_policies,
    organizational_units,
    organization_members,
)


def _org(row: Any) -> Organization:
    return Organization(
        row.organization_id,
        row.management_account_id,
        row.feature_set,
        row.root_id,
        bool(row.scp_enabled),
        row.create_date,
    )


def _member(row: Any) -> OrganizationMember:
    return OrganizationMember(
        row.account_id, row.organization_id, row.parent_id, row.joined_method, row.joined_date
    )


def _ou(row: Any) -> OrganizationalUnit:
    return OrganizationalUnit(
        row.ou_id, row.organization_id, row.parent_id, row.name, row.create_date
    )


def _policy(row: Any) -> OrganizationPolicy:
    return OrganizationPolicy(
        row.policy_id, row.policy_type, row.name, row.description, row.content, False
    )


def _request(row: Any) -> CreateAccountRequest:
    return CreateAccountRequest(
        row.request_id,
        row.organization_id,
        row.account_name,
        row.email,
        row.role_name,
        row.state,
        row.failure_reason,
        row.account_id,
        row.requested_date,
        row.completed_date,
        tuple((k, v) for k, v in json.loads(row.tags)),
    )


class OrganizationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- organizations ---------------------------------------------------------------

    def by_id(self, organization_id: str) -> Organization | None:
        row = self._conn.execute(
            select(organizations).where(organizations.c.organization_id == organization_id)
        ).first()
        return _org(row) if row else None

    def managed_by(self, account_id: str) -> Organization | None:
        row = self._conn.execute(
            select(organizations).where(organizations.c.management_account_id == account_id)
        ).first()
        return _org(row) if row else None

    def add(self, org: Organization) -> None:
        try:
            self._conn.execute(
                insert(organizations).values(
                    organization_id=org.organization_id,
                    management_account_id=org.management_account_id,
                    feature_set=org.feature_set,
                    root_id=org.root_id,
                    scp_enabled=org.scp_enabled,
                    create_date=org.create_date,
                )
            )
        except IntegrityError as exc:
            raise AlreadyInOrganizationException() from exc

    def set_scp_enabled(self, organization_id: str, enabled: bool) -> None:
        self._conn.execute(
            update(organizations)
            .where(organizations.c.organization_id == organization_id)
            .values(scp_enabled=enabled)
        )

    def delete(self, organization_id: str) -> None:
        for table in _BY_ORG:
            self._conn.execute(delete(table).where(table.c.organization_id == organization_id))
        self._conn.execute(
            delete(organizations).where(organizations.c.organization_id == organization_id)
        )

    # -- members ---------------------------------------------------------------------

    def member(self, account_id: str) -> OrganizationMember | None:
        row = self._conn.execute(
            select(organization_members).where(organization_members.c.account_id == account_id)
        ).first()
        return _member(row) if row else None

    def add_member(self, member: OrganizationMember) -> None:
        try:
            self._conn.execute(
                insert(organization_members).values(
                    account_id=member.account_id,
                    organization_id=member.organization_id,
                    parent_id=member.parent_id,
                    joined_method=member.joined_method,
                    joined_date=member.joined_date,
                )
            )
        except IntegrityError as exc:
            raise AlreadyInOrganizationException() from exc

    def remove_member(self, account_id: str) -> None:
        self._conn.execute(
            delete(organization_members).where(organization_members.c.account_id == account_id)
        )

    def move_member(self, account_id: str, parent_id: str) -> None:
        self._conn.execute(
            update(organization_members)
            .where(organization_members.c.account_id == account_id)
            .values(parent_id=parent_id)
        )

    def members(self, organization_id: str) -> list[OrganizationMember]:
        rows = self._conn.execute(
            select(organization_members)
            .where(organization_members.c.organization_id == organization_id)
            .order_by(organization_members.c.joined_date, organization_members.c.account_id)
        )
        return [_member(row) for row in rows]

    def members_of(self, parent_id: str) -> list[OrganizationMember]:
        rows = self._conn.execute(
            select(organization_members)
            .where(organization_members.c.parent_id == parent_id)
            .order_by(organization_members.c.joined_date, organization_members.c.account_id)
        )
        return [_member(row) for row in rows]

    # -- organizational units --------------------------------------------------------

    def ou(self, ou_id: str) -> OrganizationalUnit | None:
        row = self._conn.execute(
            select(organizational_units).where(organizational_units.c.ou_id == ou_id)
        ).first()
        return _ou(row) if row else None

    def ous_of(self, parent_id: str) -> list[OrganizationalUnit]:
        rows = self._conn.execute(
            select(organizational_units)
            .where(organizational_units.c.parent_id == parent_id)
            .order_by(organizational_units.c.create_date, organizational_units.c.ou_id)
        )
        return [_ou(row) for row in rows]

    def ous(self, organization_id: str) -> list[OrganizationalUnit]:
        rows = self._conn.execute(
            select(organizational_units).where(
                organizational_units.c.organization_id == organization_id
            )
        )
        return [_ou(row) for row in rows]

    def ou_named(self, parent_id: str, name: str) -> OrganizationalUnit | None:
        row = self._conn.execute(
            select(organizational_units).where(
                organizational_units.c.parent_id == parent_id,
                organizational_units.c.name == name,
            )
        ).first()
        return _ou(row) if row else None

    def add_ou(self, ou: OrganizationalUnit) -> None:
        try:
            self._conn.execute(
                insert(organizational_units).values(
                    ou_id=ou.ou_id,
                    organization_id=ou.organization_id,
                    parent_id=ou.parent_id,
                    name=ou.name,
                    create_date=ou.create_date,
                )
            )
        except IntegrityError as exc:
            raise DuplicateOrganizationalUnitException() from exc

    def rename_ou(self, ou_id: str, name: str) -> None:
        self._conn.execute(
            update(organizational_units)
            .where(organizational_units.c.ou_id == ou_id)
            .values(name=name)
        )

    def delete_ou(self, ou_id: str) -> None:
        self._conn.execute(
            delete(organizational_units).where(organizational_units.c.ou_id == ou_id)
        )

    # -- policies --------------------------------------------------------------------

    def policy(self, organization_id: str, policy_id: str) -> OrganizationPolicy | None:
        row = self._conn.execute(
            select(organization_policies).where(
                organization_policies.c.policy_id == policy_id,
                organization_policies.c.organization_id == organization_id,
            )
        ).first()
        return _policy(row) if row else None

    def policy_named(self, organization_id: str, name: str) -> OrganizationPolicy | None:
        row = self._conn.execute(
            select(organization_policies).where(
                organization_policies.c.organization_id == organization_id,
                organization_policies.c.name == name,
            )
        ).first()
        return _policy(row) if row else None

    def policies(self, organization_id: str, policy_type: str) -> list[OrganizationPolicy]:
        rows = self._conn.execute(
            select(organization_policies)
            .where(
                organization_policies.c.organization_id == organization_id,
                organization_policies.c.policy_type == policy_type,
            )
            .order_by(organization_policies.c.create_date, organization_policies.c.policy_id)
        )
        return [_policy(row) for row in rows]

    def count_policies(self, organization_id: str) -> int:
        return int(
            self._conn.execute(
                select(func.count()).where(
                    organization_policies.c.organization_id == organization_id
                )
            ).scalar_one()
        )

    def add_policy(self, organization_id: str, policy: OrganizationPolicy, when: datetime) -> None:
        try:
            self._conn.execute(
                insert(organization_policies).values(
                    policy_id=policy.policy_id,
                    organization_id=organization_id,
                    policy_type=policy.policy_type,
                    name=policy.name,
                    description=policy.description,
                    content=policy.content,
                    create_date=when,
                )
            )
        except IntegrityError as exc:
            raise DuplicatePolicyException() from exc

    def update_policy(self, policy: OrganizationPolicy) -> None:
        self._conn.execute(
            update(organization_policies)
            .where(organization_policies.c.policy_id == policy.policy_id)
            .values(name=policy.name, description=policy.description, content=policy.content)
        )

    def delete_policy(self, policy_id: str) -> None:
        self._conn.execute(
            delete(organization_policies).where(organization_policies.c.policy_id == policy_id)
        )

    # -- attachments -----------------------------------------------------------------

    def attach(self, organization_id: str, policy_id: str, target_id: str, when: datetime) -> None:
        try:
            self._conn.execute(
                insert(organization_policy_attachments).values(
                    policy_id=policy_id,
                    target_id=target_id,
                    organization_id=organization_id,
                    attached_date=when,
                )
            )
        except IntegrityError as exc:
            raise DuplicatePolicyAttachmentException() from exc

    def detach(self, policy_id: str, target_id: str) -> bool:
        result = self._conn.execute(
            delete(organization_policy_attachments).where(
                organization_policy_attachments.c.policy_id == policy_id,
                organization_policy_attachments.c.target_id == target_id,
            )
        )
        return bool(result.rowcount)

    def detach_all(self, organization_id: str) -> None:
        self._conn.execute(
            delete(organization_policy_attachments).where(
                organization_policy_attachments.c.organization_id == organization_id
            )
        )

    def detach_target(self, target_id: str) -> None:
        self._conn.execute(
            delete(organization_policy_attachments).where(
                organization_policy_attachments.c.target_id == target_id
            )
        )

    def policies_of(self, target_id: str) -> list[str]:
        """Policy ids attached to a target, in the order they were attached."""
        a = organization_policy_attachments.c
        rows = self._conn.execute(
            select(a.policy_id)
            .where(a.target_id == target_id)
            .order_by(a.attached_date, a.policy_id)
        )
        return [row.policy_id for row in rows]

    def targets_of(self, policy_id: str, organization_id: str) -> list[str]:
        a = organization_policy_attachments.c
        rows = self._conn.execute(
            select(a.target_id)
            .where(a.policy_id == policy_id, a.organization_id == organization_id)
            .order_by(a.attached_date, a.target_id)
        )
        return [row.target_id for row in rows]

    def attachments(self, organization_id: str) -> dict[str, list[str]]:
        """Every target's policy ids (attachment order), in one query."""
        a = organization_policy_attachments.c
        rows = self._conn.execute(
            select(a.target_id, a.policy_id)
            .where(a.organization_id == organization_id)
            .order_by(a.attached_date, a.policy_id)
        )
        out: dict[str, list[str]] = {}
        for row in rows:
            out.setdefault(row.target_id, []).append(row.policy_id)
        return out

    def contents(self, organization_id: str) -> dict[str, str]:
        c = organization_policies.c
        rows = self._conn.execute(
            select(c.policy_id, c.content).where(c.organization_id == organization_id)
        )
        return {row.policy_id: row.content for row in rows}

    # -- CreateAccount requests ------------------------------------------------------

    def add_request(self, request: CreateAccountRequest) -> None:
        self._conn.execute(
            insert(create_account_requests).values(
                request_id=request.request_id,
                organization_id=request.organization_id,
                account_name=request.account_name,
                email=request.email,
                role_name=request.role_name,
                state=request.state,
                failure_reason=request.failure_reason,
                account_id=request.account_id,
                requested_date=request.requested_date,
                completed_date=request.completed_date,
                tags=json.dumps([list(tag) for tag in request.tags]),
            )
        )

    def request(self, request_id: str) -> CreateAccountRequest | None:
        row = self._conn.execute(
            select(create_account_requests).where(
                create_account_requests.c.request_id == request_id
            )
        ).first()
        return _request(row) if row else None

    def requests(self, organization_id: str) -> list[CreateAccountRequest]:
        c = create_account_requests.c
        rows = self._conn.execute(
            select(create_account_requests)
            .where(c.organization_id == organization_id)
            .order_by(c.requested_date, c.request_id)
        )
        return [_request(row) for row in rows]

    def requests_in_progress(self, requested_by: datetime) -> list[CreateAccountRequest]:
        """Every organization's requests still IN_PROGRESS that were made by then."""
        c = create_account_requests.c
        rows = self._conn.execute(
            select(create_account_requests)
            .where(c.state == "IN_PROGRESS", c.requested_date <= requested_by)
            .order_by(c.requested_date, c.request_id)
        )
        return [_request(row) for row in rows]

    def complete_request(
        self,
        request_id: str,
        state: str,
        reason: str | None,
        account_id: str | None,
        when: datetime,
    ) -> bool:
        """Whether this call completed it: a request is completed once, never twice."""
        c = create_account_requests.c
        done = self._conn.execute(
            update(create_account_requests)
            .where(c.request_id == request_id, c.state == "IN_PROGRESS")
            .values(state=state, failure_reason=reason, account_id=account_id, completed_date=when)
        )
        return bool(done.rowcount)

    # -- tags ------------------------------------------------------------------------

    def tags(self, resource_id: str) -> list[tuple[str, str]]:
        c = organization_tags.c
        rows = self._conn.execute(
            select(c.key, c.value).where(c.resource_id == resource_id).order_by(c.key)
        )
        return [(row.key, row.value) for row in rows]

    def put_tags(self, organization_id: str, resource_id: str, tags: Mapping[str, str]) -> None:
        c = organization_tags.c
        for key, value in tags.items():
            self._conn.execute(
                delete(organization_tags).where(c.resource_id == resource_id, c.key == key)
            )
            self._conn.execute(
                insert(organization_tags).values(
                    resource_id=resource_id, key=key, value=value, organization_id=organization_id
                )
            )

    def remove_tags(self, resource_id: str, keys: Iterable[str]) -> None:
        c = organization_tags.c
        for key in keys:
            self._conn.execute(
                delete(organization_tags).where(c.resource_id == resource_id, c.key == key)
            )

    def drop_tags(self, resource_id: str) -> None:
        self._conn.execute(
            delete(organization_tags).where(organization_tags.c.resource_id == resource_id)
        )

    # -- features (trusted access, IAM's root access features) -----------------------

    def features(self, organization_id: str, kind: str) -> list[tuple[str, datetime]]:
        """The enabled features of `kind` ("service" or "iam"), by name."""
        c = organization_features.c
        rows = self._conn.execute(
            select(c.name, c.enabled_date)
            .where(c.organization_id == organization_id, c.kind == kind)
            .order_by(c.name)
        )
        return [(row.name, row.enabled_date) for row in rows]

    def root_sessions_enabled(self, organization_id: str) -> bool:
        """Whether AssumeRoot sessions may act in the organization's member accounts:
        IAM's trusted access and its RootSessions feature are both on."""
        c = organization_features.c
        rows = self._conn.execute(
            select(c.kind, c.name).where(
                c.organization_id == organization_id,
                ((c.kind == "service") & (c.name == "iam.amazonaws.com"))
                | ((c.kind == "iam") & (c.name == "RootSessions")),
            )
        ).all()
        return len(rows) == 2

    def enable_feature(self, organization_id: str, kind: str, name: str, when: datetime) -> None:
        """Enables a feature; enabling one already enabled keeps its first date."""
        c = organization_features.c
        exists = self._conn.execute(
            select(c.name).where(
                c.organization_id == organization_id, c.kind == kind, c.name == name
            )
        ).first()
        if exists is None:
            self._conn.execute(
                insert(organization_features).values(
                    organization_id=organization_id, kind=kind, name=name, enabled_date=when
                )
            )

    def disable_feature(self, organization_id: str, kind: str, name: str) -> None:
        c = organization_features.c
        self._conn.execute(
            delete(organization_features).where(
                c.organization_id == organization_id, c.kind == kind, c.name == name
            )
        )

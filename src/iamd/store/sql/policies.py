"""Managed policies (customer and AWS), their versions, tags and attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model import AttachedPolicy, ManagedPolicy, PolicyScope, PolicyVersion
from iamd.model.page import Page
from iamd.store.schema import (
    AWS_POLICY_ACCOUNT,
    group_policy_attachments,
    groups,
    policies,
    policy_tags,
    policy_versions,
    role_policy_attachments,
    roles,
    user_policy_attachments,
    users,
)
from iamd.store.sql.paging import decode_marker, page_of
from iamd.store.sql.tags import TagRepository

# Each kind of entity policies attach to, with its attachment table (owner column
# `<kind>_id`).
_ATTACHMENTS: tuple[tuple[str, Table], ...] = (
    ("user", user_policy_attachments),
    ("group", group_policy_attachments),
    ("role", role_policy_attachments),
)
# The owners' tables, whose account says whose an attachment is: an AWS managed policy
# is shared by every account, and each counts and lists only its own attachments.
_OWNERS: dict[str, Table] = {"user": users, "group": groups, "role": roles}
# The kinds of entity that can have a permissions boundary, and their tables.
_BOUNDED: tuple[tuple[str, Table], ...] = (("user", users), ("role", roles))


def _sum(counts: list[Any]) -> Any:
    total: Any = counts[0]
    for extra in counts[1:]:
        total = total + extra
    return total


def _owned_attachments(kind: str, table: Table, account_id: str) -> Any:
    owner = _OWNERS[kind]
    id_column = f"{kind}_id"
    return table.join(owner, owner.c[id_column] == table.c[id_column]), (
        owner.c.account_id == account_id
    )


def _attachment_count(policy_id_column: Any, account_id: str) -> Any:
    counts = []
    for kind, table in _ATTACHMENTS:
        joined, in_account = _owned_attachments(kind, table, account_id)
        counts.append(
            select(func.count())
            .select_from(joined)
            .where(table.c.policy_id == policy_id_column, in_account)
            .scalar_subquery()
        )
    return _sum(counts).label("attachment_count")


def _boundary_usage_count(arn_column: Any, account_id: str) -> Any:
    # Users and roles of the account whose permissions boundary is the policy.
    counts = [
        select(func.count())
        .select_from(table)
        .where(table.c.permissions_boundary_arn == arn_column, table.c.account_id == account_id)
        .scalar_subquery()
        for _kind, table in _BOUNDED
    ]
    return _sum(counts).label("permissions_boundary_usage_count")


def _used_as_boundary(arn_column: Any, account_id: str) -> Any:
    used = [
        select(table.c[f"{kind}_id"])
        .where(table.c.permissions_boundary_arn == arn_column, table.c.account_id == account_id)
        .exists()
        for kind, table in _BOUNDED
    ]
    return or_(*used)


def _attached(policy_id_column: Any, account_id: str) -> Any:
    attached = []
    for kind, table in _ATTACHMENTS:
        joined, in_account = _owned_attachments(kind, table, account_id)
        attached.append(
            select(table.c.policy_id)
            .select_from(joined)
            .where(table.c.policy_id == policy_id_column, in_account)
            .exists()
        )
    return or_(*attached)


class PolicyRepository:
    """Managed policies an account sees: its own customer managed ones and AWS's."""

    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id
        self.tags = TagRepository(conn, policy_tags, "policy_id")

    @property
    def _visible(self) -> Any:
        return policies.c.account_id.in_((self._account_id, AWS_POLICY_ACCOUNT))

    def _to_policy(self, row: Row[Any], with_tags: bool) -> ManagedPolicy:
        return ManagedPolicy(
            policy_id=row.policy_id,
            name=row.name,
            path=row.path,
            arn=row.arn,
            scope=PolicyScope(row.scope),
            default_version_id=row.default_version_id,
            attachment_count=int(row.attachment_count),
            permissions_boundary_usage_count=int(row.permissions_boundary_usage_count),
            is_attachable=bool(row.is_attachable),
            description=row.description,
            create_date=row.create_date,
            update_date=row.update_date,
            tags=self.tags.of(row.policy_id) if with_tags else (),
        )

    def _select(self) -> Any:
        return select(
            policies,
            _attachment_count(policies.c.policy_id, self._account_id),
            _boundary_usage_count(policies.c.arn, self._account_id),
        ).where(self._visible)

    def get_by_arn(self, arn: str, *, for_update: bool = False) -> ManagedPolicy | None:
        query = self._select().where(policies.c.arn == arn)
        if for_update:
            # Lock only the policy row: FOR UPDATE cannot apply to aggregates.
            self._conn.execute(
                select(policies.c.policy_id)
                .where(policies.c.arn == arn, self._visible)
                .with_for_update()
            )
        row = self._conn.execute(query).first()
        return self._to_policy(row, with_tags=True) if row else None

    def count_local(self) -> int:
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(policies)
                .where(policies.c.account_id == self._account_id)
            ).scalar_one()
        )

    def count_versions_in_use(self) -> int:
        # Versions of customer managed policies, as GetAccountSummary counts them.
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(policy_versions.join(policies))
                .where(policies.c.account_id == self._account_id)
            ).scalar_one()
        )

    def add(self, policy: ManagedPolicy, document: str) -> None:
        try:
            self._conn.execute(
                insert(policies).values(
                    policy_id=policy.policy_id,
                    account_id=AWS_POLICY_ACCOUNT
                    if policy.scope is PolicyScope.AWS
                    else self._account_id,
                    scope=policy.scope.value,
                    name=policy.name,
                    name_lower=policy.name.lower(),
                    path=policy.path,
                    arn=policy.arn,
                    description=policy.description,
                    default_version_id=policy.default_version_id,
                    next_version_number=version_number(policy.default_version_id) + 1,
                    is_attachable=policy.is_attachable,
                    create_date=policy.create_date,
                    update_date=policy.update_date,
                )
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists(
                f"A policy called {policy.name} already exists. Duplicate names are not allowed."
            ) from exc
        self._conn.execute(
            insert(policy_versions).values(
                policy_id=policy.policy_id,
                version_id=policy.default_version_id,
                number=version_number(policy.default_version_id),
                document=document,
                create_date=policy.create_date,
            )
        )
        if policy.tags:
            self.tags.upsert(policy.policy_id, policy.tags)

    def delete(self, policy_id: str) -> None:
        self._conn.execute(delete(policy_versions).where(policy_versions.c.policy_id == policy_id))
        self._conn.execute(delete(policies).where(policies.c.policy_id == policy_id))

    def listing(
        self,
        *,
        scope: str,
        only_attached: bool,
        path_prefix: str,
        marker: str | None,
        max_items: int,
        usage: str | None = None,
    ) -> Page[ManagedPolicy]:
        """A page of policies by ARN; `usage` keeps those used as a permissions policy
        ("PermissionsPolicy": attached to an entity) or as a boundary ("PermissionsBoundary").
        """
        after = decode_marker(marker)
        sort_key = policies.c.arn
        query = self._select().order_by(sort_key).limit(max_items + 1)
        if scope != "All":
            query = query.where(policies.c.scope == scope)
        if path_prefix != "/":
            query = query.where(policies.c.path.startswith(path_prefix, autoescape=True))
        attached = _attached(policies.c.policy_id, self._account_id)
        boundary = _used_as_boundary(policies.c.arn, self._account_id)
        if only_attached or usage == "PermissionsPolicy":
            query = query.where(attached)
        if usage == "PermissionsBoundary":
            query = query.where(boundary)
        if usage == "InUse":  # either of the above (GetAccountAuthorizationDetails)
            query = query.where(attached | boundary)
        if after is not None:
            query = query.where(sort_key > after)
        page = page_of(list(self._conn.execute(query)), max_items, lambda r: r.arn)
        return Page([self._to_policy(r, with_tags=False) for r in page.items], page.next_marker)

    # -- versions ---------------------------------------------------------------------

    def get_version(self, policy_id: str, version_id: str) -> PolicyVersion | None:
        row = self._conn.execute(
            select(policy_versions, policies.c.default_version_id)
            .join(policies)
            .where(
                policy_versions.c.policy_id == policy_id,
                policy_versions.c.version_id == version_id,
            )
        ).first()
        if row is None:
            return None
        return PolicyVersion(
            row.version_id, row.document, row.version_id == row.default_version_id, row.create_date
        )

    def list_versions(self, policy_id: str) -> list[PolicyVersion]:
        rows = self._conn.execute(
            select(policy_versions, policies.c.default_version_id)
            .join(policies)
            .where(policy_versions.c.policy_id == policy_id)
            .order_by(policy_versions.c.number.desc())
        )
        return [
            PolicyVersion(
                r.version_id, r.document, r.version_id == r.default_version_id, r.create_date
            )
            for r in rows
        ]

    def add_version(
        self, policy_id: str, document: str, when: datetime, *, set_default: bool
    ) -> PolicyVersion:
        number = int(
            self._conn.execute(
                select(policies.c.next_version_number).where(policies.c.policy_id == policy_id)
            ).scalar_one()
        )
        version_id = f"v{number}"
        self._conn.execute(
            insert(policy_versions).values(
                policy_id=policy_id,
                version_id=version_id,
                number=number,
                document=document,
                create_date=when,
            )
        )
        values: dict[str, Any] = {"next_version_number": number + 1, "update_date": when}
        if set_default:
            values["default_version_id"] = version_id
        self._conn.execute(update(policies).where(policies.c.policy_id == policy_id).values(values))
        return PolicyVersion(version_id, document, set_default, when)

    def replace_versions(
        self, policy_id: str, version_id: str, document: str, when: datetime
    ) -> None:
        """Make `version_id` the only version (AWS managed policies track AWS's)."""
        number = version_number(version_id)
        self._conn.execute(delete(policy_versions).where(policy_versions.c.policy_id == policy_id))
        self._conn.execute(
            insert(policy_versions).values(
                policy_id=policy_id,
                version_id=version_id,
                number=number,
                document=document,
                create_date=when,
            )
        )
        self._conn.execute(
            update(policies)
            .where(policies.c.policy_id == policy_id)
            .values(default_version_id=version_id, next_version_number=number + 1, update_date=when)
        )

    def delete_version(self, policy_id: str, version_id: str) -> None:
        self._conn.execute(
            delete(policy_versions).where(
                policy_versions.c.policy_id == policy_id,
                policy_versions.c.version_id == version_id,
            )
        )

    def set_default_version(self, policy_id: str, version_id: str, when: datetime) -> None:
        self._conn.execute(
            update(policies)
            .where(policies.c.policy_id == policy_id)
            .values(default_version_id=version_id, update_date=when)
        )

    # -- attachments ------------------------------------------------------------------

    def attached_to(
        self, table: Table, owner_column: str, owner_id: str, path_prefix: str = "/"
    ) -> list[AttachedPolicy]:
        query = (
            select(policies.c.name, policies.c.arn)
            .join(table, table.c.policy_id == policies.c.policy_id)
            .where(table.c[owner_column] == owner_id)
            .order_by(policies.c.arn)
        )
        if path_prefix != "/":
            query = query.where(policies.c.path.startswith(path_prefix, autoescape=True))
        return [AttachedPolicy(r.name, r.arn) for r in self._conn.execute(query)]

    def attach(
        self, table: Table, owner_column: str, owner_id: str, policy_id: str, when: datetime
    ) -> bool:
        """Attach; False when it was attached already (AWS treats that as success)."""
        already = self._conn.execute(
            select(table.c.policy_id).where(
                and_(table.c[owner_column] == owner_id, table.c.policy_id == policy_id)
            )
        ).first()
        if already:
            return False
        self._conn.execute(
            insert(table).values({owner_column: owner_id, "policy_id": policy_id, "attached": when})
        )
        return True

    def detach(self, table: Table, owner_column: str, owner_id: str, policy_id: str) -> bool:
        result = self._conn.execute(
            delete(table).where(table.c[owner_column] == owner_id, table.c.policy_id == policy_id)
        )
        return bool(result.rowcount)

    def attached_documents(
        self, table: Table, owner_column: str, owner_id: str
    ) -> list[tuple[str, str]]:
        """(ARN, default version's document) of every policy attached to the owner."""
        rows = self._conn.execute(
            select(policies.c.arn, policy_versions.c.document)
            .join(table, table.c.policy_id == policies.c.policy_id)
            .join(
                policy_versions,
                (policy_versions.c.policy_id == policies.c.policy_id)
                & (policy_versions.c.version_id == policies.c.default_version_id),
            )
            .where(table.c[owner_column] == owner_id)
            .order_by(policies.c.arn)
        )
        return [(r.arn, r.document) for r in rows]

    def document_of(self, arn: str) -> str | None:
        """The default version's document of the policy with this ARN."""
        row = self._conn.execute(
            select(policy_versions.c.document)
            .join(policies, policies.c.policy_id == policy_versions.c.policy_id)
            .where(
                policies.c.arn == arn,
                policy_versions.c.version_id == policies.c.default_version_id,
            )
        ).first()
        return str(row.document) if row else None

    def boundary_entity_ids(self, arn: str) -> dict[str, list[str]]:
        """Ids of the users and roles whose permissions boundary is this policy, by kind."""
        return {
            kind: [
                r[0]
                for r in self._conn.execute(
                    select(table.c[f"{kind}_id"]).where(
                        table.c.permissions_boundary_arn == arn,
                        table.c.account_id == self._account_id,
                    )
                )
            ]
            for kind, table in _BOUNDED
        }

    def entities_for_policy(self, policy_id: str) -> dict[str, list[str]]:
        """Ids of the users, groups and roles the policy is attached to, by kind."""
        found: dict[str, list[str]] = {}
        for kind, table in _ATTACHMENTS:
            joined, in_account = _owned_attachments(kind, table, self._account_id)
            rows = self._conn.execute(
                select(table.c[f"{kind}_id"])
                .select_from(joined)
                .where(table.c.policy_id == policy_id, in_account)
            )
            found[kind] = [r[0] for r in rows]
        return found


def version_number(version_id: str) -> int:
    """The number of a policy version id (`v3` → 3; AWS also allows `v3.suffix`)."""
    return int(version_id.lstrip("v").split(".")[0])

"""IAM Identity Center's rows: instances, the identity store, permission sets, account
assignments, the roles they provisioned and the status records of those calls.

Lists are keyset-paged by the row's id (`after`, `limit`): a page costs an index range
scan however deep it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import ConflictException
from iamd.model.identity_center import (
    AccountAssignment,
    CustomerPolicyReference,
    DirectoryGroup,
    DirectoryUser,
    GroupMembership,
    Instance,
    OperationStatus,
    PermissionSet,
)
from iamd.store.schema import (
    ic_assignments,
    ic_groups,
    ic_instances,
    ic_memberships,
    ic_operations,
    ic_permission_sets,
    ic_provisioned,
    ic_users,
)


def external_key(entries: Any) -> str | None:
    """The indexed key of an entity's first external id: "<Issuer>\n<Id>"."""
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        return f"{entries[0].get('Issuer', '')}\n{entries[0].get('Id', '')}"
    return None


def _instance(row: Any) -> Instance:
    return Instance(
        row.instance_arn,
        row.identity_store_id,
        row.owner_account_id,
        row.name,
        row.status,
        row.created,
    )


def _user(row: Any) -> DirectoryUser:
    return DirectoryUser(
        row.identity_store_id,
        row.user_id,
        row.user_name,
        json.loads(row.attributes),
        row.status,
        row.created,
        row.updated,
        row.created_by,
        row.updated_by,
    )


def _group(row: Any) -> DirectoryGroup:
    return DirectoryGroup(
        row.identity_store_id,
        row.group_id,
        row.display_name,
        row.description,
        json.loads(row.external_ids),
        row.created,
        row.updated,
        row.created_by,
        row.updated_by,
    )


def _membership(row: Any) -> GroupMembership:
    return GroupMembership(
        row.identity_store_id,
        row.membership_id,
        row.group_id,
        row.user_id,
        row.created,
        row.created_by,
    )


def _permission_set(row: Any) -> PermissionSet:
    return PermissionSet(
        permission_set_arn=row.permission_set_arn,
        instance_arn=row.instance_arn,
        name=row.name,
        description=row.description,
        session_duration=row.session_duration,
        relay_state=row.relay_state,
        created=row.created,
        inline_policy=row.inline_policy,
        managed_policies=tuple(json.loads(row.managed_policies)),
        customer_policies=tuple(
            CustomerPolicyReference(name, path) for name, path in json.loads(row.customer_policies)
        ),
        boundary=json.loads(row.boundary) if row.boundary else None,
        tags=tuple((key, value) for key, value in json.loads(row.tags)),
    )


def _operation(row: Any) -> OperationStatus:
    return OperationStatus(
        row.request_id,
        row.instance_arn,
        row.kind,
        row.status,
        row.failure_reason,
        row.account_id,
        row.permission_set_arn,
        row.principal_type,
        row.principal_id,
        row.created,
    )


class IdentityCenterRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- instances ---------------------------------------------------------------------

    def add_instance(self, instance: Instance) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(ic_instances).values(
                        instance_arn=instance.instance_arn,
                        identity_store_id=instance.identity_store_id,
                        owner_account_id=instance.owner_account_id,
                        name=instance.name,
                        status=instance.status,
                        created=instance.created,
                    )
                )
        except IntegrityError as exc:
            raise ConflictException(
                "An instance of IAM Identity Center already exists for this account."
            ) from exc

    def instance_of_owner(self, account_id: str) -> Instance | None:
        row = self._conn.execute(
            select(ic_instances).where(ic_instances.c.owner_account_id == account_id)
        ).first()
        return _instance(row) if row else None

    def instance(self, instance_arn: str) -> Instance | None:
        row = self._conn.execute(
            select(ic_instances).where(ic_instances.c.instance_arn == instance_arn)
        ).first()
        return _instance(row) if row else None

    def instance_of_store(self, identity_store_id: str) -> Instance | None:
        row = self._conn.execute(
            select(ic_instances).where(ic_instances.c.identity_store_id == identity_store_id)
        ).first()
        return _instance(row) if row else None

    def rename_instance(self, instance_arn: str, name: str) -> None:
        self._conn.execute(
            update(ic_instances)
            .where(ic_instances.c.instance_arn == instance_arn)
            .values(name=name)
        )

    def delete_instance(self, instance: Instance) -> None:
        """The instance and everything in it."""
        store = instance.identity_store_id
        arn = instance.instance_arn
        for table, column in (
            (ic_memberships, ic_memberships.c.identity_store_id),
            (ic_users, ic_users.c.identity_store_id),
            (ic_groups, ic_groups.c.identity_store_id),
        ):
            self._conn.execute(delete(table).where(column == store))
        for table, column in (
            (ic_assignments, ic_assignments.c.instance_arn),
            (ic_provisioned, ic_provisioned.c.instance_arn),
            (ic_operations, ic_operations.c.instance_arn),
            (ic_permission_sets, ic_permission_sets.c.instance_arn),
            (ic_instances, ic_instances.c.instance_arn),
        ):
            self._conn.execute(delete(table).where(column == arn))

    # -- users -------------------------------------------------------------------------

    def add_user(self, user: DirectoryUser) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(ic_users).values(
                        user_id=user.user_id,
                        identity_store_id=user.identity_store_id,
                        user_name=user.user_name,
                        user_name_lower=user.user_name.lower(),
                        attributes=json.dumps(user.attributes),
                        external_key=external_key(user.attributes.get("ExternalIds")),
                        status=user.status,
                        created=user.created,
                        updated=user.updated,
                        created_by=user.created_by,
                        updated_by=user.updated_by,
                    )
                )
        except IntegrityError as exc:
            raise self._user_conflict(user) from exc

    def _user_conflict(self, user: DirectoryUser) -> ConflictException:
        """Which uniqueness a refused user broke: its name, or its external id."""
        named = self.user_named(user.identity_store_id, user.user_name)
        if named is None or named.user_id == user.user_id:
            return ConflictException.duplicate("Duplicate ExternalId")
        return ConflictException.duplicate("Duplicate UserName")

    def _group_conflict(self, group: DirectoryGroup) -> ConflictException:
        found = self.groups(group.identity_store_id, None, 1, group.display_name)
        if not found or found[0].group_id == group.group_id:
            return ConflictException.duplicate("Duplicate ExternalId")
        return ConflictException.duplicate("Duplicate GroupDisplayName")

    def user(self, identity_store_id: str, user_id: str) -> DirectoryUser | None:
        row = self._conn.execute(
            select(ic_users).where(
                ic_users.c.identity_store_id == identity_store_id, ic_users.c.user_id == user_id
            )
        ).first()
        return _user(row) if row else None

    def user_named(self, identity_store_id: str, user_name: str) -> DirectoryUser | None:
        row = self._conn.execute(
            select(ic_users).where(
                ic_users.c.identity_store_id == identity_store_id,
                ic_users.c.user_name_lower == user_name.lower(),
            )
        ).first()
        return _user(row) if row else None

    def users(
        self, identity_store_id: str, after: str | None, limit: int, user_name: str | None = None
    ) -> list[DirectoryUser]:
        query = select(ic_users).where(ic_users.c.identity_store_id == identity_store_id)
        if user_name is not None:
            query = query.where(ic_users.c.user_name_lower == user_name.lower())
        if after is not None:
            query = query.where(ic_users.c.user_id > after)
        rows = self._conn.execute(query.order_by(ic_users.c.user_id).limit(limit))
        return [_user(row) for row in rows]

    def user_with_external_key(self, identity_store_id: str, key: str) -> DirectoryUser | None:
        row = self._conn.execute(
            select(ic_users).where(
                ic_users.c.identity_store_id == identity_store_id,
                ic_users.c.external_key == key,
            )
        ).first()
        return _user(row) if row else None

    def group_with_external_key(self, identity_store_id: str, key: str) -> DirectoryGroup | None:
        row = self._conn.execute(
            select(ic_groups).where(
                ic_groups.c.identity_store_id == identity_store_id,
                ic_groups.c.external_key == key,
            )
        ).first()
        return _group(row) if row else None

    def replace_user(self, user: DirectoryUser) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    update(ic_users)
                    .where(ic_users.c.user_id == user.user_id)
                    .values(
                        user_name=user.user_name,
                        user_name_lower=user.user_name.lower(),
                        attributes=json.dumps(user.attributes),
                        external_key=external_key(user.attributes.get("ExternalIds")),
                        status=user.status,
                        updated=user.updated,
                        updated_by=user.updated_by,
                    )
                )
        except IntegrityError as exc:
            raise self._user_conflict(user) from exc

    def delete_user(self, identity_store_id: str, user_id: str) -> bool:
        self._conn.execute(delete(ic_memberships).where(ic_memberships.c.user_id == user_id))
        done = self._conn.execute(
            delete(ic_users).where(
                ic_users.c.identity_store_id == identity_store_id, ic_users.c.user_id == user_id
            )
        )
        return bool(done.rowcount)

    def count_users(self, identity_store_id: str) -> int:
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(ic_users)
                .where(ic_users.c.identity_store_id == identity_store_id)
            ).scalar_one()
        )

    # -- groups ------------------------------------------------------------------------

    def add_group(self, group: DirectoryGroup) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(ic_groups).values(
                        group_id=group.group_id,
                        identity_store_id=group.identity_store_id,
                        display_name=group.display_name,
                        display_name_lower=group.display_name.lower(),
                        description=group.description,
                        external_ids=json.dumps(group.external_ids),
                        external_key=external_key(group.external_ids),
                        created=group.created,
                        updated=group.updated,
                        created_by=group.created_by,
                        updated_by=group.updated_by,
                    )
                )
        except IntegrityError as exc:
            raise self._group_conflict(group) from exc

    def group(self, identity_store_id: str, group_id: str) -> DirectoryGroup | None:
        row = self._conn.execute(
            select(ic_groups).where(
                ic_groups.c.identity_store_id == identity_store_id,
                ic_groups.c.group_id == group_id,
            )
        ).first()
        return _group(row) if row else None

    def groups(
        self,
        identity_store_id: str,
        after: str | None,
        limit: int,
        display_name: str | None = None,
    ) -> list[DirectoryGroup]:
        query = select(ic_groups).where(ic_groups.c.identity_store_id == identity_store_id)
        if display_name is not None:
            query = query.where(ic_groups.c.display_name_lower == display_name.lower())
        if after is not None:
            query = query.where(ic_groups.c.group_id > after)
        rows = self._conn.execute(query.order_by(ic_groups.c.group_id).limit(limit))
        return [_group(row) for row in rows]

    def replace_group(self, group: DirectoryGroup) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    update(ic_groups)
                    .where(ic_groups.c.group_id == group.group_id)
                    .values(
                        display_name=group.display_name,
                        display_name_lower=group.display_name.lower(),
                        description=group.description,
                        external_ids=json.dumps(group.external_ids),
                        external_key=external_key(group.external_ids),
                        updated=group.updated,
                        updated_by=group.updated_by,
                    )
                )
        except IntegrityError as exc:
            raise self._group_conflict(group) from exc

    def delete_group(self, identity_store_id: str, group_id: str) -> bool:
        self._conn.execute(delete(ic_memberships).where(ic_memberships.c.group_id == group_id))
        done = self._conn.execute(
            delete(ic_groups).where(
                ic_groups.c.identity_store_id == identity_store_id,
                ic_groups.c.group_id == group_id,
            )
        )
        return bool(done.rowcount)

    def count_groups(self, identity_store_id: str) -> int:
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(ic_groups)
                .where(ic_groups.c.identity_store_id == identity_store_id)
            ).scalar_one()
        )

    # -- memberships -------------------------------------------------------------------

    def add_membership(self, membership: GroupMembership) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(ic_memberships).values(
                        membership_id=membership.membership_id,
                        identity_store_id=membership.identity_store_id,
                        group_id=membership.group_id,
                        user_id=membership.user_id,
                        created=membership.created,
                        created_by=membership.created_by,
                    )
                )
        except IntegrityError as exc:
            raise ConflictException.duplicate(
                "Member and Group relationship already exists."
            ) from exc

    def membership(self, identity_store_id: str, membership_id: str) -> GroupMembership | None:
        row = self._conn.execute(
            select(ic_memberships).where(
                ic_memberships.c.identity_store_id == identity_store_id,
                ic_memberships.c.membership_id == membership_id,
            )
        ).first()
        return _membership(row) if row else None

    def membership_of(self, group_id: str, user_id: str) -> GroupMembership | None:
        row = self._conn.execute(
            select(ic_memberships).where(
                ic_memberships.c.group_id == group_id, ic_memberships.c.user_id == user_id
            )
        ).first()
        return _membership(row) if row else None

    def memberships(
        self,
        identity_store_id: str,
        after: str | None,
        limit: int,
        *,
        group_id: str | None = None,
        user_id: str | None = None,
    ) -> list[GroupMembership]:
        c = ic_memberships.c
        query = select(ic_memberships).where(c.identity_store_id == identity_store_id)
        if group_id is not None:
            query = query.where(c.group_id == group_id)
        if user_id is not None:
            query = query.where(c.user_id == user_id)
        if after is not None:
            query = query.where(c.membership_id > after)
        rows = self._conn.execute(query.order_by(c.membership_id).limit(limit))
        return [_membership(row) for row in rows]

    def group_ids_of(self, user_id: str) -> list[str]:
        rows = self._conn.execute(
            select(ic_memberships.c.group_id).where(ic_memberships.c.user_id == user_id)
        )
        return [row.group_id for row in rows]

    def delete_membership(self, identity_store_id: str, membership_id: str) -> bool:
        done = self._conn.execute(
            delete(ic_memberships).where(
                ic_memberships.c.identity_store_id == identity_store_id,
                ic_memberships.c.membership_id == membership_id,
            )
        )
        return bool(done.rowcount)

    # -- permission sets ---------------------------------------------------------------

    def add_permission_set(self, permission_set: PermissionSet) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(ic_permission_sets).values(**_permission_set_row(permission_set))
                )
        except IntegrityError as exc:
            raise ConflictException(
                f"PermissionSet with name {permission_set.name} already exists."
            ) from exc

    def permission_set(self, arn: str) -> PermissionSet | None:
        row = self._conn.execute(
            select(ic_permission_sets).where(ic_permission_sets.c.permission_set_arn == arn)
        ).first()
        return _permission_set(row) if row else None

    def permission_sets(
        self, instance_arn: str, after: str | None, limit: int
    ) -> list[PermissionSet]:
        c = ic_permission_sets.c
        query = select(ic_permission_sets).where(c.instance_arn == instance_arn)
        if after is not None:
            query = query.where(c.permission_set_arn > after)
        rows = self._conn.execute(query.order_by(c.permission_set_arn).limit(limit))
        return [_permission_set(row) for row in rows]

    def count_permission_sets(self, instance_arn: str) -> int:
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(ic_permission_sets)
                .where(ic_permission_sets.c.instance_arn == instance_arn)
            ).scalar_one()
        )

    def replace_permission_set(self, permission_set: PermissionSet) -> None:
        values = _permission_set_row(permission_set)
        arn = values.pop("permission_set_arn")
        self._conn.execute(
            update(ic_permission_sets)
            .where(ic_permission_sets.c.permission_set_arn == arn)
            .values(**values)
        )

    def delete_permission_set(self, arn: str) -> None:
        self._conn.execute(delete(ic_operations).where(ic_operations.c.permission_set_arn == arn))
        self._conn.execute(
            delete(ic_permission_sets).where(ic_permission_sets.c.permission_set_arn == arn)
        )

    # -- assignments and what they provisioned -----------------------------------------

    def add_assignment(self, assignment: AccountAssignment, when: datetime) -> bool:
        """Whether it is new (an assignment made twice is one assignment)."""
        if self._assignment_exists(assignment):
            return False
        self._conn.execute(
            insert(ic_assignments).values(
                instance_arn=assignment.instance_arn,
                account_id=assignment.account_id,
                permission_set_arn=assignment.permission_set_arn,
                principal_type=assignment.principal_type,
                principal_id=assignment.principal_id,
                created=when,
            )
        )
        return True

    def _assignment_exists(self, assignment: AccountAssignment) -> bool:
        return (
            self._conn.execute(
                select(ic_assignments.c.created).where(_assignment_key(assignment))
            ).first()
            is not None
        )

    def delete_assignment(self, assignment: AccountAssignment) -> bool:
        done = self._conn.execute(delete(ic_assignments).where(_assignment_key(assignment)))
        return bool(done.rowcount)

    def assignments(
        self,
        instance_arn: str,
        *,
        account_id: str | None = None,
        permission_set_arn: str | None = None,
        principals: Sequence[tuple[str, str]] | None = None,
    ) -> list[AccountAssignment]:
        c = ic_assignments.c
        query = select(ic_assignments).where(c.instance_arn == instance_arn)
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        if permission_set_arn is not None:
            query = query.where(c.permission_set_arn == permission_set_arn)
        if principals is not None:
            if not principals:
                return []
            ids = [principal_id for _kind, principal_id in principals]
            query = query.where(c.principal_id.in_(ids))
        rows = self._conn.execute(
            query.order_by(c.account_id, c.permission_set_arn, c.principal_type, c.principal_id)
        )
        wanted = set(principals) if principals is not None else None
        found = [
            AccountAssignment(
                row.instance_arn,
                row.account_id,
                row.permission_set_arn,
                row.principal_type,
                row.principal_id,
            )
            for row in rows
        ]
        if wanted is None:
            return found
        return [a for a in found if (a.principal_type, a.principal_id) in wanted]

    def provisioned_role(self, account_id: str, permission_set_arn: str) -> str | None:
        row = self._conn.execute(
            select(ic_provisioned.c.role_name).where(
                ic_provisioned.c.account_id == account_id,
                ic_provisioned.c.permission_set_arn == permission_set_arn,
            )
        ).first()
        return None if row is None else str(row.role_name)

    def set_provisioned(
        self, instance_arn: str, account_id: str, permission_set_arn: str, role: str, when: datetime
    ) -> None:
        key = and_(
            ic_provisioned.c.account_id == account_id,
            ic_provisioned.c.permission_set_arn == permission_set_arn,
        )
        done = self._conn.execute(update(ic_provisioned).where(key).values(provisioned=when))
        if not done.rowcount:
            self._conn.execute(
                insert(ic_provisioned).values(
                    account_id=account_id,
                    permission_set_arn=permission_set_arn,
                    instance_arn=instance_arn,
                    role_name=role,
                    provisioned=when,
                )
            )

    def unset_provisioned(self, account_id: str, permission_set_arn: str) -> None:
        self._conn.execute(
            delete(ic_provisioned).where(
                ic_provisioned.c.account_id == account_id,
                ic_provisioned.c.permission_set_arn == permission_set_arn,
            )
        )

    def provisioned_accounts(self, permission_set_arn: str) -> list[str]:
        rows = self._conn.execute(
            select(ic_provisioned.c.account_id)
            .where(ic_provisioned.c.permission_set_arn == permission_set_arn)
            .order_by(ic_provisioned.c.account_id)
        )
        return [row.account_id for row in rows]

    def provisioned_to(self, instance_arn: str, account_id: str) -> list[str]:
        rows = self._conn.execute(
            select(ic_provisioned.c.permission_set_arn)
            .where(
                ic_provisioned.c.instance_arn == instance_arn,
                ic_provisioned.c.account_id == account_id,
            )
            .order_by(ic_provisioned.c.permission_set_arn)
        )
        return [row.permission_set_arn for row in rows]

    # -- status records ----------------------------------------------------------------

    def add_operation(self, operation: OperationStatus) -> None:
        self._conn.execute(
            insert(ic_operations).values(
                request_id=operation.request_id,
                instance_arn=operation.instance_arn,
                kind=operation.kind,
                status=operation.status,
                failure_reason=operation.failure_reason,
                account_id=operation.account_id,
                permission_set_arn=operation.permission_set_arn,
                principal_type=operation.principal_type,
                principal_id=operation.principal_id,
                created=operation.created,
            )
        )

    def operation(self, instance_arn: str, kind: str, request_id: str) -> OperationStatus | None:
        row = self._conn.execute(
            select(ic_operations).where(
                ic_operations.c.instance_arn == instance_arn,
                ic_operations.c.kind == kind,
                ic_operations.c.request_id == request_id,
            )
        ).first()
        return _operation(row) if row else None

    def operations(self, instance_arn: str, kind: str, status: str | None) -> list[OperationStatus]:
        c = ic_operations.c
        query = select(ic_operations).where(c.instance_arn == instance_arn, c.kind == kind)
        if status is not None:
            query = query.where(c.status == status)
        rows = self._conn.execute(query.order_by(c.created, c.request_id))
        return [_operation(row) for row in rows]


def _assignment_key(assignment: AccountAssignment) -> Any:
    c = ic_assignments.c
    return and_(
        c.instance_arn == assignment.instance_arn,
        c.account_id == assignment.account_id,
        c.permission_set_arn == assignment.permission_set_arn,
        c.principal_type == assignment.principal_type,
        c.principal_id == assignment.principal_id,
    )


def _permission_set_row(permission_set: PermissionSet) -> dict[str, Any]:
    return {
        "permission_set_arn": permission_set.permission_set_arn,
        "instance_arn": permission_set.instance_arn,
        "name": permission_set.name,
        "description": permission_set.description,
        "session_duration": permission_set.session_duration,
        "relay_state": permission_set.relay_state,
        "created": permission_set.created,
        "inline_policy": permission_set.inline_policy,
        "boundary": json.dumps(permission_set.boundary) if permission_set.boundary else None,
        "managed_policies": json.dumps(list(permission_set.managed_policies)),
        "customer_policies": json.dumps(
            [[reference.name, reference.path] for reference in permission_set.customer_policies]
        ),
        "tags": json.dumps([list(tag) for tag in permission_set.tags]),
    }

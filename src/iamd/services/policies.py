"""Managed policies: create, version, list, attach to users and groups, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table

from iamd.aws_managed_policies import load_aws_managed_policies
from iamd.clock import Clock
from iamd.errors import AccessDenied, DeleteConflict, InvalidInput, LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import (
    AttachedPolicy,
    ManagedPolicy,
    PolicyScope,
    PolicyVersion,
    Tag,
    iam_arn,
)
from iamd.model.arn import split_policy_arn
from iamd.services.documents import check_policy_document
from iamd.services.groups import require_group
from iamd.services.quotas import Quotas
from iamd.services.tagging import check_tag_count
from iamd.services.transactions import NO_CREDENTIALS, Repositories, Transactions
from iamd.services.users import require_user
from iamd.store.schema import group_policy_attachments, user_policy_attachments
from iamd.store.sql.paging import Page, page_of_sequence


@dataclass(frozen=True, slots=True)
class PolicyEntity:
    kind: str  # "User" | "Group" | "Role"
    name: str
    entity_id: str


def check_policy_arn(arn: str) -> None:
    if split_policy_arn(arn) is None:
        raise InvalidInput(f"ARN {arn} is not valid.")


def require_policy(repos: Repositories, arn: str, *, for_update: bool = False) -> ManagedPolicy:
    check_policy_arn(arn)
    policy = repos.policies.get_by_arn(arn, for_update=for_update)
    if policy is None:
        raise NoSuchEntity.policy(arn)
    return policy


def _require_local(policy: ManagedPolicy, change: str) -> None:
    # AWS managed policies live in AWS's account: callers cannot change them, and AWS
    # answers AccessDenied, "Cannot <change> outside your own account."
    if policy.scope is PolicyScope.AWS:
        raise AccessDenied.outside_account(change)


class PolicyService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas

    # -- managed policies ---------------------------------------------------------------

    def create(
        self,
        name: str,
        path: str,
        document: str,
        description: str | None,
        tags: Sequence[Tag],
    ) -> ManagedPolicy:
        check_policy_document(document, managed=True, max_size=self._quotas.policy_size)
        check_tag_count((), tags, self._quotas.tags_per_resource)
        now = self._clock.now()
        # A new policy is attached to nobody: no cached credential can depend on it.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock()
            if repos.policies.count_local() >= self._quotas.policies:
                raise LimitExceeded.quota("PoliciesPerAccount", self._quotas.policies)
            policy = ManagedPolicy(
                policy_id=self._ids.entity_id(IdPrefix.POLICY),
                name=name,
                path=path,
                arn=iam_arn(self._tx.account_id, "policy", path, name),
                scope=PolicyScope.LOCAL,
                default_version_id="v1",
                attachment_count=0,
                permissions_boundary_usage_count=0,
                is_attachable=True,
                description=description,
                create_date=now,
                update_date=now,
                tags=tuple(tags),
            )
            repos.policies.add(policy, document)
            return policy

    def get(self, arn: str) -> ManagedPolicy:
        with self._tx.read() as repos:
            return require_policy(repos, arn)

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
        with self._tx.read() as repos:
            return repos.policies.listing(
                scope=scope,
                only_attached=only_attached,
                path_prefix=path_prefix,
                marker=marker,
                max_items=max_items,
                usage=usage,
            )

    def delete(self, arn: str) -> None:
        with self._tx.write() as repos:
            policy = require_policy(repos, arn, for_update=True)
            _require_local(policy, "delete policies")
            # A policy in use as a permissions boundary counts as attached [I: AWS's
            # console says so; the API message is the one for attachments].
            if policy.attachment_count or policy.permissions_boundary_usage_count:
                raise DeleteConflict.policy_attached()
            if len(repos.policies.list_versions(policy.policy_id)) > 1:
                raise DeleteConflict.policy_versions()
            repos.policies.delete(policy.policy_id)

    def tag(self, arn: str, tags: Sequence[Tag]) -> None:
        with self._tx.write() as repos:
            policy = require_policy(repos, arn, for_update=True)
            _require_local(policy, "tag policies")
            check_tag_count([t.key for t in policy.tags], tags, self._quotas.tags_per_resource)
            repos.policies.tags.upsert(policy.policy_id, tags)

    def untag(self, arn: str, keys: Sequence[str]) -> None:
        with self._tx.write() as repos:
            policy = require_policy(repos, arn, for_update=True)
            _require_local(policy, "untag policies")
            repos.policies.tags.remove(policy.policy_id, keys)

    def list_tags(self, arn: str, marker: str | None, max_items: int) -> Page[Tag]:
        with self._tx.read() as repos:
            policy = require_policy(repos, arn)
        return page_of_sequence(list(policy.tags), marker, max_items)

    # -- versions -----------------------------------------------------------------------

    def create_version(self, arn: str, document: str, set_as_default: bool) -> PolicyVersion:
        check_policy_document(document, managed=True, max_size=self._quotas.policy_size)
        with self._tx.write() as repos:
            policy = require_policy(repos, arn, for_update=True)
            _require_local(policy, "create versions for policies")
            if len(repos.policies.list_versions(policy.policy_id)) >= (
                self._quotas.versions_per_policy
            ):
                raise LimitExceeded(
                    f"A managed policy can have up to {self._quotas.versions_per_policy} "
                    "versions. Before you create a new version, you must delete an existing "
                    "version."
                )
            return repos.policies.add_version(
                policy.policy_id, document, self._clock.now(), set_default=set_as_default
            )

    def get_version(self, arn: str, version_id: str) -> PolicyVersion:
        with self._tx.read() as repos:
            policy = require_policy(repos, arn)
            version = repos.policies.get_version(policy.policy_id, version_id)
            if version is None:
                raise NoSuchEntity.policy_version(arn, version_id)
            return version

    def list_versions(self, arn: str, marker: str | None, max_items: int) -> Page[PolicyVersion]:
        with self._tx.read() as repos:
            policy = require_policy(repos, arn)
            versions = repos.policies.list_versions(policy.policy_id)
        return page_of_sequence(versions, marker, max_items)

    def delete_version(self, arn: str, version_id: str) -> None:
        with self._tx.write() as repos:
            policy = require_policy(repos, arn, for_update=True)
            _require_local(policy, "delete policy versions for policies")
            if repos.policies.get_version(policy.policy_id, version_id) is None:
                raise NoSuchEntity.policy_version(arn, version_id)
            if version_id == policy.default_version_id:
                raise DeleteConflict.default_version()
            repos.policies.delete_version(policy.policy_id, version_id)

    def set_default_version(self, arn: str, version_id: str) -> None:
        with self._tx.write() as repos:
            policy = require_policy(repos, arn, for_update=True)
            _require_local(policy, "update policies")
            if repos.policies.get_version(policy.policy_id, version_id) is None:
                raise NoSuchEntity.policy_version(arn, version_id)
            repos.policies.set_default_version(policy.policy_id, version_id, self._clock.now())

    # -- attachments --------------------------------------------------------------------

    def attach_to_user(self, user_name: str, arn: str) -> None:
        with self._tx.write() as repos:
            user = require_user(repos, user_name, for_update=True)
            policy = require_policy(repos, arn)
            self._attach(
                repos,
                user_policy_attachments,
                "user_id",
                user.user_id,
                policy,
                "PoliciesPerUser",
                self._quotas.attached_policies_per_user,
            )

    def attach_to_group(self, group_name: str, arn: str) -> None:
        with self._tx.write() as repos:
            group = require_group(repos, group_name, for_update=True)
            policy = require_policy(repos, arn)
            self._attach(
                repos,
                group_policy_attachments,
                "group_id",
                group.group_id,
                policy,
                "PoliciesPerGroup",
                self._quotas.attached_policies_per_group,
            )

    def _attach(
        self,
        repos: Repositories,
        table: Table,
        owner_column: str,
        owner_id: str,
        policy: ManagedPolicy,
        quota_name: str,
        limit: int,
    ) -> None:
        if not policy.is_attachable:
            raise InvalidInput(f"Policy {policy.arn} is not attachable.")
        attached = {p.arn for p in repos.policies.attached_to(table, owner_column, owner_id)}
        if policy.arn in attached:
            return
        if len(attached) >= limit:
            raise LimitExceeded.quota(quota_name, limit)
        repos.policies.attach(table, owner_column, owner_id, policy.policy_id, self._clock.now())

    def detach_from_user(self, user_name: str, arn: str) -> None:
        with self._tx.write() as repos:
            user = require_user(repos, user_name, for_update=True)
            policy = require_policy(repos, arn)
            if not repos.policies.detach(
                user_policy_attachments, "user_id", user.user_id, policy.policy_id
            ):
                raise NoSuchEntity.attached_policy(arn)

    def detach_from_group(self, group_name: str, arn: str) -> None:
        with self._tx.write() as repos:
            group = require_group(repos, group_name, for_update=True)
            policy = require_policy(repos, arn)
            if not repos.policies.detach(
                group_policy_attachments, "group_id", group.group_id, policy.policy_id
            ):
                raise NoSuchEntity.attached_policy(arn)

    def attached_to_user(
        self, user_name: str, path_prefix: str, marker: str | None, max_items: int
    ) -> Page[AttachedPolicy]:
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            found = repos.policies.attached_to(
                user_policy_attachments, "user_id", user.user_id, path_prefix
            )
        return page_of_sequence(found, marker, max_items)

    def attached_to_group(
        self, group_name: str, path_prefix: str, marker: str | None, max_items: int
    ) -> Page[AttachedPolicy]:
        with self._tx.read() as repos:
            group = require_group(repos, group_name)
            found = repos.policies.attached_to(
                group_policy_attachments, "group_id", group.group_id, path_prefix
            )
        return page_of_sequence(found, marker, max_items)

    def entities_for(
        self,
        arn: str,
        entity_filter: str | None,
        path_prefix: str,
        marker: str | None,
        max_items: int,
        usage: str | None = None,
    ) -> Page[PolicyEntity]:
        """Entities using the policy: as a permissions policy (attached), as a permissions
        boundary, or either when `usage` is None."""
        with self._tx.read() as repos:
            policy = require_policy(repos, arn)
            ids = repos.policies.entities_for_policy(policy.policy_id)
            user_ids = ids["user"] if usage in (None, "PermissionsPolicy") else []
            if usage in (None, "PermissionsBoundary"):
                user_ids = list(dict.fromkeys([*user_ids, *repos.policies.boundary_user_ids(arn)]))
            group_ids = ids["group"] if usage in (None, "PermissionsPolicy") else []
            entities: list[PolicyEntity] = []
            if entity_filter in (None, "User"):
                for user_id in user_ids:
                    user = repos.users.get_by_id(user_id)
                    if user and user.path.startswith(path_prefix):
                        entities.append(PolicyEntity("User", user.name, user.user_id))
            if entity_filter in (None, "Group"):
                for group_id in group_ids:
                    group = repos.groups.get_by_id(group_id)
                    if group and group.path.startswith(path_prefix):
                        entities.append(PolicyEntity("Group", group.name, group.group_id))
        entities.sort(key=lambda e: (e.kind, e.name.lower()))
        return page_of_sequence(entities, marker, max_items)


def sync_aws_managed_policies(tx: Transactions, clock: Clock) -> int:
    """Make the database hold the AWS managed policies this release ships.

    A policy missing from the database is added; one whose shipped default version is
    newer replaces the stored version. Returns how many policies changed.
    """
    changed = 0
    with tx.write() as repos:
        for shipped in load_aws_managed_policies():
            stored = repos.policies.get_by_arn(shipped.arn)
            if stored is not None and stored.default_version_id == shipped.default_version_id:
                continue
            if stored is not None:
                # Attachments point at the policy id, which stays; only the document moves.
                repos.policies.replace_versions(
                    stored.policy_id,
                    shipped.default_version_id,
                    shipped.document,
                    shipped.update_date,
                )
                changed += 1
                continue
            policy = ManagedPolicy(
                policy_id=shipped.policy_id,
                name=shipped.name,
                path=shipped.path,
                arn=shipped.arn,
                scope=PolicyScope.AWS,
                default_version_id=shipped.default_version_id,
                attachment_count=0,
                permissions_boundary_usage_count=0,
                is_attachable=True,
                description=shipped.description,
                create_date=shipped.create_date,
                update_date=shipped.update_date,
            )
            repos.policies.add(policy, shipped.document)
            changed += 1
    return changed

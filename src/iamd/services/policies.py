"""Managed policies: create, version, list, attach to users, groups and roles, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
from iamd.model.owners import OwnerKind
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.services.documents import check_policy_document
from iamd.services.tagging import ResourceTags, TaggedKind, check_tag_count
from iamd.store.owners import attachments_table, entities_of, require_owner
from iamd.store.sql.paging import page_of_sequence
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions


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


_TAGS: TaggedKind[ManagedPolicy] = TaggedKind(
    find=lambda repos, arn, for_update: require_policy(repos, arn, for_update=for_update),
    tags_of=lambda policy: policy.tags,
    owner_id=lambda policy: policy.policy_id,
    repository=lambda repos: repos.policies.tags,
    check_changeable=lambda policy, change: _require_local(policy, f"{change} policies"),
)


class PolicyService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        self.tags = ResourceTags(tx, _TAGS, quotas.tags_per_resource)

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
            repos.account.lock("policies")
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

    def attach(self, kind: OwnerKind, owner_name: str, arn: str) -> None:
        """Attach the managed policy to a user, group or role (attached already: success)."""
        with self._tx.write() as repos:
            owner = require_owner(repos, kind, owner_name, for_update=True)
            policy = require_policy(repos, arn)
            if not policy.is_attachable:
                raise InvalidInput(f"Policy {policy.arn} is not attachable.")
            table, column = attachments_table(kind), kind.owner_column
            attached = {p.arn for p in repos.policies.attached_to(table, column, owner.owner_id)}
            if policy.arn in attached:
                return
            limit = kind.attachment_quota(self._quotas)
            if len(attached) >= limit:
                raise LimitExceeded.quota(kind.attachment_quota_name, limit)
            repos.policies.attach(
                table, column, owner.owner_id, policy.policy_id, self._clock.now()
            )

    def detach(self, kind: OwnerKind, owner_name: str, arn: str) -> None:
        with self._tx.write() as repos:
            owner = require_owner(repos, kind, owner_name, for_update=True)
            policy = require_policy(repos, arn)
            if not repos.policies.detach(
                attachments_table(kind), kind.owner_column, owner.owner_id, policy.policy_id
            ):
                raise NoSuchEntity.attached_policy(arn)

    def attached(
        self,
        kind: OwnerKind,
        owner_name: str,
        path_prefix: str,
        marker: str | None,
        max_items: int,
    ) -> Page[AttachedPolicy]:
        with self._tx.read() as repos:
            owner = require_owner(repos, kind, owner_name)
            found = repos.policies.attached_to(
                attachments_table(kind), kind.owner_column, owner.owner_id, path_prefix
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
        boundary, or either when `usage` is None. Listed groups, then roles, then users."""
        with self._tx.read() as repos:
            policy = require_policy(repos, arn)
            ids: dict[str, list[str]] = {"user": [], "group": [], "role": []}
            if usage in (None, "PermissionsPolicy"):
                for name, found in repos.policies.entities_for_policy(policy.policy_id).items():
                    ids[name] += found
            if usage in (None, "PermissionsBoundary"):
                for name, found in repos.policies.boundary_entity_ids(arn).items():
                    ids[name] += found
            entities: list[PolicyEntity] = []
            for kind in OwnerKind:
                title = kind.value.capitalize()
                if entity_filter not in (None, title):
                    continue
                for entity_id in dict.fromkeys(ids[kind.value]):
                    entity = entities_of(repos, kind).get_by_id(entity_id)
                    if entity is not None and entity.path.startswith(path_prefix):
                        entities.append(PolicyEntity(title, entity.name, entity_id))
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

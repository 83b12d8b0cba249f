"""Users, groups and roles as owners of policies: the tables and repositories of each kind
(`iamd.model.owners.OwnerKind`), so the services that manage inline policies,
attachments and boundaries are written once for all three kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from iamd.errors import NoSuchEntity, UnmodifiableEntity
from iamd.model.instance_profiles import is_protected_role
from iamd.model.owners import OwnerKind
from iamd.store.schema import (
    group_policy_attachments,
    role_policy_attachments,
    user_policy_attachments,
)
from iamd.store.sql.inline_policies import InlinePolicyRepository
from iamd.store.sql.named_entities import NamedEntityRepository
from iamd.store.transactions import Repositories

_ATTACHMENTS = {
    OwnerKind.USER: user_policy_attachments,
    OwnerKind.GROUP: group_policy_attachments,
    OwnerKind.ROLE: role_policy_attachments,
}


def attachments_table(kind: OwnerKind) -> Table:
    return _ATTACHMENTS[kind]


def entities_of(repos: Repositories, kind: OwnerKind) -> NamedEntityRepository[Any]:
    if kind is OwnerKind.USER:
        return repos.users
    if kind is OwnerKind.GROUP:
        return repos.groups
    return repos.roles


def inline_policies_of(repos: Repositories, kind: OwnerKind) -> InlinePolicyRepository:
    return {
        OwnerKind.USER: repos.user_inline_policies,
        OwnerKind.GROUP: repos.group_inline_policies,
        OwnerKind.ROLE: repos.role_inline_policies,
    }[kind]


@dataclass(frozen=True, slots=True)
class Owner:
    """One user, group or role, by id and stored name."""

    kind: OwnerKind
    owner_id: str
    name: str


def require_owner(
    repos: Repositories, kind: OwnerKind, name: str, *, for_update: bool = False
) -> Owner:
    """The owner a request names; `for_update` (a change of its policies, attachments or
    boundary) refuses a service-linked role, which only its service may change."""
    entity = entities_of(repos, kind).get_by_name(name, for_update=for_update)
    if entity is None:
        raise NoSuchEntity.named(kind.value, name)
    if for_update and kind is OwnerKind.ROLE and is_protected_role(entity.path):
        raise UnmodifiableEntity.protected_role(entity.name)
    return Owner(kind, getattr(entity, kind.owner_column), entity.name)

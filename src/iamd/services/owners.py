"""Users, groups and roles as owners of policies: one description of each kind.

Inline policies, managed policy attachments and (for users and roles) permissions
boundaries work the same way for every kind of identity; only the tables, the quotas and
AWS's words differ. `OwnerKind` holds those differences, so the inline policy, attachment
and boundary services are written once for all three kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Table

from iamd.errors import NoSuchEntity
from iamd.services.quotas import Quotas
from iamd.services.transactions import Repositories
from iamd.store.schema import (
    group_policy_attachments,
    role_policy_attachments,
    user_policy_attachments,
)
from iamd.store.sql.inline_policies import InlinePolicyRepository
from iamd.store.sql.named_entities import NamedEntityRepository


class OwnerKind(Enum):
    USER = "user"
    GROUP = "group"
    ROLE = "role"

    @property
    def owner_column(self) -> str:
        return f"{self.value}_id"

    @property
    def attachments(self) -> Table:
        return _ATTACHMENTS[self]

    @property
    def attachment_quota_name(self) -> str:
        """The quota AWS names when one managed policy too many is attached."""
        return f"PoliciesPer{self.value.capitalize()}"

    def attachment_quota(self, quotas: Quotas) -> int:
        return {
            OwnerKind.USER: quotas.attached_policies_per_user,
            OwnerKind.GROUP: quotas.attached_policies_per_group,
            OwnerKind.ROLE: quotas.attached_policies_per_role,
        }[self]

    def inline_size_quota(self, quotas: Quotas) -> int:
        """Aggregate size of the owner's inline policies (whitespace not counted)."""
        return {
            OwnerKind.USER: quotas.user_policy_size,
            OwnerKind.GROUP: quotas.group_policy_size,
            OwnerKind.ROLE: quotas.role_policy_size,
        }[self]

    def entities(self, repos: Repositories) -> NamedEntityRepository[Any]:
        if self is OwnerKind.USER:
            return repos.users
        if self is OwnerKind.GROUP:
            return repos.groups
        return repos.roles

    def inline_policies(self, repos: Repositories) -> InlinePolicyRepository:
        return {
            OwnerKind.USER: repos.user_inline_policies,
            OwnerKind.GROUP: repos.group_inline_policies,
            OwnerKind.ROLE: repos.role_inline_policies,
        }[self]

    def not_found(self, name: str) -> NoSuchEntity:
        return NoSuchEntity.named(self.value, name)

    def inline_policy_not_found(self, policy_name: str) -> NoSuchEntity:
        return NoSuchEntity.inline_policy(self.value, policy_name)


_ATTACHMENTS = {
    OwnerKind.USER: user_policy_attachments,
    OwnerKind.GROUP: group_policy_attachments,
    OwnerKind.ROLE: role_policy_attachments,
}


@dataclass(frozen=True, slots=True)
class Owner:
    """One user, group or role, by id and stored name."""

    kind: OwnerKind
    owner_id: str
    name: str


def require_owner(
    repos: Repositories, kind: OwnerKind, name: str, *, for_update: bool = False
) -> Owner:
    entity = kind.entities(repos).get_by_name(name, for_update=for_update)
    if entity is None:
        raise kind.not_found(name)
    return Owner(kind, getattr(entity, kind.owner_column), entity.name)

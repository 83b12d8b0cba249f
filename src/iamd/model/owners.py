"""Users, groups and roles as owners of policies: the kind, and what its quotas are.

Inline policies, managed policy attachments and (for users and roles) permissions
boundaries work the same way for every kind of identity; only the tables, the quotas and
AWS's words differ. `OwnerKind` names the kind; `iamd.store.owners` maps it to its
tables, so the inline policy, attachment and boundary services are written once.
"""

from __future__ import annotations

from enum import Enum

from iamd.model.quotas import Quotas


class OwnerKind(Enum):
    USER = "user"
    GROUP = "group"
    ROLE = "role"

    @property
    def owner_column(self) -> str:
        return f"{self.value}_id"

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

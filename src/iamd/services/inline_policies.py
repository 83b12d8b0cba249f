"""Inline policies of users, groups and roles: put, get, list, delete.

AWS limits the aggregate size of an entity's inline policies (whitespace not counted),
not their number: 2,048 characters for a user, 5,120 for a group, 10,240 for a role.
"""

from __future__ import annotations

from iamd.errors import LimitExceeded, NoSuchEntity
from iamd.model import InlinePolicy
from iamd.model.owners import OwnerKind
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.services.documents import check_policy_document, size_without_whitespace
from iamd.store.owners import inline_policies_of, require_owner
from iamd.store.transactions import Transactions


class InlinePolicyService:
    def __init__(self, tx: Transactions, quotas: Quotas) -> None:
        self._tx = tx
        self._quotas = quotas

    def put(self, kind: OwnerKind, owner_name: str, policy_name: str, document: str) -> None:
        """Add the policy, or replace the one of that name (PutUserPolicy...)."""
        check_policy_document(document, managed=False)
        with self._tx.write() as repos:
            owner = require_owner(repos, kind, owner_name, for_update=True)
            policies = inline_policies_of(repos, kind)
            others = sum(
                size_without_whitespace(p.document)
                for p in policies.all(owner.owner_id)
                if p.name != policy_name
            )
            limit = kind.inline_size_quota(self._quotas)
            if others + size_without_whitespace(document) > limit:
                raise LimitExceeded(
                    f"Maximum policy size of {limit} bytes exceeded for {kind.value} {owner.name}"
                )
            policies.put(owner.owner_id, policy_name, document)

    def get(self, kind: OwnerKind, owner_name: str, policy_name: str) -> tuple[str, InlinePolicy]:
        """The owner's stored name and the policy."""
        with self._tx.read() as repos:
            owner = require_owner(repos, kind, owner_name)
            policy = inline_policies_of(repos, kind).get(owner.owner_id, policy_name)
        if policy is None:
            raise NoSuchEntity.inline_policy(kind.value, policy_name)
        return owner.name, policy

    def names(
        self, kind: OwnerKind, owner_name: str, marker: str | None, max_items: int
    ) -> Page[str]:
        with self._tx.read() as repos:
            owner = require_owner(repos, kind, owner_name)
            return inline_policies_of(repos, kind).names(owner.owner_id, marker, max_items)

    def delete(self, kind: OwnerKind, owner_name: str, policy_name: str) -> None:
        with self._tx.write() as repos:
            owner = require_owner(repos, kind, owner_name, for_update=True)
            if not inline_policies_of(repos, kind).delete(owner.owner_id, policy_name):
                raise NoSuchEntity.inline_policy(kind.value, policy_name)

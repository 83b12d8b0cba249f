"""Inline policies of users and groups: put, get, list, delete.

AWS limits the aggregate size of an entity's inline policies (whitespace not counted),
not their number: 2,048 characters for a user, 5,120 for a group.
"""

from __future__ import annotations

from iamd.errors import LimitExceeded, NoSuchEntity
from iamd.model import InlinePolicy
from iamd.services.documents import check_policy_document, size_without_whitespace
from iamd.services.groups import require_group
from iamd.services.quotas import Quotas
from iamd.services.transactions import Transactions
from iamd.services.users import require_user
from iamd.store.sql.inline_policies import InlinePolicyRepository
from iamd.store.sql.paging import Page


class InlinePolicyService:
    def __init__(self, tx: Transactions, quotas: Quotas) -> None:
        self._tx = tx
        self._quotas = quotas

    def put_user_policy(self, user_name: str, policy_name: str, document: str) -> None:
        check_policy_document(document, managed=False)
        with self._tx.write() as repos:
            user = require_user(repos, user_name, for_update=True)
            _put(
                repos.user_inline_policies,
                user.user_id,
                policy_name,
                document,
                self._quotas.user_policy_size,
                f"user {user.name}",
            )

    def put_group_policy(self, group_name: str, policy_name: str, document: str) -> None:
        check_policy_document(document, managed=False)
        with self._tx.write() as repos:
            group = require_group(repos, group_name, for_update=True)
            _put(
                repos.group_inline_policies,
                group.group_id,
                policy_name,
                document,
                self._quotas.group_policy_size,
                f"group {group.name}",
            )

    def get_user_policy(self, user_name: str, policy_name: str) -> tuple[str, InlinePolicy]:
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            policy = repos.user_inline_policies.get(user.user_id, policy_name)
        if policy is None:
            raise NoSuchEntity.user_policy(user.name, policy_name)
        return user.name, policy

    def get_group_policy(self, group_name: str, policy_name: str) -> tuple[str, InlinePolicy]:
        with self._tx.read() as repos:
            group = require_group(repos, group_name)
            policy = repos.group_inline_policies.get(group.group_id, policy_name)
        if policy is None:
            raise NoSuchEntity.group_policy(group.name, policy_name)
        return group.name, policy

    def list_user_policies(self, user_name: str, marker: str | None, max_items: int) -> Page[str]:
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            return repos.user_inline_policies.names(user.user_id, marker, max_items)

    def list_group_policies(self, group_name: str, marker: str | None, max_items: int) -> Page[str]:
        with self._tx.read() as repos:
            group = require_group(repos, group_name)
            return repos.group_inline_policies.names(group.group_id, marker, max_items)

    def delete_user_policy(self, user_name: str, policy_name: str) -> None:
        with self._tx.write() as repos:
            user = require_user(repos, user_name, for_update=True)
            if not repos.user_inline_policies.delete(user.user_id, policy_name):
                raise NoSuchEntity.user_policy(user.name, policy_name)

    def delete_group_policy(self, group_name: str, policy_name: str) -> None:
        with self._tx.write() as repos:
            group = require_group(repos, group_name, for_update=True)
            if not repos.group_inline_policies.delete(group.group_id, policy_name):
                raise NoSuchEntity.group_policy(group.name, policy_name)


def _put(
    repository: InlinePolicyRepository,
    owner_id: str,
    policy_name: str,
    document: str,
    limit: int,
    owner_label: str,
) -> None:
    others = sum(
        size_without_whitespace(p.document)
        for p in repository.all(owner_id)
        if p.name != policy_name
    )
    if others + size_without_whitespace(document) > limit:
        raise LimitExceeded(f"Maximum policy size of {limit} bytes exceeded for {owner_label}")
    repository.put(owner_id, policy_name, document)

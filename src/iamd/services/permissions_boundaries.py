"""Permissions boundaries of IAM users and roles: set, replace and remove.

A boundary is a managed policy (customer or AWS) whose Allow statements cap what the
entity's identity policies can grant; the authorizer evaluates identity ∩ boundary. A
user or role has at most one boundary: Put*PermissionsBoundary replaces the previous one.
"""

from __future__ import annotations

from iamd.errors import NoSuchEntity, PolicyNotAttachable
from iamd.model.owners import OwnerKind
from iamd.services.policies import check_policy_arn
from iamd.store.owners import entities_of, require_owner
from iamd.store.transactions import Repositories, Transactions


def require_boundary_policy(repos: Repositories, arn: str) -> None:
    """The policy must exist and be attachable to serve as a boundary."""
    check_policy_arn(arn)
    policy = repos.policies.get_by_arn(arn)
    if policy is None:
        # The same sentence CreateUser uses for an unknown boundary.
        raise NoSuchEntity(f"Scope ARN: {arn} does not exist or is not attachable.")
    if not policy.is_attachable:
        raise PolicyNotAttachable(f"Policy {arn} is not attachable.")


class PermissionsBoundaryService:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def put(self, kind: OwnerKind, owner_name: str, policy_arn: str) -> None:
        """Put{User,Role}PermissionsBoundary."""
        with self._tx.write() as repos:
            owner = require_owner(repos, kind, owner_name, for_update=True)
            require_boundary_policy(repos, policy_arn)
            entities_of(repos, kind).set_permissions_boundary(owner.owner_id, policy_arn)

    def delete(self, kind: OwnerKind, owner_name: str) -> None:
        # Removing a boundary that is not set succeeds: the entity ends up without one,
        # which is what the caller asked for [I: AWS's answer here is not documented].
        with self._tx.write() as repos:
            owner = require_owner(repos, kind, owner_name, for_update=True)
            entities_of(repos, kind).set_permissions_boundary(owner.owner_id, None)

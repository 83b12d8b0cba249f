"""IAM Identity Center instances (botocore's `sso-admin`, their part of it).

An account has at most one instance (CreateInstance; for an organization's management
account it is the organization's instance). The instance comes with its identity store
(services/identity_store.py). DeleteInstance removes the instance, its store and its
permission sets; the roles they provisioned stay in the accounts, as in AWS.
"""

from __future__ import annotations

import secrets

from iamd.clock import Clock
from iamd.errors import ConflictException, ResourceNotFoundException
from iamd.model.identity_center import Instance
from iamd.services.identity_store import new_identity_store_id
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions


class IdentityCenterService:
    def __init__(self, tx: Transactions, clock: Clock) -> None:
        self._tx = tx
        self._clock = clock

    def create_instance(self, name: str | None) -> Instance:
        instance = Instance(
            instance_arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}",
            identity_store_id=new_identity_store_id(),
            owner_account_id=self._tx.account_id,
            name=name,
            status="ACTIVE",
            created=self._clock.now(),
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            if repos.identity_center.instance_of_owner(self._tx.account_id) is not None:
                raise ConflictException(
                    "An instance of IAM Identity Center already exists for this account."
                )
            repos.identity_center.add_instance(instance)
        return instance

    def own_instance(self) -> Instance | None:
        with self._tx.read() as repos:
            return repos.identity_center.instance_of_owner(self._tx.account_id)

    def instance(self, instance_arn: str) -> Instance:
        with self._tx.read() as repos:
            return self.require_instance(repos, instance_arn)

    def rename_instance(self, instance_arn: str, name: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self.require_instance(repos, instance_arn)
            repos.identity_center.rename_instance(instance_arn, name)

    def delete_instance(self, instance_arn: str) -> None:
        with self._tx.write() as repos:
            instance = self.require_instance(repos, instance_arn)
            repos.identity_center.delete_instance(instance)
            repos.identity_sources.forget_instance(instance_arn)

    def require_instance(self, repos: Repositories, instance_arn: str) -> Instance:
        """The caller's own instance this ARN names (another's is not found, as in AWS)."""
        found = repos.identity_center.instance(instance_arn)
        if found is None or found.owner_account_id != self._tx.account_id:
            raise ResourceNotFoundException("Instance does not exist.")
        return found

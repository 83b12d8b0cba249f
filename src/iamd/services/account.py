"""The account: its summary of counts and quotas, and its alias."""

from __future__ import annotations

import re

from iamd.errors import LimitExceeded, NoSuchEntity, ValidationError
from iamd.services.quotas import Quotas
from iamd.services.transactions import Transactions

_TWELVE_DIGITS = re.compile(r"\d{12}")


class AccountService:
    def __init__(self, tx: Transactions, quotas: Quotas) -> None:
        self._tx = tx
        self._quotas = quotas

    def summary(self) -> dict[str, int]:
        q = self._quotas
        with self._tx.read() as repos:
            users = repos.users.count()
            groups = repos.groups.count()
            roles = repos.roles.count()
            policies = repos.policies.count_local()
            versions_in_use = repos.policies.count_versions_in_use()
            mfa_devices = repos.mfa_devices.count()
            mfa_devices_in_use = repos.mfa_devices.count_assigned()
        # Keys AWS returns for an account, with iamd's real counts; entities iamd does not
        # have yet (instance profiles, providers, certificates) count zero.
        return {
            "Users": users,
            "UsersQuota": q.users,
            "Groups": groups,
            "GroupsQuota": q.groups,
            "ServerCertificates": 0,
            "ServerCertificatesQuota": q.server_certificates,
            "UserPolicySizeQuota": q.user_policy_size,
            "GroupPolicySizeQuota": q.group_policy_size,
            "GroupsPerUserQuota": q.groups_per_user,
            "SigningCertificatesPerUserQuota": q.signing_certificates_per_user,
            "AccessKeysPerUserQuota": q.access_keys_per_user,
            "MFADevices": mfa_devices,
            "MFADevicesInUse": mfa_devices_in_use,
            "AccountMFAEnabled": 0,
            "AccountAccessKeysPresent": 0,
            # The root user of an iamd account has no password (no console sign-in as root).
            "AccountPasswordPresent": 0,
            "AccountSigningCertificatesPresent": 0,
            "AttachedPoliciesPerGroupQuota": q.attached_policies_per_group,
            "AttachedPoliciesPerRoleQuota": q.attached_policies_per_role,
            "AttachedPoliciesPerUserQuota": q.attached_policies_per_user,
            "Policies": policies,
            "PoliciesQuota": q.policies,
            "PolicySizeQuota": q.policy_size,
            "PolicyVersionsInUse": versions_in_use,
            "PolicyVersionsInUseQuota": q.policy_versions_in_use,
            "VersionsPerPolicyQuota": q.versions_per_policy,
            "GlobalEndpointTokenVersion": 1,
            "AssumeRolePolicySizeQuota": q.assume_role_policy_size,
            "InstanceProfiles": 0,
            "InstanceProfilesQuota": q.instance_profiles,
            "Providers": 0,
            "RolePolicySizeQuota": q.role_policy_size,
            "Roles": roles,
            "RolesQuota": q.roles,
        }

    def aliases(self) -> list[str]:
        with self._tx.read() as repos:
            account = repos.account.get()
        return [account.alias] if account and account.alias else []

    def create_alias(self, alias: str) -> None:
        if _TWELVE_DIGITS.fullmatch(alias):
            raise ValidationError("Account alias cannot be a 12-digit number.")
        with self._tx.write() as repos:
            account = repos.account.get()
            if account is None:
                raise NoSuchEntity("The account cannot be found.")
            if account.alias == alias:
                return
            if account.alias is not None:
                raise LimitExceeded.quota("AccountAliasesPerAccount", 1)
            repos.account.set_alias(alias)

    def delete_alias(self, alias: str) -> None:
        with self._tx.write() as repos:
            account = repos.account.get()
            if account is None or account.alias != alias:
                raise NoSuchEntity(f"The account alias {alias} cannot be found.")
            repos.account.set_alias(None)

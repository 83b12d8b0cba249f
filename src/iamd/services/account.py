"""The account: its summary of counts and quotas, and its alias."""

from __future__ import annotations

import re
from dataclasses import dataclass

from iamd.errors import LimitExceeded, NoSuchEntity, ValidationError
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.store.sql.paging import page_of_sequence
from iamd.store.transactions import Transactions

_TWELVE_DIGITS = re.compile(r"\d{12}")


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """What the account holds, counted in one transaction, and its quotas."""

    users: int
    groups: int
    roles: int
    instance_profiles: int
    policies: int
    policy_versions_in_use: int
    mfa_devices: int
    mfa_devices_in_use: int
    server_certificates: int
    global_endpoint_token_version: int
    # Identity providers, OpenID Connect and SAML together (AWS's "Providers" key).
    providers: int
    quotas: Quotas


class AccountService:
    def __init__(self, tx: Transactions, quotas: Quotas) -> None:
        self._tx = tx
        self._quotas = quotas

    def summary(self) -> AccountSummary:
        with self._tx.read() as repos:
            return AccountSummary(
                users=repos.users.count(),
                groups=repos.groups.count(),
                roles=repos.roles.count(),
                instance_profiles=repos.instance_profiles.count(),
                policies=repos.policies.count_local(),
                policy_versions_in_use=repos.policies.count_versions_in_use(),
                mfa_devices=repos.mfa_devices.count(),
                mfa_devices_in_use=repos.mfa_devices.count_assigned(),
                server_certificates=repos.server_certificates.count(),
                global_endpoint_token_version=repos.account.global_endpoint_token_version(),
                providers=repos.oidc_providers.count() + repos.saml_providers.count(),
                quotas=self._quotas,
            )

    def set_global_endpoint_token_version(self, version: int) -> None:
        """SetSecurityTokenServicePreferences. iamd's STS has one endpoint whose tokens are
        valid everywhere it serves, so the setting is recorded and reported (the account
        summary), as AWS reports it, and changes no token."""
        if version not in (1, 2):
            raise ValueError(version)
        with self._tx.write() as repos:
            repos.account.set_global_endpoint_token_version(version)

    def list_aliases(self, marker: str | None, max_items: int) -> Page[str]:
        # At most one alias, but Marker and MaxItems are checked like any List operation's.
        with self._tx.read() as repos:
            account = repos.account.get()
        aliases = [account.alias] if account and account.alias else []
        return page_of_sequence(aliases, marker, max_items)

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

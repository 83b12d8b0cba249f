"""The seam between Organizations and the accounts themselves.

Organizations keeps membership (which organization, which parent); an account's own
record (id, name, email, status, creation date) and its IAM contents belong to the
accounts service. CreateAccount's background step reaches it only through
`AccountDirectory`, which the accounts service (`services/accounts.py`
`AccountsService`) implements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class DirectoryAccount(Protocol):
    """What Organizations reads of an account (DescribeAccount, ListAccounts)."""

    @property
    def account_id(self) -> str: ...

    # The management account has neither until an organization names it.
    @property
    def name(self) -> str | None: ...

    @property
    def email(self) -> str | None: ...

    @property
    def status(self) -> object: ...  # ACTIVE, SUSPENDED or PENDING_CLOSURE (str or StrEnum)

    @property
    def create_date(self) -> datetime: ...


class AccountDirectory(Protocol):
    def create(self, name: str, email: str) -> DirectoryAccount:
        """A new account with a new random 12-digit id; `errors.EmailAlreadyTaken` when
        another account has this email."""
        ...

    def lookup(self, account_id: str) -> DirectoryAccount | None: ...

    def by_email(self, email: str) -> DirectoryAccount | None:
        """The account with this email address, or None."""
        ...

    def set_status(self, account_id: str, status: str) -> object: ...

    def provision_access_role(
        self, account_id: str, role_name: str, trusted_account_id: str
    ) -> object:
        """In `account_id`, the role `role_name` with AdministratorAccess, trusting the
        account `trusted_account_id` (the organization's management account)."""
        ...

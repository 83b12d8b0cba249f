"""The accounts one iamd serves: creating, listing and suspending them, and the role
through which a new account is reached.

The bootstrap account (`--account-id`) is the first and is the management account; this
service makes the others (Organizations' CreateAccount calls it). Its API, which the
Organizations operations rely on:

- ``create(name, email) -> Account``: a new ACTIVE account with a random 12-digit id not
  in use; ``EmailAlreadyTaken`` when an account has the email (ignoring case).
- ``get(account_id) -> Account``: ``AccountNotFoundException`` when there is none.
- ``list() -> list[Account]``: every account, oldest first (the bootstrap account first).
- ``set_status(account_id, status) -> Account``: ACTIVE, SUSPENDED or PENDING_CLOSURE.
- ``provision_access_role(account_id, role_name, trusted_account_id) -> Role``: in the
  account, the role (path ``/``) whose trust policy lets ``arn:aws:iam::<trusted>:root``
  call sts:AssumeRole, with the AWS managed AdministratorAccess attached, as AWS makes
  OrganizationAccountAccessRole. Each step is its own transaction (the role, then the
  attachment), as two IAM calls would be.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Protocol

from iamd.clock import Clock
from iamd.errors import (
    AccountNotFoundException,
    EmailAlreadyTaken,
    EntityAlreadyExists,
    ValidationError,
)
from iamd.model import Account, Role
from iamd.model.owners import OwnerKind
from iamd.principals.credentials import account_is_open
from iamd.services.policies import PolicyService
from iamd.services.roles import RoleService
from iamd.store.transactions import Transactions

ACCOUNT_STATUSES = frozenset({"ACTIVE", "SUSPENDED", "PENDING_CLOSURE"})
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
_TWELVE_DIGITS = re.compile(r"\d{12}")


class AccountParts(Protocol):
    """What `provision_access_role` uses of an account's services."""

    @property
    def roles(self) -> RoleService: ...

    @property
    def policies(self) -> PolicyService: ...


def random_account_id() -> str:
    # AWS account ids are 12 digits and never start with 0 in practice.
    return str(secrets.randbelow(9 * 10**11) + 10**11)


class AccountsService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        services_of: Callable[[str], AccountParts],
        draw_account_id: Callable[[], str] = random_account_id,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._services_of = services_of
        self._draw = draw_account_id

    def create(self, name: str, email: str) -> Account:
        with self._tx.write() as repos:
            if repos.account.email_taken(email):
                raise EmailAlreadyTaken("An account with this email address already exists.")
            for _attempt in range(100):
                account_id = self._draw()
                if repos.account.get_account(account_id) is None:
                    break
            else:  # pragma: no cover - 100 collisions among 9e11 ids
                raise RuntimeError("no free account id")
            return repos.account.add_account(account_id, self._clock.now(), name, email)

    def get(self, account_id: str) -> Account:
        if not _TWELVE_DIGITS.fullmatch(account_id):
            raise AccountNotFoundException()
        with self._tx.read() as repos:
            found = repos.account.get_account(account_id)
        if found is None:
            raise AccountNotFoundException()
        return found

    def lookup(self, account_id: str) -> Account | None:
        """The account with this id, or None (Organizations' `AccountDirectory.lookup`)."""
        if not _TWELVE_DIGITS.fullmatch(account_id):
            return None
        with self._tx.read() as repos:
            return repos.account.get_account(account_id)

    def exists(self, account_id: str) -> bool:
        """Whether the account exists (any status); cheap enough for AssumeRole."""
        if not _TWELVE_DIGITS.fullmatch(account_id):
            return False
        with self._tx.read() as repos:
            return repos.account.get_account(account_id) is not None

    def is_open(self, account_id: str) -> bool:
        """Whether the account exists and is not closed (SUSPENDED): a closed account's
        roles cannot be assumed and its principals' credentials stop working."""
        if not _TWELVE_DIGITS.fullmatch(account_id):
            return False
        with self._tx.read() as repos:
            return account_is_open(repos, account_id)

    def find(self, id_or_alias: str) -> Account | None:
        """The account with this id, or this alias (aliases are lowercase), or None."""
        with self._tx.read() as repos:
            if _TWELVE_DIGITS.fullmatch(id_or_alias):
                return repos.account.get_account(id_or_alias)
            return repos.account.by_alias(id_or_alias.lower())

    def by_email(self, email: str) -> Account | None:
        """The account with this email (compared ignoring case), or None."""
        with self._tx.read() as repos:
            return repos.account.by_email(email)

    def list(self) -> list[Account]:
        with self._tx.read() as repos:
            return repos.account.all_accounts()

    def set_status(self, account_id: str, status: str) -> Account:
        if status not in ACCOUNT_STATUSES:
            raise ValidationError(f"Invalid account status: {status}")
        with self._tx.write() as repos:
            if not repos.account.set_status(account_id, status):
                raise AccountNotFoundException()
            found = repos.account.get_account(account_id)
        assert found is not None
        return found

    def provision_access_role(
        self, account_id: str, role_name: str, trusted_account_id: str
    ) -> Role:
        self.get(account_id)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{trusted_account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        parts = self._services_of(account_id)
        try:
            role = parts.roles.create(role_name, "/", json.dumps(trust))
        except EntityAlreadyExists:
            # A CreateAccount resumed after its node stopped: the role was made already.
            role = parts.roles.get(role_name)
        parts.policies.attach(OwnerKind.ROLE, role_name, ADMINISTRATOR_ACCESS)
        return role

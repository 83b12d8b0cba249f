"""PROVISIONAL `AccountDirectory` until the accounts service (issue 13 part A) exists.

It records each created account's id, name, email and status in `provisional_accounts`
and nothing else: no IAM entities exist in it, so `provision_access_role` records
nothing (the real accounts service creates the role). At the merge this module, its
repository and its table are replaced by `services/accounts.py` `AccountsService`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from iamd.clock import Clock
from iamd.errors import EmailAlreadyTaken
from iamd.store.transactions import NO_CREDENTIALS, Transactions


@dataclass(frozen=True, slots=True)
class ProvisionalAccount:
    account_id: str
    name: str
    email: str
    status: str
    create_date: datetime


class ProvisionalAccounts:
    def __init__(self, tx: Transactions, clock: Clock, bootstrap_account_id: str) -> None:
        self._tx = tx
        self._clock = clock
        self._bootstrap = bootstrap_account_id

    def create(self, name: str, email: str) -> ProvisionalAccount:
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            if repos.provisional_accounts.email_taken(email):
                raise EmailAlreadyTaken(f"An account with the email {email} already exists.")
            while True:
                account_id = f"{secrets.randbelow(10**12):012d}"
                if (
                    account_id != self._bootstrap
                    and repos.provisional_accounts.get(account_id) is None
                ):
                    break
            repos.provisional_accounts.add(account_id, name, email, now)
        return ProvisionalAccount(account_id, name, email, "ACTIVE", now)

    def get(self, account_id: str) -> ProvisionalAccount | None:
        with self._tx.read() as repos:
            row = repos.provisional_accounts.get(account_id)
            if row is None and account_id == self._bootstrap:
                stored = repos.account.get()
                if stored is None:
                    return None
                # The bootstrap account has no name or email of its own yet.
                return ProvisionalAccount(
                    account_id, stored.alias or account_id, "", "ACTIVE", stored.create_date
                )
        if row is None:
            return None
        return ProvisionalAccount(row.account_id, row.name, row.email, row.status, row.create_date)

    def set_status(self, account_id: str, status: str) -> None:
        with self._tx.write() as repos:
            repos.provisional_accounts.set_status(account_id, status)

    def provision_access_role(
        self, account_id: str, role_name: str, trusted_account_id: str
    ) -> None:
        # Nothing to record: IAM entities of other accounts come with the accounts service.
        return None

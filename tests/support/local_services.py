"""The real services on a real SQLite database, in-process, with a clock the test moves.

For what cannot be driven through a server in reasonable time (hours and days passing,
exact TOTP steps); everything else is tested through a real server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from iamd.auth.secret_box import SecretBox
from iamd.clock import Clock
from iamd.ids import RandomIds
from iamd.model.quotas import Quotas
from iamd.services.container import Services
from iamd.store.database import Database
from iamd.store.migrate import upgrade_to_head

ACCOUNT = "123456789012"


class MovableClock:
    def __init__(self, when: datetime | None = None) -> None:
        self.when = when or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.when


@contextmanager
def local_services(
    directory: Path,
    clock: Clock,
    *,
    database_url: str | None = None,
    quotas: Quotas | None = None,
) -> Iterator[Services]:
    """Services on a fresh database in `directory` (or at `database_url`), with the
    account row bootstrap makes."""
    database = Database(database_url or f"sqlite:///{directory / 'iamd.sqlite3'}")
    upgrade_to_head(database)
    services = Services.build(
        database=database,
        account_id=ACCOUNT,
        clock=clock,
        ids=RandomIds(),
        quotas=quotas or Quotas(),
        secret_box=SecretBox(os.urandom(32)),
        last_used_flush_seconds=3600,
    )
    with services.tx.write() as repos:
        repos.account.create(clock.now())
    try:
        yield services
    finally:
        database.dispose()

"""Cross-node cache invalidation: poll the change counter other nodes bump with each write.

Every node's writes bump the counter, this node's own among them; those already dropped
what they changed here when they committed (store/transactions.py). So the watcher
drops the caches only when the counter moved by more than this process's own commits:
under a steady stream of local writes, the caches are not emptied every poll."""

from __future__ import annotations

import logging
import threading

from iamd.errors import ServiceUnavailable
from iamd.services.container import Services
from iamd.store.sql import changes

log = logging.getLogger("iamd")


class ChangeWatcher:
    """Drops this node's caches when another node sharing the database writes."""

    def __init__(self, services: Services, interval: float) -> None:
        self._services = services
        self._interval = interval
        self._stop = threading.Event()
        # The counter less this process's own commits: the other writers' share.
        self._last = 0
        self._thread = threading.Thread(target=self._run, name="iamd-changes", daemon=True)

    def start(self) -> None:
        # Read the counter before this node caches anything: a first reading taken later
        # could already include a change made after a cache fill, and that change would
        # then never be noticed.
        self._last = self._others_writes()
        self._thread.start()

    def _others_writes(self) -> int:
        tx = self._services.tx
        # The connection first: the commits that wait while the counter is read may
        # hold every other connection of the pool. (The read's snapshot is taken by
        # its first statement, after the wait.)
        with tx.database.read() as conn:
            own, total = tx.own_commits_and(lambda: changes.total(conn))
        return total - own

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                counter = self._others_writes()
            except ServiceUnavailable:
                # Unknown whether another node wrote: drop the caches to stay correct
                # (the outage is logged once, by the database's health).
                self._services.tx.drop_caches()
                continue
            except Exception:
                log.exception("could not read the change signal")
                self._services.tx.drop_caches()
                continue
            if counter != self._last:
                self._services.tx.drop_caches()
            self._last = counter

"""Cross-node cache invalidation: poll the change counter other nodes bump with each write."""

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
        self._last = 0
        self._thread = threading.Thread(target=self._run, name="iamd-changes", daemon=True)

    def start(self) -> None:
        # Read the counter before this node caches anything: a first reading taken later
        # could already include a change made after a cache fill, and that change would
        # then never be noticed.
        self._last = self._read_counter()
        self._thread.start()

    def _read_counter(self) -> int:
        with self._services.tx.database.read() as conn:
            return changes.total(conn)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                counter = self._read_counter()
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

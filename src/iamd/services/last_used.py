"""Batched recording of when, where and for which service each access key was used.

Every authenticated request notes its key's use in memory; a background thread writes
the latest use of each key in one batch per interval, and `close()` writes what is left,
so nothing is lost at shutdown. Readers merge the pending uses in, so
GetAccessKeyLastUsed is exact even between flushes.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from iamd.store.database import Database
from iamd.store.sql.access_keys import AccessKeyRepository, LastUse

log = logging.getLogger(__name__)


class LastUsedRecorder:
    def __init__(self, database: Database, flush_seconds: float) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._pending: dict[str, LastUse] = {}
        self._swap_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, access_key_id: str, when: datetime, service: str, region: str) -> None:
        use = LastUse(access_key_id, when, service, region)
        with self._swap_lock:
            self._pending[access_key_id] = use

    def pending(self, access_key_id: str) -> LastUse | None:
        return self._pending.get(access_key_id)

    def flush(self) -> int:
        with self._flush_lock:
            with self._swap_lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                with self._database.write() as conn:
                    AccessKeyRepository(conn).record_last_uses(batch.values())
            except Exception:
                # Keep the uses for the next attempt; newer ones recorded meanwhile win.
                with self._swap_lock:
                    for key_id, use in batch.items():
                        self._pending.setdefault(key_id, use)
                raise
            return len(batch)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="iamd-last-used", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            try:
                self.flush()
            except Exception:
                log.exception("could not write access key last-used dates; will retry")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

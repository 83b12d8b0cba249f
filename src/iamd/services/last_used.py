"""Batched recording of when, where and for which service each access key was used,
and of when and where a session of each role last made a request.

Every authenticated request notes its key's use in memory (and, for a role session,
`record_role` its role's); a background thread writes the latest use of each in one
batch per interval, and `close()` writes what is left, so nothing is lost at shutdown.
Readers merge the pending uses in, so GetAccessKeyLastUsed and GetRole's RoleLastUsed
are exact even between flushes.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from iamd.errors import ServiceUnavailable
from iamd.store.database import Database
from iamd.store.sql.access_keys import AccessKeyRepository, LastUse
from iamd.store.sql.roles import RoleLastUse, record_role_last_uses

log = logging.getLogger(__name__)


class LastUsedRecorder:
    def __init__(self, database: Database, flush_seconds: float) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._pending: dict[str, LastUse] = {}
        self._pending_roles: dict[str, RoleLastUse] = {}
        self._swap_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, access_key_id: str, when: datetime, service: str, region: str) -> None:
        use = LastUse(access_key_id, when, service, region)
        with self._swap_lock:
            self._pending[access_key_id] = use

    def record_role(self, role_id: str, when: datetime, region: str) -> None:
        """A session of the role made a request (sts's request path calls this)."""
        use = RoleLastUse(role_id, when, region)
        with self._swap_lock:
            self._pending_roles[role_id] = use

    def pending(self, access_key_id: str) -> LastUse | None:
        return self._pending.get(access_key_id)

    def pending_role(self, role_id: str) -> RoleLastUse | None:
        return self._pending_roles.get(role_id)

    def flush(self) -> int:
        with self._flush_lock:
            with self._swap_lock:
                batch, self._pending = self._pending, {}
                roles, self._pending_roles = self._pending_roles, {}
            if not batch and not roles:
                return 0
            try:
                with self._database.write() as conn:
                    AccessKeyRepository(conn).record_last_uses(batch.values())
                    record_role_last_uses(conn, roles.values())
            except Exception:
                # Keep the uses for the next attempt; newer ones recorded meanwhile win.
                with self._swap_lock:
                    for key_id, use in batch.items():
                        self._pending.setdefault(key_id, use)
                    for role_id, role_use in roles.items():
                        self._pending_roles.setdefault(role_id, role_use)
                raise
            return len(batch) + len(roles)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="iamd-last-used", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            try:
                self.flush()
            except ServiceUnavailable:
                pass  # the database is away (logged once by it); kept for the next try
            except Exception:
                log.exception("could not write access key last-used dates; will retry")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

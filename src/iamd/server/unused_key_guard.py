"""The optional server-side guard: deactivate access keys unused for N days.

Off by default (`iamd serve --deactivate-unused-keys-after DAYS`). A background thread
sweeps at start-up and then every `interval`: pending last-used dates are written first,
so a key in use is never taken for an idle one, then every Active key whose last use (or
creation, when never used) is older than the limit is set Inactive, each in its own
transaction that checks the condition again, and each change is logged like any other.
Every node may run it; the conditional update makes concurrent sweeps harmless.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from iamd.clock import Clock
from iamd.errors import ServiceUnavailable
from iamd.services.last_used import LastUsedRecorder
from iamd.store.transactions import Transactions

log = logging.getLogger(__name__)


class UnusedKeyGuard:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        last_used: LastUsedRecorder,
        unused_for: timedelta,
        interval: timedelta,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._last_used = last_used
        self._unused_for = unused_for
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> list[str]:
        """Deactivate what is due now; the ids of the keys set Inactive."""
        self._last_used.flush()
        cutoff = self._clock.now() - self._unused_for
        with self._tx.read() as repos:
            candidates = repos.access_keys.active_unused_since(cutoff)
        deactivated = []
        for key in candidates:
            if self._last_used.pending(key.access_key_id) is not None:
                continue  # used since the flush above
            with self._tx.write(credentials=frozenset({key.access_key_id})) as repos:
                changed = repos.access_keys.deactivate_if_unused_since(key.access_key_id, cutoff)
            if not changed:
                continue
            deactivated.append(key.access_key_id)
            last = (
                f"last used {key.last_used_date.isoformat(timespec='seconds')}"
                if key.last_used_date
                else "never used"
            )
            log.warning(
                "unused-key guard: set access key %s of user %s Inactive (%s, created %s; "
                "limit %d days)",
                key.access_key_id,
                key.user_name,
                last,
                key.create_date.isoformat(timespec="seconds"),
                self._unused_for.days,
            )
        return deactivated

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="iamd-unused-key-guard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            try:
                self.sweep()
            except ServiceUnavailable:
                pass  # the database is away (logged once by it); the next sweep retries
            except Exception:
                log.exception("unused-key guard: the sweep failed; will retry")
            if self._stop.wait(self._interval.total_seconds()):
                return

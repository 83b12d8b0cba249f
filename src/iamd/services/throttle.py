"""Slowing down repeated password failures: exponential back-off, and its bookkeeping.

After `free_attempts` consecutive failures, each further attempt must wait
`base_seconds * 2**(failures - free_attempts)` (at most `max_seconds`) after the last
failure. An attempt inside that window is refused without checking the password, so a
guesser gets no answer at all, however fast it asks. A success resets the count.

Failures of users that exist are counted in their login profile (so every node sees
them); failures for names that do not exist, or have no password, are counted here, in
memory, so that both look the same from outside: no user enumeration by throttling.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Backoff:
    free_attempts: int = 3
    base_seconds: float = 1.0
    max_seconds: float = 900.0

    def delay(self, failures: int) -> timedelta:
        if failures < self.free_attempts:
            return timedelta(0)
        seconds = self.base_seconds * 2 ** min(failures - self.free_attempts, 32)
        return timedelta(seconds=min(seconds, self.max_seconds))

    def retry_at(self, failures: int, last_failure: datetime | None) -> datetime | None:
        """When the next attempt is allowed, or None when it is allowed now (any time)."""
        if last_failure is None or failures < self.free_attempts:
            return None
        return last_failure + self.delay(failures)

    def waiting(self, failures: int, last_failure: datetime | None, now: datetime) -> bool:
        retry = self.retry_at(failures, last_failure)
        return retry is not None and now < retry


class UnknownNameFailures:
    """Failure counts of names without a password, bounded (oldest forgotten first)."""

    def __init__(self, max_names: int = 10_000) -> None:
        self._max = max_names
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, tuple[int, datetime]] = OrderedDict()

    def get(self, name: str) -> tuple[int, datetime | None]:
        with self._lock:
            found = self._failures.get(name.lower())
        return (0, None) if found is None else found

    def record(self, name: str, when: datetime) -> None:
        key = name.lower()
        with self._lock:
            count = self._failures.pop(key, (0, when))[0]
            self._failures[key] = (count + 1, when)
            while len(self._failures) > self._max:
                self._failures.popitem(last=False)

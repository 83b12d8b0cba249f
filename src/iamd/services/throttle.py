"""Slowing down repeated password failures: exponential back-off, and its bookkeeping.

After `free_attempts` consecutive failures, each further attempt must wait
`base_seconds * 2**(failures - free_attempts)` (at most `max_seconds`) after the last
failure. An attempt inside that window is refused without checking the password, so a
guesser gets no answer at all, however fast it asks. A correct password resets the count.

Every name is counted the same way, whether a user of that name exists or not, has a
password or not: one bounded table in memory (`FailureLedger`), keyed by a keyed hash
of the account and the lower-cased name (bob's failures in one account never slow down
bob of another), so neither the answers nor their timing, nor what the table
forgets when it is full, tell whether a user exists. The table holds no names (a
password typed into the name field stays nowhere), and it is per node and per process:
a restart forgets it, and each node of a cluster counts on its own.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Names tracked at once (about 180 bytes each, so about 9 MB when full).
DEFAULT_MAX_NAMES = 50_000
# A count and a time packed into one int: the low bits are milliseconds since the epoch.
_TIME_BITS = 44
_TIME_MASK = (1 << _TIME_BITS) - 1
_MAX_COUNT = 1 << 16


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


class FailureLedger:
    """Password failures per name, bounded, alike for names that exist and names that don't.

    `admit` is the one entry point of an attempt: it either refuses it (the name is inside
    its back-off window) or counts it as a failure before the password is checked, under
    one lock, so attempts racing on several threads cannot share one window. A correct
    password then calls `forgive`.

    When more than `max_names` names are tracked, one is forgotten, never the name just
    counted: the least recently failed among those still within their free attempts, or,
    when there is none, the least recently failed of those already backing off. A flood
    of one-off names therefore never resets the back-off of a name being guessed: pushing
    one out takes `max_names` other names failed `free_attempts` times each first.
    """

    def __init__(
        self, backoff: Backoff, *, max_names: int = DEFAULT_MAX_NAMES, key: bytes | None = None
    ) -> None:
        self.backoff = backoff
        self._max = max(1, max_names)
        # Random per process: nobody can pick names that share a slot.
        self._key = key if key is not None else secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._free: OrderedDict[bytes, int] = OrderedDict()
        self._backing_off: OrderedDict[bytes, int] = OrderedDict()

    def admit(self, account: str, name: str, now: datetime) -> datetime | None:
        """None and the attempt is counted, or the time the name may try again."""
        slot = self._slot(account, name)
        with self._lock:
            packed = self._free.pop(slot, None)
            if packed is None:
                packed = self._backing_off.pop(slot, 0)
            failures, last = _unpack(packed)
            retry = self.backoff.retry_at(failures, last)
            if retry is not None and now < retry:
                # Refused: the entry goes back where it was, untouched.
                self._home(failures)[slot] = packed
                return retry
            failures = min(failures + 1, _MAX_COUNT)
            home = self._home(failures)
            home[slot] = _pack(failures, now)
            self._evict(keep=home)
        return None

    def forgive(self, account: str, name: str) -> None:
        """The right password: the name's failures are forgotten."""
        slot = self._slot(account, name)
        with self._lock:
            self._free.pop(slot, None)
            self._backing_off.pop(slot, None)

    def waiting(self, account: str, name: str, now: datetime) -> bool:
        """Whether the name is inside its back-off window (counts nothing)."""
        slot = self._slot(account, name)
        with self._lock:
            packed = self._free.get(slot)
            if packed is None:
                packed = self._backing_off.get(slot, 0)
        retry = self.backoff.retry_at(*_unpack(packed))
        return retry is not None and now < retry

    def __len__(self) -> int:
        with self._lock:
            return len(self._free) + len(self._backing_off)

    def _slot(self, account: str, name: str) -> bytes:
        # IAM user names are unique ignoring case, so "Alice" and "alice" share a count.
        # The NUL cannot be in an account id or alias: no two pairs share a slot.
        scoped = f"{account.lower()}\0{name.lower()}"
        return hashlib.blake2b(
            scoped.encode("utf-8", "surrogatepass"), key=self._key, digest_size=16
        ).digest()

    def _home(self, failures: int) -> OrderedDict[bytes, int]:
        return self._free if failures < self.backoff.free_attempts else self._backing_off

    def _evict(self, *, keep: OrderedDict[bytes, int]) -> None:
        # The name just counted is the newest entry of `keep`; it is never the one
        # forgotten, or a name arriving at a full table would never be counted at all.
        while len(self._free) + len(self._backing_off) > self._max:
            spare_free = len(self._free) - (1 if keep is self._free else 0)
            (self._free if spare_free > 0 else self._backing_off).popitem(last=False)


def _pack(failures: int, when: datetime) -> int:
    millis = int(when.timestamp() * 1000) & _TIME_MASK
    return (failures << _TIME_BITS) | millis


def _unpack(packed: int) -> tuple[int, datetime | None]:
    failures = packed >> _TIME_BITS
    if failures == 0:
        return 0, None
    return failures, datetime.fromtimestamp((packed & _TIME_MASK) / 1000, UTC)

"""Logging unexpected exceptions without letting a client flood the log.

The traceback is logged the first time each distinct failure happens (exception type and
the line that raised it); repeats are counted and told at most once a minute, without
traceback, with the request id of the latest. A client that found a bug can then repeat
it as often as it likes: the log grows by one line a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

#: Distinct failures whose traceback is logged; beyond, failures are only counted.
MAX_FAILURE_KINDS = 256
#: Seconds between two reports of the same failure repeating.
REPORT_INTERVAL = 60.0
_OTHER = ("other failures", "", 0)


class FailureLog:
    """Logs unexpected exceptions: one traceback per distinct failure, then counts."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = REPORT_INTERVAL,
        max_kinds: int = MAX_FAILURE_KINDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._interval = interval
        self._max_kinds = max_kinds
        self._clock = clock
        self._lock = threading.Lock()
        # failure -> [repeats not yet reported, when last reported]
        self._seen: dict[tuple[str, str, int], list[float]] = {}

    def exception(self, exc: BaseException, message: str, *args: object) -> None:
        """Log `message % args` for `exc`: with its traceback if it is a new failure."""
        key = _failure_key(exc)
        now = self._clock()
        with self._lock:
            if key not in self._seen and len(self._seen) >= self._max_kinds:
                key = _OTHER
            entry = self._seen.get(key)
            if entry is None:
                self._seen[key] = [0, now]
                repeats = 0
            else:
                entry[0] += 1
                if now - entry[1] < self._interval:
                    return
                repeats, entry[0], entry[1] = int(entry[0]), 0, now
        if repeats == 0 and key is not _OTHER:
            self._log.error(message + " (logged once; repeats are counted)", *args, exc_info=exc)
        else:
            self._log.error(
                message + ": %s, %d times since it was last logged",
                *args,
                _describe(key),
                max(repeats, 1),
            )


def _failure_key(exc: BaseException) -> tuple[str, str, int]:
    tb = exc.__traceback__
    if tb is None:
        return (type(exc).__qualname__, "", 0)
    while tb.tb_next is not None:
        tb = tb.tb_next
    return (type(exc).__qualname__, tb.tb_frame.f_code.co_filename, tb.tb_lineno)


def _describe(key: tuple[str, str, int]) -> str:
    name, filename, line = key
    return f"{name} at {filename}:{line}" if filename else name

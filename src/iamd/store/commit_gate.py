"""This process's committed change-counter bumps, countable as one pair with the counter.

A commit holds the gate open (shared) from before its COMMIT until it is counted, and
the change watcher closes it (alone) while it reads both, so no bump is ever in the
counter and not yet counted, or the reverse (server/change_watcher.py subtracts this
process's own writes from the counter's moves)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class CommitGate:
    __slots__ = ("_active", "_closed", "_turn", "committed")

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._active = 0
        self._closed = False
        self.committed = 0

    def enter(self) -> None:
        """Just before a COMMIT that carries signalled writes."""
        with self._turn:
            while self._closed:
                self._turn.wait()
            self._active += 1

    def leave(self, committed: int) -> None:
        """After it: `committed` signalled writes it made durable (0 when it failed)."""
        with self._turn:
            self._active -= 1
            self.committed += committed
            if self._active == 0:
                self._turn.notify_all()

    def read(self, counter: Callable[[], int]) -> tuple[int, int]:
        """(own commits, `counter()`), with no commit between the two. `counter` must
        not wait for a writer (the caller holds its connection already): commits wait
        here until it returns."""
        with self._turn:
            self._closed = True
            while self._active:
                self._turn.wait()
            committed = self.committed
        try:
            return committed, counter()
        finally:
            with self._turn:
                self._closed = False
                self._turn.notify_all()

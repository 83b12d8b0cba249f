"""Clocks: services take one so that time is injected, never read from a global."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetFileClock:
    """The system clock moved by the number of seconds written in a file (tests only).

    End-to-end tests of session expiry must move the server's time while the server
    runs. The file is read again whenever it changes; a missing or unreadable file
    means no offset. The server uses this clock only when started with the hidden
    ``--test-clock-file`` option, and says so loudly in its log.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._current_offset()

    def _current_offset(self) -> timedelta:
        try:
            stat = os.stat(self._path)
        except OSError:
            return timedelta()
        signature = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if signature != self._seen:
                try:
                    self._offset = timedelta(seconds=float(self._path.read_text().strip() or 0))
                except (OSError, ValueError):
                    self._offset = timedelta()
                self._seen = signature
            return self._offset

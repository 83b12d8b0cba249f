"""Moving a test server's clock: the file behind `iamd serve --test-clock-file`."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

_stamps = itertools.count(1)


class ServerClock:
    """The offset, in seconds, between the server's clock and the real one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0.0

    def set_offset(self, seconds: float) -> None:
        self.path.write_text(f"{seconds}\n")
        # The server re-reads the file when its mtime or size changes; give every write
        # a distinct mtime so two quick writes of the same length are both noticed.
        stamp = time.time_ns() + next(_stamps) * 1_000_000
        os.utime(self.path, ns=(stamp, stamp))
        self.offset = seconds

    def server_time(self) -> float:
        return time.time() + self.offset

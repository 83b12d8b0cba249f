"""A command run in the background whose output is read line by line as it comes (the
login commands print a URL, then wait for the browser)."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
from collections.abc import Sequence


class LiveCommand:
    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line from now on that matches `pattern`."""
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self._process.kill()
                raise AssertionError(f"no {pattern!r} in {''.join(self.output)!r}") from None
            self.output.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """The exit code and all the output."""
        try:
            code = self._process.wait(timeout=timeout)
        finally:
            self._process.kill()
        while not self._lines.empty():
            self.output.append(self._lines.get())
        return code, "".join(self.output)

"""The access log: one line per API request, written in batches.

Each line says when, the request id, the client address, the operation, the calling
principal, the HTTP status, the error code and the latency — never a parameter, a
header or a secret. git over SSH sessions get the same columns (action, exit status,
outcome) followed by the repository and the SSH key id.

Formatting a record through `logging` and writing it with a system call per request
cost a fifth of a cached request's time; here a request only appends a line, and a
background thread writes what accumulated every 200 ms (and at close).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class AccessLog:
    def __init__(self, stream: TextIO | None = None, interval: float = 0.2) -> None:
        self._stream = stream or sys.stderr
        self._interval = interval
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="iamd-access-log", daemon=True)
        self._second = -1
        self._stamp = ""

    def record(
        self,
        request_id: str,
        client_ip: str,
        operation: str,
        principal: str,
        status: int,
        error_code: str,
        elapsed_ms: float,
    ) -> None:
        self._append(
            f"{request_id} {client_ip} {operation} {principal} {status} {error_code} "
            f"{elapsed_ms:.1f}ms"
        )

    def record_git_session(
        self,
        session_id: str,
        client_ip: str,
        action: str,
        principal: str,
        exit_status: int,
        outcome: str,
        elapsed_ms: float,
        *,
        repository: str,
        ssh_public_key_id: str,
    ) -> None:
        """A git over SSH session: the same columns (the exit status for the HTTP one),
        then the repository and the SSH key id."""
        self._append(
            f"{session_id} {client_ip} {action} {principal} {exit_status} {outcome} "
            f"{elapsed_ms:.1f}ms repository={repository} key={ssh_public_key_id}"
        )

    def _append(self, fields: str) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            # The timestamp prefix changes once a second; format it once.
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
            self._second = second
        millis = int((now - second) * 1000)
        line = f"{self._stamp},{millis:03d} INFO iamd.access {fields}\n"
        with self._lock:
            self._lines.append(line)

    def start(self) -> None:
        self._thread.start()

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            self._stream.write("".join(lines))
            self._stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.flush()

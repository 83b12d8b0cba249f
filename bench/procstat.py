"""Resident memory and CPU time of a process tree, read from /proc (Linux only)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="latin-1") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (servers may fork workers)."""
    children = _children_map()
    found = [pid]
    i = 0
    while i < len(found):
        found.extend(children.get(found[i], []))
        i += 1
    return found


def status_kib(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM...), 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="latin-1") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def tree_kib(pid: int, field: str) -> int:
    return sum(status_kib(p, field) for p in tree(pid))


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its live descendants (and of their reaped children)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat", encoding="latin-1") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        # utime, stime, cutime, cstime are fields 14-17 of stat(5); fields[] starts at field 3.
        total += sum(int(f) for f in fields[11:15])
    return total / _TICKS


class RssSampler:
    """Polls the VmRSS of several process trees in a background thread and keeps peaks."""

    def __init__(self, pids: Callable[[], dict[str, int]], interval: float = 0.25) -> None:
        self._pids = pids
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.peak_kib: dict[str, int] = {}
        self.window_peak_kib: dict[str, int] = {}
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def reset_window(self) -> None:
        with self._lock:
            self.window_peak_kib = {}

    def sample(self) -> dict[str, int]:
        current = {name: tree_kib(pid, "VmRSS") for name, pid in self._pids().items()}
        with self._lock:
            for name, kib in current.items():
                self.peak_kib[name] = max(self.peak_kib.get(name, 0), kib)
                self.window_peak_kib[name] = max(self.window_peak_kib.get(name, 0), kib)
        return current

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()


def wait_idle(
    pid: int, *, max_cores: float = 0.1, interval: float = 0.25, timeout: float = 30.0
) -> float:
    """Wait until the process tree uses less than ``max_cores`` of CPU over ``interval``.

    wrk drops its connections when its time is up, but a server may still be working on the
    requests that were in flight (moto's threads finish them); measuring before that backlog
    is gone would charge it to the next test. Returns the seconds waited (bounded by timeout).
    """
    started = time.monotonic()
    before = cpu_seconds(pid)
    while time.monotonic() - started < timeout:
        time.sleep(interval)
        after = cpu_seconds(pid)
        if (after - before) / interval < max_cores:
            break
        before = after
    return time.monotonic() - started

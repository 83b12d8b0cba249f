"""`iamd serve --workers N`: one supervisor process, N forked workers on one port.

The supervisor binds the ports (`server/listeners.py`) with SO_REUSEPORT and keeps
those sockets bound but never listening: they prove the ports free at start and hold
them. Each worker binds and listens on a socket of its own on the same ports, and the
kernel spreads new connections over the workers' sockets (docs/deployment.md, "Several
workers", says why not one inherited listening socket: asyncio accepts a burst of
connections in one worker). Worker 0 starts first and alone: it migrates the database,
bootstraps the account and creates the SSH host key, so no two workers ever do that at
once, and a configuration problem is told once. The others start when it is ready.

The supervisor then only watches: a worker that dies is started again under the same
index, after a back-off that doubles (0.5 s up to 30 s) while it keeps dying before it
is ready; after `_START_CRASHES` such deaths in a row the supervisor stops every worker
and exits 1, and a worker that exits 2 (a configuration problem) before any worker was
ever ready stops it at once with status 2. SIGTERM or SIGINT is passed to every
worker, which drains as a single process does; a worker that is still running after
the grace period is killed.

The supervisor holds no database connection, no thread and no cache: it forks before
any of them exist, so the workers start from a clean process.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("iamd")

# A worker that dies this many times in a row before it is ready stops the server.
_START_CRASHES = 5
_FIRST_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 30.0
# Exit status of a worker that could not start for a configuration problem (as `serve`).
CONFIGURATION_STATUS = 2
_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    """Which worker this process is: the background jobs run in worker 0 only."""

    index: int
    count: int

    @property
    def primary(self) -> bool:
        return self.index == 0


#: Runs one worker in the forked child: its identity, and a function to call once it
#: serves (its readiness). Returns the child's exit status.
WorkerMain = Callable[[WorkerIdentity, Callable[[], None]], int]


class WorkersFailed(Exception):
    """The workers could not be kept running; `status` is the exit status to use."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Slot:
    index: int
    pid: int = 0
    ready_fd: int = -1
    ready: bool = False
    crashes: int = 0
    restart_at: float | None = None


class Supervisor:
    def __init__(self, count: int, main: WorkerMain, grace_seconds: float) -> None:
        self._count = count
        self._main = main
        self._grace = grace_seconds
        self._slots = [_Slot(index) for index in range(count)]
        # Whether any worker has been ready yet.
        self._served = False

    def run(self) -> None:
        """Until SIGTERM/SIGINT (return) or workers that cannot be kept up (WorkersFailed)."""
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            self._spawn(self._slots[0])
            self._watch()
        finally:
            self._stop_all()
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def _watch(self) -> None:
        announced = first_ready = False
        while True:
            waiting = {s.ready_fd: s for s in self._slots if s.ready_fd >= 0}
            readable, _, _ = select.select(list(waiting), [], [], 0.2)
            for fd in readable:
                self._note_ready(waiting[fd])
            while (caught := signal.sigtimedwait(_SIGNALS, 0)) is not None:
                if caught.si_signo != signal.SIGCHLD:
                    log.info("stopping %d workers", self._count)
                    return
            self._reap()
            # The others start once worker 0 has migrated and bootstrapped (once ready).
            first_ready = first_ready or self._slots[0].ready
            now = time.monotonic()
            for slot in self._slots:
                due = slot.restart_at is None or slot.restart_at <= now
                if slot.pid == 0 and due and (first_ready or slot.index == 0):
                    self._spawn(slot)
            if not announced and all(s.ready for s in self._slots):
                announced = True
                log.info("%d workers serving (pids %s)", self._count, self._pids())

    def _pids(self) -> str:
        return ", ".join(str(s.pid) for s in self._slots)

    def _note_ready(self, slot: _Slot) -> None:
        data = os.read(slot.ready_fd, 1)
        if data:
            slot.ready = True
            slot.crashes = 0
            self._served = True
        # At EOF the worker died before it was ready: `_reap` tells why.
        os.close(slot.ready_fd)
        slot.ready_fd = -1

    def _reap(self) -> None:
        # By pid, never waitpid(-1): the process may have other children to keep.
        for slot in self._slots:
            if slot.pid == 0:
                continue
            try:
                pid, status = os.waitpid(slot.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = slot.pid, 0
            if pid == slot.pid:
                self._died(slot, os.waitstatus_to_exitcode(status))

    def _died(self, slot: _Slot, code: int) -> None:
        if slot.ready_fd >= 0:
            # Its readiness may be in the pipe still, written just before it died (the
            # read cannot block: the only write end died with it).
            self._note_ready(slot)
        how = f"signal {-code}" if code < 0 else f"status {code}"
        was_ready, slot.pid, slot.ready = slot.ready, 0, False
        # At the first start a configuration problem ends it (status 2: systemd does not
        # restart it); later the same failure (say a database restarting while a worker
        # is replaced) is a start crash like any other, retried, then status 1.
        if code == CONFIGURATION_STATUS and not was_ready and not self._served:
            raise WorkersFailed(
                f"worker {slot.index} could not start (its message is above)",
                CONFIGURATION_STATUS,
            )
        if not was_ready:
            slot.crashes += 1
            if slot.crashes >= _START_CRASHES:
                raise WorkersFailed(
                    f"worker {slot.index} died {slot.crashes} times in a row before it "
                    f"was ready (last: {how}); stopping",
                    1,
                )
        delay = min(_FIRST_BACKOFF_SECONDS * 2 ** max(slot.crashes - 1, 0), _MAX_BACKOFF_SECONDS)
        slot.restart_at = time.monotonic() + delay
        log.warning("worker %d died (%s); starting it again in %.1f s", slot.index, how, delay)

    def _spawn(self, slot: _Slot) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read_fd)
            self._become_worker(slot.index, write_fd)
        os.close(write_fd)
        slot.pid, slot.ready_fd, slot.ready = pid, read_fd, False
        slot.restart_at = None

    def _become_worker(self, index: int, ready_fd: int) -> None:
        """The child's side of the fork; never returns."""
        status = 1
        try:
            for other in self._slots:
                if other.ready_fd >= 0:
                    os.close(other.ready_fd)
            # Default actions first: a SIGTERM already pending when the mask is lifted
            # then ends the worker, as it would have before it served.
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            _die_with_parent()

            def ready() -> None:
                try:
                    os.write(ready_fd, b"1")
                finally:
                    os.close(ready_fd)

            status = self._main(WorkerIdentity(index, self._count), ready)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log.exception("worker %d failed", index)
        finally:
            logging.shutdown()
            os._exit(status)

    def _stop_all(self) -> None:
        running = [s for s in self._slots if s.pid]
        for slot in running:
            _signal(slot.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._grace
        while running and time.monotonic() < deadline:
            running = [s for s in running if not _exited(s.pid)]
            if running:
                time.sleep(0.05)
        for slot in running:
            log.warning("worker %d did not stop in %.0f s: killed", slot.index, self._grace)
            _signal(slot.pid, signal.SIGKILL)
            os.waitpid(slot.pid, 0)
        for slot in self._slots:
            slot.pid = 0


def _exited(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _die_with_parent() -> None:
    """A supervisor killed with SIGKILL takes its workers with it (Linux's PDEATHSIG)."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: the workers outlive a killed supervisor
    if os.getppid() != parent:  # it died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def worker_count(value: str, cores: int | None = None) -> int:
    """`--workers`: a number of at least 1, or `auto` (the cores this process may use)."""
    if value.strip().lower() == "auto":
        if cores is not None:
            return max(1, cores)
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"--workers must be a number or 'auto', not {value!r}") from None
    if not 1 <= count <= 256:
        raise ValueError("--workers must be between 1 and 256 (or 'auto')")
    return count

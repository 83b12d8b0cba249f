"""A small asyncio HTTP/1.1 keep-alive load generator for loopback benchmarks.

It replays pre-built raw requests over N persistent connections for a fixed time and records the
latency of every response (from the first byte written to the last byte read). It is the fallback
when ``wrk`` is not available, and it also drives what cannot be pre-signed: CreateAccessKey +
DeleteAccessKey pairs (the delete needs the new key's id), bulk seeding, and scripted sessions
(one script per connection choosing each request from the previous answers: the mixed load and
the fault cases of bench/cluster.py).

Only the loopback interface is allowed as a target.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

_ACCESS_KEY_ID = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
_STREAM_LIMIT = 16 * 1024 * 1024


def require_loopback(host: str) -> None:
    """Refuse any target that is not on this machine's loopback interface."""
    if host == "localhost":
        return
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"refusing to send load to non-loopback address {host!r}")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop when it is installed (it is, with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


@dataclasses.dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


class HttpError(Exception):
    pass


class Connection:
    """One persistent HTTP/1.1 connection; requests are sent one at a time."""

    def __init__(self, host: str, port: int) -> None:
        require_loopback(host)
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=_STREAM_LIMIT
            )
        return self._reader, self._writer

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def request(self, raw: bytes) -> Response:
        reader, writer = await self._connect()
        try:
            writer.write(raw)
            response = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError):
            await self.close()
            raise
        if not response.keep_alive:
            await self.close()
        return response


async def _read_response(reader: asyncio.StreamReader) -> Response:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise HttpError(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            chunks.append((await reader.readexactly(size + 2))[:-2])
        body = b"".join(chunks)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await reader.read()
        headers["connection"] = "close"
    return Response(status, headers, body)


# --- statistics ---------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(pct / 100.0 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclasses.dataclass
class LoadResult:
    """What one measured window produced; latencies are in milliseconds."""

    duration_s: float
    latencies_ms: list[float] = dataclasses.field(default_factory=list)
    statuses: Counter[int] = dataclasses.field(default_factory=Counter)
    errors: int = 0  # transport errors (connection reset, malformed response...)
    bad_responses: int = 0  # 2xx but not the expected body (pairs: no AccessKeyId)
    units: int = 0  # completed units of work: requests, or create+delete pairs

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        non_2xx = sum(n for s, n in self.statuses.items() if not 200 <= s < 300)
        return {
            "units": self.units,
            "requests": len(lat),
            "duration_s": round(self.duration_s, 3),
            "rate": round(self.units / self.duration_s, 1) if self.duration_s else 0.0,
            "p50_ms": round(percentile(lat, 50), 3),
            "p90_ms": round(percentile(lat, 90), 3),
            "p99_ms": round(percentile(lat, 99), 3),
            "max_ms": round(lat[-1], 3) if lat else 0.0,
            "mean_ms": round(sum(lat) / len(lat), 3) if lat else 0.0,
            "non_2xx": non_2xx,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "transport_errors": self.errors,
            "bad_responses": self.bad_responses,
        }


# --- replay of pre-signed requests -------------------------------------------------------------


async def replay(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int,
    duration: float,
    warmup: float,
) -> LoadResult:
    """Send ``requests`` round-robin over ``connections`` keep-alive connections.

    The first ``warmup`` seconds are not recorded. A response counts when its request was sent
    after the warm-up and it was complete before the window closed; when the window closes the
    workers are cancelled (like wrk, in-flight requests are dropped, not waited for).
    Each connection starts at a different offset in the pool.
    """
    if not requests:
        raise ValueError("no requests to replay")
    conns = [Connection(host, port) for _ in range(connections)]
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    result = LoadResult(duration_s=duration)
    n = len(requests)

    async def worker(index: int) -> None:
        conn = conns[index]
        i = (index * max(1, n // connections)) % n
        clock = time.perf_counter
        record = result.latencies_ms.append
        statuses = result.statuses
        while True:
            t0 = clock()
            try:
                response = await conn.request(requests[i])
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError):
                if t0 >= measure_from and clock() <= stop_at:
                    result.errors += 1
                await asyncio.sleep(0.01)
                continue
            t1 = clock()
            i = i + 1 if i + 1 < n else 0
            if t0 >= measure_from and t1 <= stop_at:
                record((t1 - t0) * 1000.0)
                statuses[response.status] += 1

    tasks = [asyncio.create_task(worker(k)) for k in range(connections)]
    try:
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        for task in tasks:
            if task.done():
                task.result()  # a worker can only end by raising: surface it
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in conns:
            await conn.close()
    result.units = len(result.latencies_ms)
    return result


# --- CreateAccessKey + DeleteAccessKey pairs ---------------------------------------------------


async def key_pairs(
    host: str,
    port: int,
    create_requests: Sequence[bytes],
    sign_delete: Callable[[int, str], bytes],
    *,
    duration: float,
    warmup: float,
) -> LoadResult:
    """Worker ``k`` owns one user: it replays ``create_requests[k]`` (a pre-signed
    CreateAccessKey for that user), reads the new key id, signs a DeleteAccessKey for it with
    ``sign_delete(k, key_id)`` and sends it, sequentially. A unit is one successful pair; its
    latency is create-sent to delete-answered, and it counts when it ended inside the window.
    A worker always finishes the pair it started (so no key is left behind), and each user stays
    below IAM's two-keys-per-user limit.
    """
    conns = [Connection(host, port) for _ in create_requests]
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    result = LoadResult(duration_s=duration)
    consecutive_failures = 0

    async def worker(index: int) -> None:
        nonlocal consecutive_failures
        conn = conns[index]
        clock = time.perf_counter
        while True:
            t0 = clock()
            if t0 >= stop_at:
                return
            measured = t0 >= measure_from
            try:
                created = await conn.request(create_requests[index])
                if measured:
                    result.statuses[created.status] += 1
                match = _ACCESS_KEY_ID.search(created.body)
                if created.status != 200 or match is None:
                    if measured:
                        result.bad_responses += 1
                    consecutive_failures += 1
                    if consecutive_failures > 200:
                        why = f"{created.status} {created.body[:300]!r}"
                        raise HttpError(f"CreateAccessKey keeps failing: {why}")
                    await asyncio.sleep(0.01)
                    continue
                deleted = await conn.request(sign_delete(index, match.group(1).decode()))
                if measured:
                    result.statuses[deleted.status] += 1
                if deleted.status != 200:
                    if measured:
                        result.bad_responses += 1
                    consecutive_failures += 1
                    continue
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                if measured:
                    result.errors += 1
                await asyncio.sleep(0.01)
                continue
            consecutive_failures = 0
            t1 = clock()
            if measured and t1 <= stop_at:
                result.latencies_ms.append((t1 - t0) * 1000.0)

    try:
        await asyncio.gather(*(worker(k) for k in range(len(conns))))
    finally:
        for conn in conns:
            await conn.close()
    result.units = len(result.latencies_ms)
    return result


# --- scripted sessions (mixed load, fault cases) ------------------------------------------------


class Script(Protocol):
    """What one connection sends: the next request, and what became of it.

    ``next_request`` returns a label (the operation, for the per-label figures) and the raw
    request; exactly one of ``answered`` or ``failed`` follows. ``answered`` says whether the
    answer was the one expected (a 2xx with the right body, or whatever the script accepts).
    """

    def next_request(self) -> tuple[str, bytes]: ...

    def answered(self, label: str, response: Response) -> bool: ...

    def failed(self, label: str, error: BaseException) -> None: ...


@dataclasses.dataclass
class ScriptedResult:
    """Per-label results of a scripted run, plus one-second buckets of good and bad answers."""

    duration_s: float
    total: LoadResult
    labels: dict[str, LoadResult] = dataclasses.field(default_factory=dict)
    timeline_ok: Counter[int] = dataclasses.field(default_factory=Counter)
    timeline_bad: Counter[int] = dataclasses.field(default_factory=Counter)
    timeouts: int = 0
    longest_ms: float = 0.0  # of every request sent in the window, answered or not

    def summary(self) -> dict[str, Any]:
        seconds = range(int(self.duration_s + 0.999))
        return {
            **self.total.summary(),
            "timeouts": self.timeouts,
            "longest_request_ms": round(self.longest_ms, 3),
            "labels": {name: result.summary() for name, result in sorted(self.labels.items())},
            "timeline_ok": [self.timeline_ok[s] for s in seconds],
            "timeline_bad": [self.timeline_bad[s] for s in seconds],
        }


async def scripted(
    host: str,
    port: int,
    scripts: Sequence[Script],
    *,
    duration: float,
    warmup: float,
    request_timeout: float = 60.0,
    at: Sequence[tuple[float, Callable[[], Awaitable[None]]]] = (),
    until: Callable[[], bool] | None = None,
) -> ScriptedResult:
    """Run one connection per script for ``warmup`` + ``duration`` seconds.

    Unlike :func:`replay`, every request that was sent is waited for (up to
    ``request_timeout``, then counted as a timeout), so a slow or hanging answer shows in
    ``longest_ms`` instead of vanishing at the window's end; a request counts when it was sent
    inside the window. ``at`` holds (seconds into the window, coroutine) pairs run alongside the
    load: the fault injections. ``until``, when given, ends the run early once it returns true
    (checked before every request: a background load stopped from another thread). A transport
    error closes the connection; the script's next request opens a new one.
    """
    conns = [Connection(host, port) for _ in scripts]
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    result = ScriptedResult(duration_s=duration, total=LoadResult(duration_s=duration))

    def bucket(label: str) -> LoadResult:
        found = result.labels.get(label)
        if found is None:
            found = result.labels[label] = LoadResult(duration_s=duration)
        return found

    async def worker(index: int) -> None:
        conn, script = conns[index], scripts[index]
        clock = time.perf_counter
        while True:
            t0 = clock()
            if t0 >= stop_at or (until is not None and until()):
                return
            measured = t0 >= measure_from
            label, raw = script.next_request()
            second = int(t0 - measure_from)
            try:
                response = await asyncio.wait_for(conn.request(raw), request_timeout)
            except (
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                HttpError,
                TimeoutError,
            ) as error:
                await conn.close()
                script.failed(label, error)
                if measured:
                    elapsed_ms = (clock() - t0) * 1000.0
                    result.longest_ms = max(result.longest_ms, elapsed_ms)
                    if isinstance(error, TimeoutError):
                        result.timeouts += 1
                    result.total.errors += 1
                    bucket(label).errors += 1
                    result.timeline_bad[second] += 1
                await asyncio.sleep(0.01)
                continue
            elapsed_ms = (clock() - t0) * 1000.0
            good = script.answered(label, response)
            if not measured:
                continue
            result.longest_ms = max(result.longest_ms, elapsed_ms)
            for target in (result.total, bucket(label)):
                target.latencies_ms.append(elapsed_ms)
                target.statuses[response.status] += 1
                if good:
                    target.units += 1
                elif 200 <= response.status < 300:
                    target.bad_responses += 1
            (result.timeline_ok if good else result.timeline_bad)[second] += 1

    async def inject(delay: float, action: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(max(0.0, measure_from + delay - time.perf_counter()))
        await action()

    try:
        await asyncio.gather(
            *(worker(k) for k in range(len(scripts))),
            *(inject(delay, action) for delay, action in at),
        )
    finally:
        for conn in conns:
            await conn.close()
    return result


# --- bulk work (seeding) -----------------------------------------------------------------------


@dataclasses.dataclass
class BulkStats:
    jobs_done: int = 0
    requests: int = 0
    retries: int = 0
    failures: int = 0
    failure_samples: list[str] = dataclasses.field(default_factory=list)


async def bulk(
    host: str,
    port: int,
    jobs: int,
    make_job: Callable[[int], Sequence[Callable[[], bytes]]],
    *,
    concurrency: int,
    ok_statuses: tuple[int, ...] = (200,),
    retry_ok_statuses: tuple[int, ...] = (409,),
    max_failures: int = 100,
    progress: Callable[[BulkStats, float], Awaitable[None] | None] | None = None,
    progress_every: float = 10.0,
) -> BulkStats:
    """Run ``jobs`` jobs over ``concurrency`` connections. Job ``j`` is a list of request
    factories sent in order (each factory signs its request just before it is sent, so a long
    seeding never replays a stale signature). A request is retried up to 3 times on transport
    errors and 5xx; on a retry, ``retry_ok_statuses`` (409 EntityAlreadyExists) counts as done.
    """
    stats = BulkStats()
    next_job = 0
    started = time.perf_counter()
    last_report = started

    async def send(conn: Connection, factory: Callable[[], bytes]) -> None:
        last = "transport error"
        for attempt in range(4):
            try:
                response = await conn.request(factory())
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError):
                stats.retries += 1
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            stats.requests += 1
            last = f"{response.status} {response.body[:300]!r}"
            if response.status in ok_statuses or (
                attempt > 0 and response.status in retry_ok_statuses
            ):
                return
            if response.status >= 500 or response.status == 429:
                stats.retries += 1
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            break
        stats.failures += 1
        if len(stats.failure_samples) < 5:
            stats.failure_samples.append(last)
        if stats.failures > max_failures:
            raise HttpError(f"seeding failed too often: {stats.failure_samples}")

    async def worker() -> None:
        nonlocal next_job, last_report
        conn = Connection(host, port)
        try:
            while next_job < jobs:
                job = next_job
                next_job += 1
                for factory in make_job(job):
                    await send(conn, factory)
                stats.jobs_done += 1
                now = time.perf_counter()
                if progress is not None and now - last_report >= progress_every:
                    last_report = now
                    maybe = progress(stats, now - started)
                    if maybe is not None:
                        await maybe
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return stats


async def one(host: str, port: int, raw: bytes) -> Response:
    """Send a single request on a fresh connection."""
    conn = Connection(host, port)
    try:
        return await conn.request(raw)
    finally:
        await conn.close()

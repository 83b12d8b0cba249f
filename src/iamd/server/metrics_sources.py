"""The gauges `/metrics` reads at scrape time: caches, the database pool, git sessions.

Nothing here runs per request: each collector reads counters the components keep
anyway, when Prometheus asks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from iamd.store import cache
from iamd.store.database import Database
from iamd.telemetry.metrics import Family, Metrics, Sample, counter, gauge


def register_sources(
    metrics: Metrics,
    database: Database,
    git_sessions: Callable[[], int] | None,
    max_git_sessions: int,
    worker: int | None = None,
) -> None:
    """`worker`: this process's index under `serve --workers N` (every family is then
    this worker's own: a scrape reaches one worker, which `iamd_worker_info` names)."""
    metrics.add_collector(_caches)
    metrics.add_collector(lambda: _pool(database))
    if git_sessions is not None:
        metrics.add_collector(lambda: _git(git_sessions(), max_git_sessions))
    if worker is not None:
        labels = (("worker", str(worker)), ("pid", str(os.getpid())))
        metrics.add_collector(lambda: _worker(labels))


def _worker(labels: tuple[tuple[str, str], ...]) -> Iterable[Family]:
    yield gauge(
        "iamd_worker_info",
        "The worker (serve --workers) that answered this scrape: its index and pid.",
        [Sample(labels, 1)],
    )


def _caches() -> Iterable[Family]:
    rows = cache.statistics()

    def by_name(value: Callable[[cache.CacheStatistics], float]) -> list[Sample]:
        return [Sample((("cache", row.name),), value(row)) for row in rows]

    yield counter("iamd_cache_hits_total", "Look-ups answered from the cache.", by_name(_hits))
    yield counter(
        "iamd_cache_misses_total", "Look-ups that went to the database.", by_name(_misses)
    )
    yield gauge(
        "iamd_cache_hit_ratio",
        "Hits over look-ups since the start (0 before the first look-up).",
        by_name(_ratio),
    )
    yield gauge("iamd_cache_entries", "Entries held now.", by_name(_entries))
    yield gauge("iamd_cache_max_entries", "The cache's bound.", by_name(_bound))


def _hits(row: cache.CacheStatistics) -> float:
    return row.hits


def _misses(row: cache.CacheStatistics) -> float:
    return row.misses


def _ratio(row: cache.CacheStatistics) -> float:
    total = row.hits + row.misses
    return row.hits / total if total else 0.0


def _entries(row: cache.CacheStatistics) -> float:
    return row.entries


def _bound(row: cache.CacheStatistics) -> float:
    return row.max_entries


def _pool(database: Database) -> Iterable[Family]:
    pool = database.engine.pool
    size = getattr(pool, "size", None)
    checked_out = getattr(pool, "checkedout", None)
    if not callable(size) or not callable(checked_out):
        return
    yield gauge(
        "iamd_database_pool_size",
        "Connections the pool keeps (--worker-threads).",
        [Sample((), size())],
    )
    yield gauge(
        "iamd_database_pool_checked_out",
        "Connections in use by a request or a background task now.",
        [Sample((), checked_out())],
    )


def _git(active: int, limit: int) -> Iterable[Family]:
    yield gauge(
        "iamd_git_sessions_active", "git over SSH sessions running now.", [Sample((), active)]
    )
    yield gauge(
        "iamd_git_sessions_max",
        "Sessions served at once before new ones are refused (--max-git-sessions).",
        [Sample((), limit)],
    )

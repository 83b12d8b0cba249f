"""A small thread-safe LRU cache with a hard bound on entries.

Each cache has a name and counts its hits and misses (inside the lock it takes anyway),
so `/metrics` can report hit ratios per cache; `statistics()` reads every live cache.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_live: weakref.WeakSet[BoundedCache[Any, Any]] = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class CacheStatistics:
    name: str
    hits: int
    misses: int
    entries: int
    max_entries: int


class BoundedCache(Generic[K, V]):
    def __init__(self, max_entries: int, *, name: str) -> None:
        self.name = name
        self._max = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by clear(): a value computed before a clear must not be stored after it.
        self.generation = 0
        self.hits = 0
        self.misses = 0
        _live.add(self)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return value

    def put(self, key: K, value: V, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
            # A fill in flight may hold the old value: it must not land after this.
            self.generation += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)


def statistics() -> list[CacheStatistics]:
    """Every live cache's counters, summed per name (one server has one of each)."""
    totals: dict[str, list[int]] = {}
    for cache in list(_live):
        row = totals.setdefault(cache.name, [0, 0, 0, 0])
        row[0] += cache.hits
        row[1] += cache.misses
        row[2] += len(cache)
        row[3] += cache._max
    return [CacheStatistics(name, *row) for name, row in sorted(totals.items())]

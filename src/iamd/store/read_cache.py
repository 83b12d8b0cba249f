"""Read-through caching of the entities hot read operations return.

GetUser, ListAccessKeys and ListUsers are the reads clients repeat most; each would
otherwise cost a transaction and several queries. Entries are immutable domain
objects, the caches are bounded, and a committed write drops them: on this node, every
cache that reads a table the write wrote (or all of them, when a cache names no
tables); on another node, as the change watcher sees it, all of them. So a read never
returns what a completed write changed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from iamd.store.cache import BoundedCache
from iamd.store.transactions import Transactions

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ReadThrough(Generic[K, V]):
    def __init__(
        self,
        tx: Transactions,
        max_entries: int,
        *,
        name: str,
        tables: Iterable[str] | None = None,
    ) -> None:
        """`tables`: the tables the values are read from, when known: a write on this
        node that wrote none of them keeps the cache (Transactions.on_write_committed)."""
        self._cache: BoundedCache[K, V] = BoundedCache(max_entries, name=name)
        tx.on_write_committed(self._cache.clear, tables)

    def get(self, key: K, load: Callable[[], V]) -> V:
        found = self._cache.get(key)
        if found is not None:
            return found
        generation = self._cache.generation
        value = load()
        self._cache.put(key, value, generation)
        return value

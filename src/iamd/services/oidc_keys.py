"""The signing keys of the OpenID Connect providers tokens name, cached per issuer.

One cache for the process (providers of every account share their issuer's keys). An
issuer's keys are fetched on first use (`auth/oidc_discovery.py`), kept for
`TTL_SECONDS`, and fetched again sooner when a token names a key the cached set does not
have (`refresh=True`: the provider rotated its keys), but at most once per
`REFRESH_SECONDS`, so tokens with made-up key ids cannot make iamd hammer the provider.
A failed fetch is remembered for `FAILURE_SECONDS`: a flood of requests during an outage
costs the provider and iamd's threads one fetch, not one each. Only one thread fetches
an issuer's keys at a time; the others wait for its answer up to `WAIT_SECONDS`, then
answer IDPCommunicationError (which SDKs retry): a provider that takes its full 5 s
holds one worker thread, not every thread that asked for its keys meanwhile.

Blocking (the fetch): AssumeRoleWithWebIdentity runs on the worker threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iamd.auth.oidc_discovery import KeysUnavailable

__all__ = ["JwksCache", "KeysUnavailable"]

TTL_SECONDS = 300.0
REFRESH_SECONDS = 1.0
FAILURE_SECONDS = 5.0
WAIT_SECONDS = 1.0
MAX_ISSUERS = 1024

_log = logging.getLogger(__name__)

Fetch = Callable[[str], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class _Entry:
    fetched: float
    keys: tuple[Mapping[str, Any], ...] = ()
    failure: KeysUnavailable | None = None


class JwksCache:
    def __init__(
        self,
        fetch: Fetch,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        ttl: float = TTL_SECONDS,
        refresh: float = REFRESH_SECONDS,
        failure: float = FAILURE_SECONDS,
        wait: float = WAIT_SECONDS,
    ) -> None:
        self._fetch = fetch
        self._monotonic = monotonic
        self._ttl = ttl
        self._refresh = refresh
        self._failure = failure
        self._wait = wait
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def keys(self, issuer: str, *, refresh: bool = False) -> tuple[Mapping[str, Any], ...]:
        """The issuer's published keys; KeysUnavailable when they cannot be had.

        `refresh`: the caller found no key for its token in what this returned before.
        """
        found = self._usable(issuer, refresh=refresh)
        if found is not None:
            return _answer(found)
        lock = self._lock_of(issuer)
        if not lock.acquire(timeout=self._wait):
            raise KeysUnavailable("another fetch of the issuer's keys is under way", transient=True)
        try:
            # Another thread may have fetched while this one waited.
            found = self._usable(issuer, refresh=refresh)
            if found is not None:
                return _answer(found)
            entry = self._fetched(issuer)
            with self._guard:
                if len(self._entries) >= MAX_ISSUERS:
                    self._entries.clear()
                self._entries[issuer] = entry
        finally:
            lock.release()
        return _answer(entry)

    def _usable(self, issuer: str, *, refresh: bool) -> _Entry | None:
        entry = self._entries.get(issuer)
        if entry is None:
            return None
        age = self._monotonic() - entry.fetched
        if age < 0:
            return None
        if entry.failure is not None:
            return entry if age < self._failure else None
        if refresh:
            return entry if age < self._refresh else None
        return entry if age < self._ttl else None

    def _fetched(self, issuer: str) -> _Entry:
        started = self._monotonic()
        try:
            keys = tuple(self._fetch(issuer))
        except KeysUnavailable as exc:
            _log.warning("the keys of OIDC issuer %s could not be fetched: %s", issuer, exc)
            return _Entry(self._monotonic(), failure=exc)
        _log.info(
            "fetched %d keys of OIDC issuer %s in %.0f ms",
            len(keys),
            issuer,
            (self._monotonic() - started) * 1000,
        )
        return _Entry(self._monotonic(), keys)

    def _lock_of(self, issuer: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(issuer)
            if lock is None:
                if len(self._locks) >= MAX_ISSUERS:
                    self._locks.clear()
                lock = self._locks[issuer] = threading.Lock()
            return lock


def _answer(entry: _Entry) -> tuple[Mapping[str, Any], ...]:
    failure = entry.failure
    if failure is not None:
        # A new exception each time: threads raising one object would share a traceback.
        raise KeysUnavailable(str(failure), transient=failure.transient)
    return entry.keys

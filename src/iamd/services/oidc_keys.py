"""The signing keys of the OpenID Connect providers tokens name, cached per issuer.

One cache for the process: providers of every account share their issuer's keys, as
long as they have the same thumbprints. An entry is the issuer's keys *as fetched under
one list of thumbprints* (`(issuer, thumbprints)`): a certificate the trust store does
not vouch for is accepted by a provider's thumbprints only (`auth/oidc_thumbprints.py`),
so keys one account's thumbprints let in must never serve another account's provider
that lists other thumbprints (or none). Providers without thumbprints, the usual case
for certificates of public CAs, all share one entry per issuer. An
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
from collections.abc import Callable, Iterable, Mapping, Sequence
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

#: (issuer, the provider's thumbprints) -> the keys.
Fetch = Callable[[str, tuple[str, ...]], Sequence[Mapping[str, Any]]]
_Key = tuple[str, tuple[str, ...]]


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
        self._entries: dict[_Key, _Entry] = {}
        self._locks: dict[_Key, threading.Lock] = {}
        self._guard = threading.Lock()

    def keys(
        self, issuer: str, *, thumbprints: Iterable[str] = (), refresh: bool = False
    ) -> tuple[Mapping[str, Any], ...]:
        """The issuer's published keys; KeysUnavailable when they cannot be had.

        `thumbprints`: the asking provider's. `refresh`: the caller found no key for
        its token in what this returned before.
        """
        key = (issuer, tuple(sorted({t.lower() for t in thumbprints})))
        found = self._usable(key, refresh=refresh)
        if found is not None:
            return _answer(found)
        lock = self._lock_of(key)
        if not lock.acquire(timeout=self._wait):
            raise KeysUnavailable("another fetch of the issuer's keys is under way", transient=True)
        try:
            # Another thread may have fetched while this one waited.
            found = self._usable(key, refresh=refresh)
            if found is not None:
                return _answer(found)
            entry = self._fetched(key)
            with self._guard:
                if len(self._entries) >= MAX_ISSUERS:
                    self._entries.clear()
                self._entries[key] = entry
        finally:
            lock.release()
        return _answer(entry)

    def _usable(self, key: _Key, *, refresh: bool) -> _Entry | None:
        entry = self._entries.get(key)
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

    def _fetched(self, key: _Key) -> _Entry:
        issuer, thumbprints = key
        started = self._monotonic()
        try:
            keys = tuple(self._fetch(issuer, thumbprints))
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

    def _lock_of(self, key: _Key) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                if len(self._locks) >= MAX_ISSUERS:
                    self._locks.clear()
                lock = self._locks[key] = threading.Lock()
            return lock


def _answer(entry: _Entry) -> tuple[Mapping[str, Any], ...]:
    failure = entry.failure
    if failure is not None:
        # A new exception each time: threads raising one object would share a traceback.
        raise KeysUnavailable(
            str(failure), transient=failure.transient, untrusted=failure.untrusted
        )
    return entry.keys

"""The per-issuer cache of OpenID Connect providers' keys: when it fetches again."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from iamd.auth.oidc_discovery import KeysUnavailable
from iamd.services.oidc_keys import JwksCache

ISSUER = "https://idp.example.com"


class _Provider:
    def __init__(self) -> None:
        self.fetches = 0
        self.keys: list[dict[str, Any]] = [{"kid": "k1"}]
        self.failure: KeysUnavailable | None = None
        self.delay = 0.0
        self.asked: list[tuple[str, ...]] = []

    def fetch(self, issuer: str, thumbprints: tuple[str, ...]) -> Sequence[Mapping[str, Any]]:
        assert issuer == ISSUER
        self.fetches += 1
        self.asked.append(thumbprints)
        time.sleep(self.delay)
        if self.failure is not None:
            raise self.failure
        return list(self.keys)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_cached_and_refetched_after_their_ttl() -> None:
    provider, clock = _Provider(), _Clock()
    cache = JwksCache(provider.fetch, monotonic=clock, ttl=300, refresh=1)
    assert cache.keys(ISSUER) == ({"kid": "k1"},)
    clock.now += 299
    cache.keys(ISSUER)
    assert provider.fetches == 1
    clock.now += 2
    cache.keys(ISSUER)
    assert provider.fetches == 2


def test_an_unknown_kid_refetches_at_most_once_a_second() -> None:
    provider, clock = _Provider(), _Clock()
    cache = JwksCache(provider.fetch, monotonic=clock, ttl=300, refresh=1)
    first = cache.keys(ISSUER)
    provider.keys = [{"kid": "k2"}]
    # Right after a fetch, a refresh returns the same set: no new request.
    assert cache.keys(ISSUER, refresh=True) is first
    clock.now += 1.5
    assert cache.keys(ISSUER, refresh=True) == ({"kid": "k2"},)
    assert provider.fetches == 2


def test_a_failure_is_remembered_briefly() -> None:
    provider, clock = _Provider(), _Clock()
    provider.failure = KeysUnavailable("timed out", transient=True)
    cache = JwksCache(provider.fetch, monotonic=clock, failure=5)
    for _ in range(3):
        with pytest.raises(KeysUnavailable) as raised:
            cache.keys(ISSUER)
        assert raised.value.transient
    assert provider.fetches == 1
    provider.failure = None
    clock.now += 6
    assert cache.keys(ISSUER) == ({"kid": "k1"},)


def test_one_thread_fetches_while_the_others_wait() -> None:
    provider = _Provider()
    provider.delay = 0.2
    cache = JwksCache(provider.fetch, wait=5)
    answers: list[object] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.keys(ISSUER))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.fetches == 1
    assert len(answers) == 8


def test_a_slow_fetch_makes_the_others_give_up_after_a_while() -> None:
    provider = _Provider()
    provider.delay = 1.0
    cache = JwksCache(provider.fetch, wait=0.1)
    first: list[object] = []
    fetching = threading.Thread(target=lambda: first.append(cache.keys(ISSUER)))
    fetching.start()
    time.sleep(0.2)
    started = time.monotonic()
    with pytest.raises(KeysUnavailable) as raised:
        cache.keys(ISSUER)
    assert raised.value.transient
    assert time.monotonic() - started < 0.5
    fetching.join()
    assert first == [({"kid": "k1"},)]
    assert provider.fetches == 1


def test_keys_fetched_under_one_providers_thumbprints_serve_no_other_list() -> None:
    # Account A's provider lists a thumbprint that lets an untrusted certificate in; B's
    # provider for the same issuer lists none (or another): B's ask is a fetch of its own,
    # under its own list, never A's cached answer.
    provider, clock = _Provider(), _Clock()
    cache = JwksCache(provider.fetch, monotonic=clock)
    cache.keys(ISSUER, thumbprints=["AA" * 20])
    cache.keys(ISSUER)
    cache.keys(ISSUER, thumbprints=["bb" * 20])
    assert provider.asked == [("aa" * 20,), (), ("bb" * 20,)]
    # The same list (in another order or case) is the same trust decision: shared.
    cache.keys(ISSUER, thumbprints=["BB" * 20])
    cache.keys(ISSUER, thumbprints=[])
    assert provider.fetches == 3

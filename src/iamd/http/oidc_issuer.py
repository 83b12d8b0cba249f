"""The OIDC issuer's public documents: each account's discovery document and JWKS.

``GET /oidc/{issuer_id}/.well-known/openid-configuration`` and ``.../jwks.json``,
unauthenticated as every OIDC issuer's are (a verifier has no credentials here). An
unknown issuer, another path under /oidc/ or a malformed id is 404; a method other than
GET or HEAD is 405. Clients may cache the answers for five minutes: a new key is
published a day before it signs anything.

Anyone can ask, so the answers cost the database little: a document read is kept for
`CACHE_SECONDS` on this node and answered from memory on the event loop, and at most
`max_concurrent` reads run on the worker threads at once (more are answered 503 with
`Retry-After`), so a flood of requests for random issuer ids cannot take the threads
API requests need.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from iamd.errors import AwsError
from iamd.http.pipeline import HttpResponse
from iamd.services.container import Services
from iamd.services.outbound_federation import DISCOVERY_SUFFIX, ISSUER_PATH, JWKS_SUFFIX

#: Short: a key generated on the token path because none was current (an account that
#: asked for no token in a week) signs at once, and verifiers refetch on an unknown kid.
CACHE_SECONDS = 5.0
_MAX_CACHED = 1024
_ISSUER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_JSON = (b"content-type", b"application/json")


class OidcIssuerEndpoint:
    def __init__(
        self,
        services: Services,
        executor: Executor,
        *,
        max_concurrent: int = 4,
    ) -> None:
        self._federation = services.outbound_federation
        self._executor = executor
        self._max_concurrent = max(1, max_concurrent)
        # The services' clock, so that a test that moves it sees the documents change.
        self._clock = services.clock
        # Touched on the event loop only.
        self._running = 0
        # path -> (when it was read, the document)
        self._cache: dict[str, tuple[float, bytes]] = {}

    async def answer(self, method: str, path: str) -> HttpResponse:
        if method not in ("GET", "HEAD"):
            return HttpResponse(405, [_JSON, (b"allow", b"GET, HEAD")], _body("Method Not Allowed"))
        wanted = self._wanted(path)
        if wanted is None:
            return HttpResponse(404, [_JSON], _body("Not Found"))
        now = self._clock.now().timestamp()
        cached = self._cache.get(path)
        # A clock that stepped back (NTP, a test) does not make an old answer fresh.
        if cached is not None and 0 <= now - cached[0] < CACHE_SECONDS:
            return _found(cached[1])
        if self._running >= self._max_concurrent:
            return HttpResponse(
                503, [_JSON, (b"retry-after", b"1")], _body("Too many requests; retry")
            )
        self._running += 1
        try:
            loop = asyncio.get_running_loop()
            status, body = await loop.run_in_executor(self._executor, _read, *wanted)
        finally:
            self._running -= 1
        if status != 200:
            return HttpResponse(status, [_JSON], body)
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[path] = (now, body)
        # HEAD: uvicorn sends the head (with GET's Content-Length) and drops the body.
        return _found(body)

    def _wanted(self, path: str) -> tuple[Callable[[str], dict[str, Any] | None], str] | None:
        """Which document of which issuer the path names; None: no document at all."""
        rest = path.removeprefix(ISSUER_PATH)
        for suffix, read in (
            (DISCOVERY_SUFFIX, self._federation.discovery),
            (JWKS_SUFFIX, self._federation.jwks),
        ):
            issuer_id = rest.removesuffix(suffix)
            if issuer_id != rest and _ISSUER_ID.fullmatch(issuer_id):
                return read, issuer_id
        return None


def _read(read: Callable[[str], dict[str, Any] | None], issuer_id: str) -> tuple[int, bytes]:
    """On a worker thread: the document's JSON, or the error's status and body."""
    try:
        document = read(issuer_id)
    except AwsError as error:
        # The database out of reach (ServiceUnavailable, 503): verifiers retry.
        return error.status, _body(error.message)
    if document is None:
        return 404, _body("Not Found")
    return 200, json.dumps(document, separators=(",", ":")).encode()


def _found(body: bytes) -> HttpResponse:
    return HttpResponse(200, [_JSON, (b"cache-control", b"public, max-age=300")], body)


def _body(message: str) -> bytes:
    return json.dumps({"message": message}).encode()

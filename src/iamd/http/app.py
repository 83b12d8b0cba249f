"""The ASGI application: health endpoint, password sign-in, the web console, and AWS API
requests.

The pipeline is synchronous (SQLAlchemy Core) and runs on a bounded thread pool; the
event loop only reads requests and writes responses. Whatever fails unexpectedly, here
or below, is answered InternalFailure with a request id (`http.failures`): never a bare
500 from uvicorn. The connection layer (`http.connections`) has already bounded the
request head and the time the client takes to send it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from iamd.http.connections import TLS_SCOPE_KEY
from iamd.http.console.front import is_console_path
from iamd.http.failures import UnexpectedFailures
from iamd.http.identity_center import PATHS as IDENTITY_CENTER_PATHS
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.http.scim import is_scim_path
from iamd.protocol.form import DecodedForm, decode_query_form, header
from iamd.services.outbound_federation import ISSUER_PATH as OIDC_PREFIX

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The largest IAM request is a policy document of 131,072 characters, URL-encoded.
MAX_BODY_BYTES = 1024 * 1024
HEALTH_PATH = "/_iamd/health"
SIGN_IN_PATH = "/_iamd/signin"
#: Answers one request on a worker thread (the sign-in endpoint).
ThreadedHandler = Callable[[HttpRequest], HttpResponse]
#: The OIDC issuer's documents (`http/oidc_issuer.py`): method and path; it reads the
#: database on the worker threads itself.
OidcHandler = Callable[[str, str], Awaitable[HttpResponse]]


class IamdApp:
    def __init__(
        self,
        pipeline: AwsPipeline,
        executor: ThreadPoolExecutor,
        *,
        inline_reads: bool,
        failures: UnexpectedFailures,
        sign_in: ThreadedHandler | None = None,
        identity_center: ThreadedHandler | None = None,
        console: ThreadedHandler | None = None,
        fail_path: str | None = None,
        oidc: OidcHandler | None = None,
        scim: ThreadedHandler | None = None,
        worker: str | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._executor = executor
        self._inline_reads = inline_reads
        self._failures = failures
        self._sign_in = sign_in
        self._identity_center = identity_center
        self._console = console
        self._oidc = oidc
        self._scim = scim
        # Tests only (hidden --test-fail-path): requests to this path fail before their
        # body is read, to prove that such failures still get InternalFailure.
        self._fail_path = fail_path
        # `serve --workers N`: the health answer names the worker ("index pid") that
        # gave it, for operators and tests; no AWS answer does.
        self._health_headers = [(b"content-type", b"application/json")]
        if worker is not None:
            self._health_headers.append((b"x-iamd-worker", worker.encode()))
        self.ready = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        try:
            await self._http(scope, receive, send)
        except Exception as exc:
            client = scope.get("client") or ("", 0)
            response = self._failures.respond(
                exc,
                path=scope.get("path", ""),
                headers=scope.get("headers", []),
                client_ip=client[0] or "",
                started=started,
                sign_in_path=SIGN_IN_PATH,
            )
            # If the answer had already begun, uvicorn closes the connection.
            with contextlib.suppress(Exception):
                await _respond(send, response)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == HEALTH_PATH:
            status = 200 if self.ready else 503
            payload = json.dumps({"status": "ok" if self.ready else "starting"}).encode()
            await _respond(send, HttpResponse(status, list(self._health_headers), payload))
            return
        if scope["path"] == self._fail_path:
            raise RuntimeError("failure injected by --test-fail-path")
        if self._oidc is not None and scope["path"].startswith(OIDC_PREFIX):
            await _respond(send, await self._oidc(scope["method"], scope["path"]))
            return
        try:
            body = await _read_body(receive, scope["headers"])
        except _ClientGone:
            # Closed, or timed out by the connection layer (which answered 408).
            return
        except _BodyTooLarge:
            await _respond(
                send,
                HttpResponse(
                    413,
                    # The rest of the body is not worth reading: the connection ends here.
                    [(b"content-type", b"text/plain"), (b"connection", b"close")],
                    b"Request body too large\n",
                ),
            )
            return
        client = scope.get("client") or ("", 0)
        path = scope["path"]
        raw_query = scope.get("query_string", b"")
        headers = scope["headers"]
        routed_by_path = (
            (self._sign_in is not None and path == SIGN_IN_PATH)
            or (self._identity_center is not None and path in IDENTITY_CENTER_PATHS)
            or (self._scim is not None and is_scim_path(path))
            or (self._console is not None and is_console_path(path))
        )
        # Decided before the request is built, so it is built once with its form (a
        # dataclasses.replace afterwards cost 2 % of a cached GetUser's time).
        decoded = (
            _inline_form(scope["method"], raw_query, headers, body)
            if self._inline_reads and not routed_by_path
            else None
        )
        request = HttpRequest(
            method=scope["method"],
            raw_path=scope.get("raw_path") or path.encode("utf-8"),
            raw_query=raw_query,
            headers=headers,
            body=body,
            client_ip=client[0] or "",
            secure=scope.get("scheme") == "https",
            tls=scope.get(TLS_SCOPE_KEY),
            form=decoded,
        )
        loop = asyncio.get_running_loop()
        if self._sign_in is not None and path == SIGN_IN_PATH:
            # Never on the loop: checking a password is an argon2 computation.
            response = await loop.run_in_executor(self._executor, self._sign_in, request)
        elif self._identity_center is not None and path in IDENTITY_CENTER_PATHS:
            # Identity Center's OAuth service, portal API and device page: unsigned,
            # and password checks are argon2 computations.
            response = await loop.run_in_executor(self._executor, self._identity_center, request)
        elif self._scim is not None and is_scim_path(path):
            # SCIM provisioning (http/scim.py): every call reads the database.
            response = await loop.run_in_executor(self._executor, self._scim, request)
        elif self._console is not None and is_console_path(path):
            # The web console: pages that check passwords and run operations.
            response = await loop.run_in_executor(self._executor, self._console, request)
        elif decoded is not None:
            if _runs_inline(decoded.action):
                # Reads are answered from caches nearly always: handing them to a thread
                # costs more than running them (measured: 3,150 against 2,250 GetUser/s).
                # A cache miss on the embedded database costs well under a millisecond.
                response = self._pipeline.handle(request)
            else:
                response = await loop.run_in_executor(
                    self._executor, self._pipeline.handle, request
                )
        else:
            response = await loop.run_in_executor(self._executor, self._pipeline.handle, request)
        await _respond(send, response)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ready = False
                await send({"type": "lifespan.shutdown.complete"})
                return


#: Forms up to this size are decoded on the loop to see which operation they name (a few
#: microseconds); larger ones are decoded on a worker thread, where they then run.
INLINE_FORM_BYTES = 16 * 1024
#: Reads that cost more than a cached look-up, or that write: they run on the threads.
#: GetSessionToken consumes an MFA code; the others build large answers or compile and
#: evaluate policies (Simulate* do not start with Get or List and never run inline).
_OFF_LOOP_READS = frozenset(
    {
        "GetSessionToken",
        "GetAccountAuthorizationDetails",
        "GetContextKeysForCustomPolicy",
        "GetContextKeysForPrincipalPolicy",
        "GetCredentialReport",
        # Signs a JWT, and now and then generates the next signing key (RSA: ~50 ms).
        "GetWebIdentityToken",
    }
)


def _inline_form(
    method: str, raw_query: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
) -> DecodedForm | None:
    """The decoded parameters of a small Query request, else None (run it on a thread).

    The decision and the codec read the same decoded form: the pipeline reuses it, so a
    percent-encoded or repeated ``Action`` cannot make them disagree. JSON-protocol
    requests (CodeCommit, named by ``X-Amz-Target``) always go to the thread pool: their
    writes run git, which must never block the event loop.
    """
    if len(body) + len(raw_query) > INLINE_FORM_BYTES:
        return None
    if header(headers, b"x-amz-target"):
        return None
    return decode_query_form(method, raw_query, headers, body)


def _runs_inline(action: str | None) -> bool:
    """Whether the operation is a cheap read (Get*, List*) that may run on the loop."""
    return (
        action is not None and action.startswith(("Get", "List")) and action not in _OFF_LOOP_READS
    )


class _ClientGone(Exception):
    """The client went away (or was sent away) before its body was complete."""


class _BodyTooLarge(Exception):
    """The body is, or announces to be, larger than MAX_BODY_BYTES."""


async def _read_body(receive: Receive, headers: list[tuple[bytes, bytes]]) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _ClientGone
    first: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        # Nearly every request: the whole body came with the head.
        if len(first) > MAX_BODY_BYTES:
            raise _BodyTooLarge
        return first
    if _announced_length(headers) > MAX_BODY_BYTES:
        # Refused before the client sends (and the server reads) the rest.
        raise _BodyTooLarge
    chunks = [first]
    size = len(first)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # A truncated body must never be handled as if it were the whole request.
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _announced_length(headers: list[tuple[bytes, bytes]]) -> int:
    for name, value in headers:
        if name == b"content-length":
            # The HTTP parser has checked it is digits.
            return int(value) if value.isdigit() and len(value) < 20 else MAX_BODY_BYTES + 1
    return 0


async def _respond(send: Send, response: HttpResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [*response.headers, (b"content-length", str(len(response.body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": response.body})

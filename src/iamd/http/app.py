"""The ASGI application: health endpoint, password sign-in, and AWS API requests.

The pipeline is synchronous (SQLAlchemy Core) and runs on a bounded thread pool; the
event loop only reads requests and writes responses.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The largest IAM request is a policy document of 131,072 characters, URL-encoded.
MAX_BODY_BYTES = 1024 * 1024
HEALTH_PATH = "/_iamd/health"
SIGN_IN_PATH = "/_iamd/signin"
# The SSO portal's and SSO OIDC's paths (botocore's `sso` and `sso-oidc` models, and the
# browser's /authorize). Until iamd serves IAM Identity Center they get the JSON error
# those clients parse (`x-amzn-ErrorType` and `message`), not an IAM XML 403.
IDENTITY_CENTER_PATHS = frozenset(
    {
        "/federation/credentials",
        "/assignment/accounts",
        "/assignment/roles",
        "/logout",
        "/client/register",
        "/device_authorization",
        "/token",
        "/authorize",
    }
)
_IDENTITY_CENTER_NOT_SERVED = HttpResponse(
    501,
    [(b"content-type", b"application/json"), (b"x-amzn-errortype", b"NotImplemented")],
    json.dumps({"message": "IAM Identity Center (SSO) is not served by this iamd yet"}).encode(),
)
#: Answers one request on a worker thread (the sign-in endpoint).
ThreadedHandler = Callable[[HttpRequest], HttpResponse]


class IamdApp:
    def __init__(
        self,
        pipeline: AwsPipeline,
        executor: ThreadPoolExecutor,
        *,
        inline_reads: bool,
        sign_in: ThreadedHandler | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._executor = executor
        self._inline_reads = inline_reads
        self._sign_in = sign_in
        self.ready = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] == HEALTH_PATH:
            status = 200 if self.ready else 503
            payload = json.dumps({"status": "ok" if self.ready else "starting"}).encode()
            await _respond(
                send, HttpResponse(status, [(b"content-type", b"application/json")], payload)
            )
            return
        if scope["path"] in IDENTITY_CENTER_PATHS:
            await _respond(send, _IDENTITY_CENTER_NOT_SERVED)
            return
        body = await _read_body(receive)
        if body is None:
            await _respond(
                send,
                HttpResponse(413, [(b"content-type", b"text/plain")], b"Request body too large\n"),
            )
            return
        client = scope.get("client") or ("", 0)
        request = HttpRequest(
            method=scope["method"],
            raw_path=scope.get("raw_path") or scope["path"].encode("utf-8"),
            raw_query=scope.get("query_string", b""),
            headers=scope["headers"],
            body=body,
            client_ip=client[0] or "",
            secure=scope.get("scheme") == "https",
        )
        loop = asyncio.get_running_loop()
        if self._sign_in is not None and scope["path"] == SIGN_IN_PATH:
            # Never on the loop: checking a password is an argon2 computation.
            response = await loop.run_in_executor(self._executor, self._sign_in, request)
        elif self._inline_reads and _is_read(request):
            # Reads are answered from caches nearly always: handing them to a thread costs
            # more than running them (measured: 3,150 against 2,250 GetUser/s). A cache
            # miss on the embedded database costs well under a millisecond of loop time.
            response = self._pipeline.handle(request)
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


_READ_ACTIONS = (b"Action=Get", b"Action=List", b"Action=Simulate")


def _is_read(request: HttpRequest) -> bool:
    """Whether the request names a read-only operation (Get*, List*, Simulate*).

    A cheap look at the form before the real parse; a wrong guess only changes which
    thread runs the request, never what it does. JSON-protocol requests (CodeCommit)
    always go to the thread pool, whatever text their body holds: their writes run git,
    which must never block the event loop.
    """
    source = request.body or request.raw_query
    if source[:1] == b"{" or b"Action=GetSessionToken" in source:
        # GetSessionToken consumes an MFA code: a write, like every JSON request.
        return False
    return any(source.startswith(m) or b"&" + m in source for m in _READ_ACTIONS)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, response: HttpResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [*response.headers, (b"content-length", str(len(response.body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": response.body})

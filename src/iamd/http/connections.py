"""HTTP/1.1 connections: uvicorn's httptools protocol, with the limits it lacks.

uvicorn reads request heads with no deadline (a client that sends half a header holds its
connection forever), buffers headers of any size, has no bound on open connections, and
logs a warning for every malformed request. `IamdHttpProtocol` adds, per connection:

- a deadline for the whole request head and one for the whole body (`ConnectionLimits`):
  408, connection closed;
- bounds on the request target, the header bytes and the header count, checked while
  the head arrives: 414 or 431 as soon as one is passed, before much is buffered;
- WebSocket (and any other) upgrades ignored, as RFC 9110 §7.8 allows: the request is
  answered as plain HTTP and the connection closed after it;
- malformed requests answered 400 without a log line each (clients choose them);
- a TLS connection closed by the server waits at most `_CLOSE_NOTIFY_SECONDS` for the
  client's close_notify (asyncio waits 30 s): a client that holds an idle connection
  without reading would otherwise keep its slot that long, and hold up a shutdown for
  the whole grace period;

and `ConnectionGuard` bounds the connections open at once: a new one beyond the bound
replaces the connection that has waited longest for its client, so idle and slow clients
cannot keep anybody else out. Connections whose request the server is working on are
never chosen. Each refusal gets a request id and an access-log line (`RejectionLog`).
"""

from __future__ import annotations

import asyncio
import http
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from iamd.http.connection_limits import ConnectionLimits

log = logging.getLogger(__name__)

#: Records a request refused by the connection layer (client address, status, error
#: code) and returns its request id.
RejectionLog = Callable[[str, int, str], str]

# Where a connection is: waiting for (or reading) a request head, reading a body, or
# waiting for the application's answer.
_HEAD, _BODY, _BUSY = 0, 1, 2
# How often an operator is told that the connection bound is being hit.
_WARNING_INTERVAL = 60.0
# How long a closing TLS connection waits for the client's close_notify before it is
# aborted; a client that reads answers its close_notify within a round trip.
_CLOSE_NOTIFY_SECONDS = 1.0

_MESSAGES = {
    400: ("BadRequest", "The request is not valid HTTP/1.1."),
    408: ("RequestTimeout", "The request was not received within the time allowed."),
    414: ("RequestURITooLong", "The request target is too long."),
    431: ("RequestHeaderFieldsTooLarge", "The request header fields are too large."),
}


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the refusal is on the protocol."""


class ConnectionGuard:
    """The connections waiting for their clients, oldest first, and their deadlines."""

    def __init__(self, limits: ConnectionLimits, rejections: RejectionLog | None = None) -> None:
        self.limits = limits
        self._rejections = rejections
        # Insertion order is waiting order: an entry is re-inserted whenever its
        # connection starts waiting again, so the first entry is always the oldest.
        self._heads: OrderedDict[IamdHttpProtocol, float] = OrderedDict()
        self._bodies: OrderedDict[IamdHttpProtocol, float] = OrderedDict()
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweep_every = min(1.0, limits.header_timeout / 4, limits.body_timeout / 4)
        self._dropped = 0
        self._warned_at = float("-inf")

    def waiting_for_head(self, conn: IamdHttpProtocol, now: float) -> None:
        self._bodies.pop(conn, None)
        self._heads.pop(conn, None)
        self._heads[conn] = now

    def waiting_for_body(self, conn: IamdHttpProtocol, now: float) -> None:
        self._heads.pop(conn, None)
        self._bodies[conn] = now

    def forget(self, conn: IamdHttpProtocol) -> None:
        self._heads.pop(conn, None)
        self._bodies.pop(conn, None)

    def rejected(self, client_ip: str, status: int, code: str) -> str | None:
        return self._rejections(client_ip, status, code) if self._rejections else None

    def admit(self, conn: IamdHttpProtocol, open_connections: int) -> bool:
        """Make room for a new connection; False if every other one is being served."""
        if self._sweeper is None:
            self._sweeper = conn.loop.call_later(self._sweep_every, self._sweep, conn.loop)
        if open_connections <= self.limits.max_connections:
            return True
        victim = self._longest_waiting()
        self._dropped += 1
        now = conn.loop.time()
        if now - self._warned_at >= _WARNING_INTERVAL:
            self._warned_at = now
            log.warning(
                "%d HTTP connections open, the limit: dropping the connections that have "
                "waited longest for their clients (%d so far)",
                self.limits.max_connections,
                self._dropped,
            )
        if victim is None:
            return False
        victim.drop()
        return True

    def _longest_waiting(self) -> IamdHttpProtocol | None:
        head = next(iter(self._heads.items()), None)
        body = next(iter(self._bodies.items()), None)
        if head is None and body is None:
            return None
        if body is None or (head is not None and head[1] <= body[1]):
            return head[0] if head is not None else None
        return body[0]

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for waiting, timeout in (
            (self._heads, self.limits.header_timeout),
            (self._bodies, self.limits.body_timeout),
        ):
            while waiting:
                conn, since = next(iter(waiting.items()))
                if now - since < timeout:
                    break
                del waiting[conn]
                conn.timed_out()
        self._sweeper = loop.call_later(self._sweep_every, self._sweep, loop)


#: The ASGI scope's key for the connection's (TLS version, cipher suite).
TLS_SCOPE_KEY = "iamd.tls"


def _negotiated(transport: asyncio.Transport) -> tuple[str, str] | None:
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    version, cipher = ssl_object.version(), ssl_object.cipher()
    if not version or not cipher:
        return None
    return str(version), str(cipher[0])


class IamdHttpProtocol(HttpToolsProtocol):
    """One HTTP/1.1 connection (see the module's docstring); `bind` sets its guard."""

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = _HEAD
        # Bytes received since the current head began (idle connections: since the last
        # response); what the parser may be holding of a head not yet complete.
        self._head_bytes = 0
        self._header_bytes = 0
        self._header_count = 0
        self._refusal = 400
        # Set once an upgrade was asked for: what follows the head is not HTTP.
        self._upgrading = False
        self._tls: tuple[str, str] | None = None
        self._lost = False

    @classmethod
    def bind(cls, guard: ConnectionGuard) -> type[IamdHttpProtocol]:
        """This protocol class with its guard, for uvicorn's `http=` setting."""
        return type("BoundIamdHttpProtocol", (cls,), {"guard": guard})

    # -- connection life ------------------------------------------------------------------

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        super().connection_made(transport)
        self._tls = _negotiated(transport)
        self.guard.waiting_for_head(self, self.loop.time())
        if not self.guard.admit(self, len(self.connections)):
            self.drop()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self.guard.forget(self)
        super().connection_lost(exc)

    def shutdown(self) -> None:
        super().shutdown()
        self._bound_tls_close()

    def timeout_keep_alive_handler(self) -> None:
        super().timeout_keep_alive_handler()
        self._bound_tls_close()

    def _bound_tls_close(self) -> None:
        """If the transport is closing over TLS, abort it unless the client's
        close_notify arrives within `_CLOSE_NOTIFY_SECONDS`."""
        if self._tls is not None and self.transport.is_closing() and not self._lost:
            self.loop.call_later(_CLOSE_NOTIFY_SECONDS, self._abort_unless_lost)

    def _abort_unless_lost(self) -> None:
        if not self._lost:
            self.transport.abort()

    def drop(self) -> None:
        """Close at once, discarding whatever is still to be written."""
        self.guard.forget(self)
        self.connections.discard(self)
        self.transport.abort()

    def timed_out(self) -> None:
        """The client took longer than allowed to send its head or its body."""
        if self._phase == _HEAD and self._head_bytes == 0:
            # Nothing of a next request was sent: an idle connection, closed quietly
            # (at once if the client does not even read its last answer).
            if self.transport.get_write_buffer_size():
                self.drop()
            else:
                self.transport.close()
                self._bound_tls_close()
            return
        self._refuse(408)

    # -- reading requests -----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._upgrading:
            return
        if self._phase == _HEAD:
            self._head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # The head is complete and the request runs as plain HTTP; what follows it
            # would be the other protocol's, so the connection ends with this response.
            self._upgrading = True
            if self.cycle is not None:
                self.cycle.keep_alive = False
            return
        except httptools.HttpParserError:
            self._refuse(self._refusal)
            return
        if self._phase == _HEAD and self._head_bytes > self.guard.limits.max_head_bytes:
            self._refuse(431)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            # uvicorn's scope has no TLS details: the audit trail records them.
            self.scope[TLS_SCOPE_KEY] = self._tls  # type: ignore[literal-required]
        self._header_bytes = 0
        self._header_count = 0
        if self._phase != _HEAD:
            # A pipelined request, read while the previous one is being answered.
            self._phase = _HEAD
            self.guard.waiting_for_head(self, self.loop.time())

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > self.guard.limits.max_url_bytes:
            self._refusal = 414
            raise _Refused
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value)
        limits = self.guard.limits
        if self._header_count > limits.max_headers or self._header_bytes > limits.max_header_bytes:
            self._refusal = 431
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._phase = _BODY
        self._head_bytes = 0
        self.guard.waiting_for_body(self, self.loop.time())

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self.cycle.response_complete:
            # Answered before the body ended (413, the health check): the next request
            # may come now.
            self._wait_for_head()
        else:
            self._phase = _BUSY
            self.guard.forget(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Closed after its answer (Connection: close, or a shutdown under way).
        self._bound_tls_close()
        if self._phase == _BUSY and (self.cycle is None or self.cycle.response_complete):
            self._wait_for_head()

    def _wait_for_head(self) -> None:
        self._phase = _HEAD
        self._head_bytes = 0
        self.guard.waiting_for_head(self, self.loop.time())

    # -- refusing ---------------------------------------------------------------------------

    def _refuse(self, status: int) -> None:
        """Answer `status` for the request being read and close the connection."""
        self.guard.forget(self)
        self._phase = _BUSY
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started or not cycle.more_body:
                # The application is answering an earlier request on this connection:
                # a refusal written now would be read as its answer.
                self.drop()
                return
            # The application waits for this body: tell it the client is gone.
            cycle.disconnected = True
            cycle.message_event.set()
        if self.transport.is_closing() or self.transport.get_write_buffer_size():
            # The client does not even read what it was sent.
            self.drop()
            return
        code, message = _MESSAGES[status]
        client_ip = self.client[0] if self.client else ""
        request_id = self.guard.rejected(client_ip, status, code)
        body = (message + "\n").encode()
        head = [
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
            "content-type: text/plain; charset=utf-8",
            f"content-length: {len(body)}",
            "connection: close",
        ]
        if request_id is not None:
            head.append(f"x-amzn-requestid: {request_id}")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        self.transport.close()
        self._bound_tls_close()

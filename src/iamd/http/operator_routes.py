"""What the server adds around the AWS application for operators: `/metrics`, and HSTS.

`GET /metrics` answers the Prometheus text format. Without a token it is served to
loopback clients only (a scraper on the same host, or through an SSH tunnel), and
refused with 403 to anyone else; with `--metrics-token` every client must send
`Authorization: Bearer <token>` (compared in constant time), and loopback gets no
exception. `--no-metrics` removes the route (the path then reaches the AWS pipeline
like any other).

Over TLS every answer carries `Strict-Transport-Security`, so a browser that once
reached the console over HTTPS never falls back to plain HTTP.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from iamd.http.app import Message, Receive, Scope, Send
from iamd.telemetry.metrics import CONTENT_TYPE, Metrics

# One year: what `Strict-Transport-Security` asks clients to remember.
HSTS_VALUE = b"max-age=31536000"

METRICS_PATH = "/metrics"
_Asgi = Any  # an ASGI application: (scope, receive, send) -> awaitable


class MetricsEndpoint:
    def __init__(self, metrics: Metrics, token: str | None) -> None:
        self._metrics = metrics
        self._token = token.encode() if token else None

    def answer(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if scope["method"] not in ("GET", "HEAD"):
            return 405, [(b"allow", b"GET, HEAD")], b"Method Not Allowed\n"
        if self._token is not None:
            if not hmac.compare_digest(_bearer(scope["headers"]), b"Bearer " + self._token):
                return 401, [(b"www-authenticate", b'Bearer realm="iamd metrics"')], b""
        elif not _is_loopback(scope.get("client")):
            return 403, [], b"/metrics is served to loopback clients only (see --metrics-token)\n"
        body = self._metrics.render()
        return 200, [(b"content-type", CONTENT_TYPE)], body if scope["method"] == "GET" else b""


class OperatorRoutes:
    """Wraps the ASGI app: `/metrics` when enabled, HSTS on every HTTPS answer."""

    def __init__(self, app: _Asgi, metrics: MetricsEndpoint | None) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if scope.get("scheme") == "https":
            send = _with_hsts(send)
        if self._metrics is not None and scope["path"] == METRICS_PATH:
            status, headers, body = self._metrics.answer(scope)
            if status != 200:
                headers.append((b"content-type", b"text/plain"))
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self._app(scope, receive, send)


def _with_hsts(send: Send) -> Send:
    async def send_with_hsts(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            headers.append((b"strict-transport-security", HSTS_VALUE))
            message = {**message, "headers": headers}
        await send(message)

    return send_with_hsts


def _bearer(headers: list[tuple[bytes, bytes]]) -> bytes:
    for name, value in headers:
        if name.lower() == b"authorization":
            return bytes(value)
    return b""


def _is_loopback(client: tuple[str, int] | None) -> bool:
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback

"""Fetching an OpenID Connect provider's signing keys: discovery document, then JWKS.

`GET {issuer}/.well-known/openid-configuration`, whose `issuer` must be the issuer
itself (OpenID Connect Discovery §4.3) and whose `jwks_uri` must be https, then
`GET {jwks_uri}`: both over https only, with the TLS trust the caller built (the
system's store plus the operator's `--oidc-ca-bundle`), no redirect followed, at most
`max_bytes` per answer and `timeout` seconds for the two together. The deadline is a
watchdog that shuts the socket, so a server that answers one byte at a time cannot
hold a thread past it. Each failure says whether it is worth retrying (a timeout, a
refused connection, a 5xx: IDPCommunicationError) or is the provider's set-up (a
redirect, a 404, a document too large or not JSON: InvalidIdentityToken).

A certificate that the trust store does not vouch for is accepted only through the
provider's thumbprints (`auth/oidc_thumbprints.py`, AWS's fallback): the request is then
made on a second connection, without the store's verification, whose chain must end in
a listed certificate and verify up to it for the URL's host, before anything is sent.
Each endpoint (the discovery document's host and the JWKS's) is held to that on its
own. Which thumbprints apply is the caller's (the provider's, so one account's
thumbprints never decide another's trust).

Blocking: call it from a worker thread, never from the event loop.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from iamd.auth.oidc_thumbprints import ThumbprintMismatch, check_pinned, peer_chain

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT_SECONDS",
    "KeysUnavailable",
    "connect_to_map",
    "fetch_jwks",
    "pinned_context",
    "tls_context",
]

DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_BYTES = 64 * 1024
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
#: A JWKS with more keys than this is not a provider's: refused rather than searched.
MAX_KEYS = 100
_CHUNK = 8192


class KeysUnavailable(Exception):
    """The provider's keys could not be had; `transient`: a retry may succeed."""

    def __init__(self, reason: str, *, transient: bool, untrusted: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient
        #: The certificate was neither trusted by the store nor by a thumbprint.
        self.untrusted = untrusted


def tls_context(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """Certificate and host name checks against the system's trust store, plus the
    certificates of `ca_bundle` (PEM). ValueError when the bundle cannot be read."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot read the CA bundle {ca_bundle}: {exc}") from None
    return context


def pinned_context() -> ssl.SSLContext:
    """The context of a thumbprint check's connection: TLS 1.2 or later as usual, but
    the chain is not verified by the handshake (`oidc_thumbprints.check_pinned` does
    it), so no CA store is loaded (that alone costs about 100 ms)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # The chain is checked once, after the handshake: no renegotiation may bring another.
    context.options |= ssl.OP_NO_RENEGOTIATION
    return context


def connect_to_map(entries: Collection[str]) -> dict[str, tuple[str, int]]:
    """`HOST=ADDRESS:PORT` entries (tests only) as {HOST: (ADDRESS, PORT)}; ValueError
    for one that is not of that form."""
    mapped: dict[str, tuple[str, int]] = {}
    for entry in entries:
        host, _, target = entry.partition("=")
        address, _, port = target.rpartition(":")
        if not host or not address or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{entry!r} is not HOST=ADDRESS:PORT")
        mapped[host.lower()] = (address, int(port))
    return mapped


def fetch_jwks(
    issuer: str,
    context: ssl.SSLContext,
    *,
    thumbprints: Collection[str] = (),
    connect_to: Mapping[str, tuple[str, int]] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[dict[str, Any]]:
    """The `keys` of the issuer's JWKS, each a JSON object (unvalidated JWKs);
    `thumbprints`: the provider's, for a certificate the trust store does not vouch for;
    `connect_to` (tests only): host -> the address and port to connect to instead, the
    certificate still checked for the host."""
    deadline = time.monotonic() + timeout
    trust = _Trust(context, tuple(thumbprints), dict(connect_to or {}))
    configuration = _get_json(issuer.rstrip("/") + DISCOVERY_SUFFIX, trust, deadline, max_bytes)
    if configuration.get("issuer") != issuer:
        raise KeysUnavailable("the discovery document names another issuer", transient=False)
    jwks_uri = configuration.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise KeysUnavailable("the discovery document has no jwks_uri", transient=False)
    jwks = _get_json(jwks_uri, trust, deadline, max_bytes)
    keys = jwks.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise KeysUnavailable("the JWKS has no list of keys", transient=False)
    if len(keys) > MAX_KEYS:
        raise KeysUnavailable(f"the JWKS has more than {MAX_KEYS} keys", transient=False)
    return keys


_PINNED = pinned_context()


@dataclass(frozen=True, slots=True)
class _Trust:
    context: ssl.SSLContext
    thumbprints: tuple[str, ...]
    connect_to: dict[str, tuple[str, int]]


class _ConnectTo(http.client.HTTPSConnection):
    """An https connection to `host` whose TCP connection goes to `address` (tests'
    --test-oidc-connect-to): SNI, the certificate check and the Host header are the
    host's."""

    def __init__(
        self,
        host: str,
        port: int | None,
        address: tuple[str, int],
        *,
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection(self._address, self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _get_json(url: str, trust: _Trust, deadline: float, max_bytes: int) -> Mapping[str, Any]:
    try:
        return _get_json_with(url, trust, trust.context, deadline, max_bytes, ())
    except ssl.SSLCertVerificationError:
        if not trust.thumbprints:
            raise KeysUnavailable(
                "the certificate is not trusted and the provider has no thumbprints",
                transient=False,
                untrusted=True,
            ) from None
    return _get_json_with(url, trust, _PINNED, deadline, max_bytes, trust.thumbprints)


def _get_json_with(
    url: str,
    trust: _Trust,
    context: ssl.SSLContext,
    deadline: float,
    max_bytes: int,
    thumbprints: tuple[str, ...],
) -> Mapping[str, Any]:
    """GET `url`; with `thumbprints`, `context` verifies nothing and the connection's
    chain is checked against them before the request is sent. An untrusted certificate
    without them raises ssl.SSLCertVerificationError for the caller to decide."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username is not None:
        raise KeysUnavailable("a key URL is not https", transient=False)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise KeysUnavailable("timed out", transient=True)
    try:
        port = parts.port
    except ValueError:
        raise KeysUnavailable("a key URL has a bad port", transient=False) from None
    address = trust.connect_to.get(parts.hostname.lower())
    connection = (
        http.client.HTTPSConnection(parts.hostname, port, timeout=remaining, context=context)
        if address is None
        else _ConnectTo(parts.hostname, port, address, timeout=remaining, context=context)
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    expired = threading.Event()

    def watchdog() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(remaining, watchdog)
    timer.daemon = True
    timer.start()
    try:
        if thumbprints:
            connection.connect()
            _check_thumbprints(connection, parts.hostname, thumbprints)
        connection.request(
            "GET", path, headers={"Accept": "application/json", "User-Agent": "iamd"}
        )
        response = connection.getresponse()
        body = _body(response, connection, deadline, max_bytes)
    except (KeysUnavailable, ssl.SSLCertVerificationError):
        raise
    except (OSError, http.client.HTTPException):
        if expired.is_set() or time.monotonic() >= deadline:
            raise KeysUnavailable("timed out", transient=True) from None
        raise KeysUnavailable("the connection failed", transient=True) from None
    finally:
        timer.cancel()
        connection.close()
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise KeysUnavailable("an answer is not JSON", transient=False) from None
    if not isinstance(document, dict):
        raise KeysUnavailable("an answer is not a JSON object", transient=False)
    return document


def _check_thumbprints(
    connection: http.client.HTTPSConnection, host: str, thumbprints: tuple[str, ...]
) -> None:
    sock = connection.sock
    if not isinstance(sock, ssl.SSLSocket):
        raise KeysUnavailable("no TLS connection to check", transient=False, untrusted=True)
    try:
        check_pinned(peer_chain(sock), host, thumbprints)
    except ThumbprintMismatch as mismatch:
        raise KeysUnavailable(
            f"the certificate is not trusted and matches no thumbprint ({mismatch})",
            transient=False,
            untrusted=True,
        ) from None


def _body(
    response: http.client.HTTPResponse,
    connection: http.client.HTTPSConnection,
    deadline: float,
    max_bytes: int,
) -> bytes:
    status = response.status
    if 300 <= status < 400:
        raise KeysUnavailable(f"answered {status}; redirects are not followed", transient=False)
    if status >= 500 or status == 429:
        raise KeysUnavailable(f"answered {status}", transient=True)
    if status != 200:
        raise KeysUnavailable(f"answered {status}", transient=False)
    length = response.getheader("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise KeysUnavailable(f"an answer is larger than {max_bytes} bytes", transient=False)
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KeysUnavailable("timed out", transient=True)
        if connection.sock is not None:
            connection.sock.settimeout(remaining)
        chunk = response.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise KeysUnavailable(f"an answer is larger than {max_bytes} bytes", transient=False)
        chunks.append(chunk)

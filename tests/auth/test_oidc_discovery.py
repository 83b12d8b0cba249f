"""The https fetch of a provider's keys (auth/oidc_discovery.fetch_jwks) against real
TLS servers on loopback: what a discovery document must say, and the thumbprint rule
when the discovery document and the JWKS are served from two hosts with certificates
of two CAs the trust store does not know."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from tests.support.oidc_provider import IdpCa, make_ca

from iamd.auth.oidc_discovery import KeysUnavailable, connect_to_map, fetch_jwks, tls_context
from iamd.auth.oidc_thumbprints import thumbprint

KEYS = [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]


@dataclass
class _Site:
    """One https server; `documents` maps a path to the JSON it answers."""

    httpd: ThreadingHTTPServer
    ca: IdpCa
    documents: dict[str, Any]

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def ca_thumbprint(self) -> str:
        return thumbprint(x509.load_pem_x509_certificate(self.ca.ca_file.read_bytes()))


def _site(directory: Path) -> _Site:
    ca = make_ca(directory, serve_chain=True)
    documents: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(documents.get(self.path, {})).encode()
            self.send_response(200 if self.path in documents else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(ca.cert_file), str(ca.key_file))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return _Site(httpd, ca, documents)


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[tuple[_Site, _Site]]:
    discovery, keys = _site(tmp_path / "discovery"), _site(tmp_path / "keys")
    try:
        yield discovery, keys
    finally:
        for site in (discovery, keys):
            site.httpd.shutdown()
            site.httpd.server_close()


def _publish(discovery: _Site, keys: _Site, **overrides: Any) -> str:
    """The discovery document at 127.0.0.1, its JWKS at localhost (another host, another
    certificate); the issuer URL."""
    issuer = f"https://127.0.0.1:{discovery.port}"
    discovery.documents["/.well-known/openid-configuration"] = {
        "issuer": issuer,
        "jwks_uri": f"https://localhost:{keys.port}/jwks",
        **overrides,
    }
    keys.documents["/jwks"] = {"keys": KEYS}
    return issuer


def test_each_endpoint_is_held_to_the_thumbprints(sites: tuple[_Site, _Site]) -> None:
    discovery, keys = sites
    issuer = _publish(discovery, keys)
    store = tls_context()
    # Neither CA is in the store: without thumbprints, or with the discovery host's
    # only, the JWKS's certificate is not trusted (AWS checks both endpoints).
    for listed in ([], [discovery.ca_thumbprint], [keys.ca_thumbprint]):
        with pytest.raises(KeysUnavailable) as raised:
            fetch_jwks(issuer, store, thumbprints=listed)
        assert raised.value.untrusted, listed
        assert not raised.value.transient
    both = [discovery.ca_thumbprint, keys.ca_thumbprint]
    assert fetch_jwks(issuer, store, thumbprints=both) == KEYS
    # A store that trusts both CAs needs no thumbprint, and ignores wrong ones.
    bundle = discovery.ca.ca_file.parent / "both.pem"
    bundle.write_bytes(discovery.ca.ca_file.read_bytes() + keys.ca.ca_file.read_bytes())
    assert fetch_jwks(issuer, tls_context(bundle), thumbprints=["0" * 40]) == KEYS


def test_what_the_discovery_document_must_say(sites: tuple[_Site, _Site]) -> None:
    discovery, keys = sites
    bundle = discovery.ca.ca_file.parent / "both.pem"
    bundle.write_bytes(discovery.ca.ca_file.read_bytes() + keys.ca.ca_file.read_bytes())
    trusted = tls_context(bundle)
    cases: dict[str, dict[str, Any]] = {
        "another issuer": {"issuer": "https://idp.example.com"},
        "no jwks_uri": {"jwks_uri": None},
        "an http jwks_uri": {"jwks_uri": f"http://localhost:{keys.port}/jwks"},
        "a jwks_uri with credentials": {"jwks_uri": f"https://u:p@localhost:{keys.port}/jwks"},
    }
    for case, overrides in cases.items():
        issuer = _publish(discovery, keys, **overrides)
        with pytest.raises(KeysUnavailable) as raised:
            fetch_jwks(issuer, trusted)
        assert not raised.value.transient, case
        assert not raised.value.untrusted, case
    issuer = _publish(discovery, keys)
    keys.documents["/jwks"] = {"keys": "not a list"}
    with pytest.raises(KeysUnavailable, match="no list of keys"):
        fetch_jwks(issuer, trusted)


def test_the_tests_connect_to_entries() -> None:
    assert connect_to_map(["Token.Example=127.0.0.1:8443", "b=::1:9"]) == {
        "token.example": ("127.0.0.1", 8443),
        "b": ("::1", 9),
    }
    for bad in ("host", "host=addr", "host=:1", "=a:1", "h=a:0", "h=a:99999", "h=a:x"):
        with pytest.raises(ValueError, match="is not HOST=ADDRESS:PORT"):
            connect_to_map([bad])

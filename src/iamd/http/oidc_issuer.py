"""The OIDC issuer's public documents: each account's discovery document and JWKS.

``GET /oidc/{issuer_id}/.well-known/openid-configuration`` and ``.../jwks.json``,
unauthenticated as every OIDC issuer's are (a verifier has no credentials here), read
from the database on a worker thread. An unknown issuer, another path under /oidc/ or a
malformed id is 404; a method other than GET or HEAD is 405. The answers may be cached
for five minutes: a new key is published a day before it signs anything.
"""

from __future__ import annotations

import json
import re
from typing import Any

from iamd.errors import AwsError
from iamd.http.pipeline import HttpResponse
from iamd.services.container import Services
from iamd.services.outbound_federation import DISCOVERY_SUFFIX, ISSUER_PATH, JWKS_SUFFIX

_ISSUER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_JSON = (b"content-type", b"application/json")


class OidcIssuerEndpoint:
    def __init__(self, services: Services) -> None:
        self._federation = services.outbound_federation

    def handle(self, method: str, path: str) -> HttpResponse:
        if method not in ("GET", "HEAD"):
            return HttpResponse(405, [_JSON, (b"allow", b"GET, HEAD")], _body("Method Not Allowed"))
        try:
            document = self._document(path)
        except AwsError as error:
            # The database out of reach (ServiceUnavailable, 503): verifiers retry.
            return HttpResponse(error.status, [_JSON], _body(error.message))
        if document is None:
            return HttpResponse(404, [_JSON], _body("Not Found"))
        body = json.dumps(document, separators=(",", ":")).encode()
        headers = [_JSON, (b"cache-control", b"public, max-age=300")]
        # HEAD: uvicorn sends the head (with GET's Content-Length) and drops the body.
        return HttpResponse(200, headers, body)

    def _document(self, path: str) -> dict[str, Any] | None:
        rest = path.removeprefix(ISSUER_PATH)
        for suffix, read in (
            (DISCOVERY_SUFFIX, self._federation.discovery),
            (JWKS_SUFFIX, self._federation.jwks),
        ):
            issuer_id = rest.removesuffix(suffix)
            if issuer_id != rest and _ISSUER_ID.fullmatch(issuer_id):
                return read(issuer_id)
        return None


def _body(message: str) -> bytes:
    return json.dumps({"message": message}).encode()

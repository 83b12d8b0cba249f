"""The password sign-in endpoint (`POST /_iamd/signin`) as the console calls it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.support.servers import RunningServer


def sign_in(server: RunningServer, account: str, user: str, password: str) -> tuple[int, str]:
    """POST /_iamd/signin as the console does: (HTTP status, outcome)."""
    body = json.dumps({"account": account, "userName": user, "password": password}).encode()
    request = urllib.request.Request(  # noqa: S310 - our own http:// endpoint
        f"{server.endpoint}/_iamd/signin",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, str(json.loads(response.read())["outcome"])
    except urllib.error.HTTPError as error:
        return error.code, str(json.loads(error.read())["outcome"])

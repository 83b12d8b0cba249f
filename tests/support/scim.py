"""A SCIM client as identity providers are (plain HTTPS/HTTP requests with a bearer
token), and the token `iamd identity-center scim-token create` prints."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.support.servers import RunningServer


def scim_token_command(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    database = server.env.get("IAMD_DATABASE_URL")
    return subprocess.run(
        [
            *(sys.executable, "-m", "iamd", "identity-center", "scim-token", *args),
            *("--data-dir", str(server.data_dir)),
            *(("--database-url", database) if database else ()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def create_scim_token(server: RunningServer, instance_arn: str) -> dict[str, str]:
    done = scim_token_command(server, "create", "--instance-arn", instance_arn)
    assert done.returncode == 0, done.stderr
    created: dict[str, str] = json.loads(done.stdout)
    return created


@dataclass(frozen=True)
class ScimAnswer:
    status: int
    document: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class ScimClient:
    base: str  # http://127.0.0.1:PORT/<tenant>/scim/v2
    token: str
    content_type: str = "application/scim+json"
    user_agent: str = "Okta SCIM Client 1.0.0"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        raw: bytes | None = None,
        token: str | None = None,
    ) -> ScimAnswer:
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {token if token is not None else self.token}")
        request.add_header("User-Agent", self.user_agent)
        request.add_header("Accept", "application/scim+json")
        if data is not None:
            request.add_header("Content-Type", f"{self.content_type}; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                payload = response.read()
                status = response.status
                headers = dict(response.headers.items())
        except urllib.error.HTTPError as error:
            payload = error.read()
            status = error.code
            headers = dict(error.headers.items())
        document = json.loads(payload) if payload else None
        return ScimAnswer(status, document, {k.lower(): v for k, v in headers.items()})

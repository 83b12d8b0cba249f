"""Signed requests with any bytes for a body, for the input no SDK would send."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET

FORM = "application/x-www-form-urlencoded; charset=utf-8"
AMZ_JSON = "application/x-amz-json-1.1"
CODECOMMIT_TARGET = "CodeCommit_20150413."


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def code(self) -> str | None:
        """The AWS error code of an XML or JSON error body."""
        text = self.body.decode("utf-8", "replace")
        found = re.search(r"<Code>([^<]*)</Code>", text)
        if found:
            return found.group(1)
        try:
            document = json.loads(text)
        except ValueError:
            return None
        return document.get("__type") if isinstance(document, dict) else None

    @property
    def message(self) -> str:
        text = self.body.decode("utf-8", "replace")
        found = re.search(r"<Message>([^<]*)</Message>", text)
        if found:
            return found.group(1)
        try:
            document: Any = json.loads(text)
        except ValueError:
            return text
        return str(document.get("message", "")) if isinstance(document, dict) else text


@dataclass(frozen=True)
class Signed:
    """A request signed now, to be sent later (within SigV4's 15 minutes)."""

    url: str
    body: bytes
    headers: dict[str, str]

    def send(self, *, timeout: float = 30) -> Answer:
        return send(self.url, self.body, self.headers, timeout=timeout)


def signed(
    endpoint: str,
    body: bytes,
    *,
    service: str = "iam",
    content_type: str = FORM,
    headers: dict[str, str] | None = None,
    key_id: str = ADMIN_KEY_ID,
    secret: str = ADMIN_SECRET,
    path: str = "/",
) -> Signed:
    request = AWSRequest(
        method="POST",
        url=endpoint + path,
        data=body,
        headers={"Content-Type": content_type, **(headers or {})},
    )
    SigV4Auth(Credentials(key_id, secret), service, "us-east-1").add_auth(request)
    return Signed(endpoint + path, body, dict(request.headers.items()))


def post(
    endpoint: str,
    body: bytes,
    *,
    service: str = "iam",
    content_type: str = FORM,
    headers: dict[str, str] | None = None,
    key_id: str = ADMIN_KEY_ID,
    secret: str = ADMIN_SECRET,
    path: str = "/",
    timeout: float = 30,
) -> Answer:
    """POST `body` as is, signed with SigV4 for `service`."""
    request = signed(
        endpoint,
        body,
        service=service,
        content_type=content_type,
        headers=headers,
        key_id=key_id,
        secret=secret,
        path=path,
    )
    return request.send(timeout=timeout)


def codecommit(endpoint: str, operation: str, body: bytes, **kwargs: Any) -> Answer:
    return post(
        endpoint,
        body,
        service="codecommit",
        content_type=AMZ_JSON,
        headers={"X-Amz-Target": CODECOMMIT_TARGET + operation},
        **kwargs,
    )


def send(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 30) -> Answer:
    request = urllib.request.Request(  # noqa: S310 - our own http:// endpoint
        url, data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read())


def sign_in(endpoint: str, body: bytes, content_type: str = "application/json") -> Answer:
    return send(f"{endpoint}/_iamd/signin", body, {"Content-Type": content_type})

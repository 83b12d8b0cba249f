"""Hand-made signed requests, for the authentication cases boto3 would never send."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from unittest import mock

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: str

    @property
    def error_code(self) -> str | None:
        found = re.search(r"<Code>([^<]*)</Code>", self.body)
        return found.group(1) if found else None

    @property
    def error_message(self) -> str | None:
        found = re.search(r"<Message>([^<]*)</Message>", self.body)
        return found.group(1) if found else None


def signed_post(
    endpoint: str,
    body: str,
    key_id: str,
    secret: str,
    *,
    when: datetime | None = None,
    region: str = "us-east-1",
    service: str = "iam",
    token: str | None = None,
) -> AWSRequest:
    request = AWSRequest(
        method="POST", url=endpoint + "/", data=body, headers={"Content-Type": FORM}
    )
    signer = SigV4Auth(Credentials(key_id, secret, token), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    return request


def presigned_get(
    endpoint: str,
    query: str,
    key_id: str,
    secret: str,
    *,
    service: str = "iam",
    expires: int = 900,
    token: str | None = None,
) -> str:
    request = AWSRequest(method="GET", url=f"{endpoint}/?{query}")
    SigV4QueryAuth(
        Credentials(key_id, secret, token), service, "us-east-1", expires=expires
    ).add_auth(request)
    return str(request.url)


def send(request: AWSRequest) -> RawResponse:
    prepared = request.prepare()
    raw = urllib.request.Request(  # noqa: S310 - our own http:// endpoint
        prepared.url,
        data=prepared.body
        if isinstance(prepared.body, bytes)
        else (prepared.body or "").encode()
        if prepared.body
        else None,
        headers=dict(prepared.headers.items()),
        method=prepared.method,
    )
    return _open(raw)


def send_raw(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> RawResponse:
    return _open(urllib.request.Request(url, data=data, headers=headers or {}))  # noqa: S310


def _open(request: urllib.request.Request) -> RawResponse:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return RawResponse(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return RawResponse(error.code, error.read().decode())

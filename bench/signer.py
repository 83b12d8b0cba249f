"""Sign IAM Query-protocol requests exactly as botocore does, and render them as raw HTTP/1.1.

The request is built by botocore's own ``query`` serializer from the IAM service model, turned
into a ``botocore.awsrequest.AWSRequest`` by the same helpers the endpoint uses, and signed with
``botocore.auth.SigV4Auth`` (service ``iam``). Only the transport differs: the bytes are replayed
by a load generator instead of urllib3. A signature stays valid for 15 minutes and the servers
accept replays, so one signing can be sent many times.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.serialize
import botocore.session

REGION = "us-east-1"
SERVICE = "iam"


@dataclasses.dataclass(frozen=True)
class SignedRequest:
    """One signed request, ready to be written to a keep-alive connection."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def raw(self) -> bytes:
        head = [f"{self.method} {self.path} HTTP/1.1"]
        head.extend(f"{name}: {value}" for name, value in self.headers)
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.body


class IamSigner:
    """Serializes and signs IAM operations for one loopback endpoint and one key pair."""

    def __init__(self, host: str, port: int, access_key_id: str, secret_access_key: str) -> None:
        session = botocore.session.get_session()
        self._model = session.get_service_model(SERVICE)
        self._serializer = botocore.serialize.create_serializer("query", include_validation=True)
        credentials = botocore.credentials.Credentials(access_key_id, secret_access_key)
        self._auth = botocore.auth.SigV4Auth(credentials, SERVICE, REGION)
        self.endpoint_url = f"http://{host}:{port}"
        # urllib3 sends the port in Host whenever it is not the scheme's default, and botocore
        # signs the same ``host`` value; both are what the servers will see.
        self.host_header = f"{host}:{port}"
        self._user_agent = f"Botocore/{botocore.__version__} iamd-bench"

    def sign(self, operation: str, params: dict[str, Any] | None = None) -> SignedRequest:
        operation_model = self._model.operation_model(operation)
        request_dict = self._serializer.serialize_to_request(params or {}, operation_model)
        botocore.awsrequest.prepare_request_dict(
            request_dict, endpoint_url=self.endpoint_url, user_agent=self._user_agent
        )
        request = botocore.awsrequest.create_request_object(request_dict)
        self._auth.add_auth(request)
        prepared = request.prepare()
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        url = prepared.url
        path = url[len(self.endpoint_url) :] or "/"
        headers: list[tuple[str, str]] = [("Host", self.host_header)]
        headers.extend((str(k), str(v)) for k, v in prepared.headers.items())
        if not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("Content-Length", str(len(body))))
        headers.append(("Accept-Encoding", "identity"))
        return SignedRequest(prepared.method, path, tuple(headers), body)

    def sign_raw(self, operation: str, params: dict[str, Any] | None = None) -> bytes:
        return self.sign(operation, params).raw()


def tamper(request: SignedRequest) -> SignedRequest:
    """The same request with one signature hex digit changed (must be rejected with 403)."""
    headers = []
    for name, value in request.headers:
        if name.lower() == "authorization":
            headers.append((name, value[:-1] + ("0" if value[-1] != "0" else "1")))
        else:
            headers.append((name, value))
    return dataclasses.replace(request, headers=tuple(headers))

"""The ASGI app's last resort: InternalFailure for whatever failed outside the pipeline.

A request that fails in a way nobody foresaw (reading its body, routing, sign-in, a bug
in the pipeline's own error handling) gets AWS's InternalFailure envelope with a request
id and an access-log line, never uvicorn's bare "Internal Server Error"; the exception is
logged through `FailureLog`, so once per distinct failure.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence

from iamd.errors import InternalFailure
from iamd.http.failure_log import FailureLog
from iamd.http.pipeline import HttpResponse
from iamd.protocol import JsonCodec, QueryCodec
from iamd.telemetry.access_log import AccessLog


class UnexpectedFailures:
    """The ASGI app's last resort: InternalFailure for what failed outside the pipeline."""

    def __init__(
        self,
        request_id: Callable[[], str],
        access_log: AccessLog | None,
        *,
        logger: logging.Logger | None = None,
    ) -> None:
        self._request_id = request_id
        self._access_log = access_log
        self._failures = FailureLog(logger or logging.getLogger("iamd.request"))
        self._query = QueryCodec("iam")
        self._json = JsonCodec("codecommit")

    def respond(
        self,
        exc: BaseException,
        *,
        path: str,
        headers: Sequence[tuple[bytes, bytes]],
        client_ip: str,
        started: float,
        sign_in_path: str,
    ) -> HttpResponse:
        request_id = self._request_id()
        self._failures.exception(exc, "request %s failed outside the pipeline", request_id)
        failure = InternalFailure()
        if path == sign_in_path:
            content_type = b"application/json"
            body = json.dumps({"outcome": "internal_failure", "requestId": request_id}).encode()
        elif any(name == b"x-amz-target" for name, _ in headers):
            content_type = self._json.content_type
            body = self._json.serialize_error(failure, request_id)
        else:
            content_type = self._query.content_type
            body = self._query.serialize_error(failure, request_id)
        if self._access_log is not None:
            self._access_log.record(
                request_id,
                client_ip,
                "-",
                "-",
                failure.status,
                failure.code,
                (time.perf_counter() - started) * 1000,
            )
        return HttpResponse(
            failure.status,
            [
                (b"content-type", content_type),
                (b"x-amzn-requestid", request_id.encode("ascii")),
                (b"connection", b"close"),
            ],
            body,
        )

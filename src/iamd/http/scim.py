"""The SCIM 2.0 endpoint of each Identity Center instance:
`/<identity store id>/scim/v2/...` on iamd's port (AWS's is
`https://scim.<region>.amazonaws.com/<tenant id>/scim/v2/`; iamd's tenant is the store id).

Each request carries one of the instance's SCIM tokens as `Authorization: Bearer ...`;
a missing, unknown, expired or other instance's token is 401 in SCIM's error format,
and nothing is read or written. Bodies are JSON (`application/scim+json` or
`application/json`) of at most 256 KiB. Every answer is JSON; errors are RFC 7644's
`urn:ietf:params:scim:api:messages:2.0:Error` with AWS's statuses. Runs on a worker
thread (every call reads the database). No token reaches a log, an answer or the trail.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from iamd.http.failure_log import FailureLog
from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.model.identity_center import Instance, ScimToken
from iamd.operations.scim.discovery import MAX_PAYLOAD
from iamd.operations.scim.endpoints import ScimEndpoints
from iamd.operations.scim.problems import ERROR_SCHEMA, ScimProblem, invalid_syntax
from iamd.protocol.form import header
from iamd.services.container import Services
from iamd.services.identity_center_trail import RequestFacts
from iamd.services.scim_trail import scim_event
from iamd.services.trail import TrailRecorder

log = logging.getLogger(__name__)
_failures = FailureLog(log)

#: The part of a path that marks a SCIM request (checked on the event loop: cheap).
SCIM_MARK = "/scim/v2"
_PATH = re.compile(r"/(?P<tenant>[A-Za-z0-9-]{1,64})/scim/v2(?P<rest>/[^?]*)?")
_JSON = b"application/json"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_scim_path(path: str) -> bool:
    return SCIM_MARK in path and _PATH.fullmatch(path) is not None


class ScimFront:
    def __init__(
        self, services: Services, trail: TrailRecorder | None = None, region: str = "us-east-1"
    ) -> None:
        self._services = services
        self._trail = trail
        self._region = region

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = self._services.ids.request_id()
        try:
            return self._answer(request, request_id)
        except ScimProblem as problem:
            return _problem(problem, request_id, self._services.clock.now().isoformat())
        except Exception as exc:
            _failures.exception(exc, "SCIM request failed (%s)", request_id)
            return _problem(
                ScimProblem(500, "Service failed to process the request."),
                request_id,
                self._services.clock.now().isoformat(),
            )

    def _answer(self, request: HttpRequest, request_id: str) -> HttpResponse:
        path = request.raw_path.decode("latin-1").split("?", 1)[0]
        found = _PATH.fullmatch(path)
        if found is None:
            raise ScimProblem(404, "Unknown SCIM resource.")
        authorization = header(request.headers, b"authorization") or ""
        scheme, _, secret = authorization.partition(" ")
        signed_in = (
            self._services.scim_tokens.authenticate(found.group("tenant"), secret.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if signed_in is None:
            # One answer for a missing, wrong, expired or other tenant's token (AWS's).
            raise ScimProblem(401, "The authorization header is invalid or missing.")
        instance, token = signed_in
        segments = [unquote(part) for part in (found.group("rest") or "").split("/") if part]
        try:
            body = _body(request)
            query = _query(request)
            store = self._services.in_account(instance.owner_account_id).identity_store
            answer = ScimEndpoints(store, instance.identity_store_id).answer(
                request.method, segments, query, body
            )
        except ScimProblem as problem:
            self._record(
                request,
                request_id,
                instance,
                token,
                _event_of(request.method, segments),
                segments,
                problem,
            )
            raise
        self._record(
            request, request_id, instance, token, answer.event, segments, None, answer.resource_id
        )
        headers = [(b"content-type", _JSON), (b"x-amzn-requestid", request_id.encode("ascii"))]
        if answer.document is None:
            return HttpResponse(answer.status, headers, b"")
        return HttpResponse(answer.status, headers, json.dumps(answer.document).encode())

    def _record(
        self,
        request: HttpRequest,
        request_id: str,
        instance: Instance,
        token: ScimToken,
        event: str,
        segments: list[str],
        problem: ScimProblem | None,
        resource_id: str | None = None,
    ) -> None:
        if self._trail is None:
            return
        if resource_id is None and len(segments) == 2 and segments[0] in ("Users", "Groups"):
            resource_id = segments[1][:64]
        host = header(request.headers, b"host")
        facts = RequestFacts(
            when=self._services.clock.now(),
            source_ip=request.client_ip,
            user_agent=header(request.headers, b"user-agent") or None,
            request_id=request_id,
            region=self._region,
            tls_host=(host or "") if request.secure else None,
            tls=request.tls,
        )
        error = (problem.code, problem.detail) if problem is not None else None
        self._trail.record(scim_event(instance, token, facts, event, resource_id, error))


def _event_of(method: str, segments: list[str]) -> str:
    """The operation a refused request was for (the trail's eventName)."""
    if not segments:
        return "Unknown"
    kind = {"Users": "User", "Groups": "Group"}.get(segments[0])
    if kind is None:
        single = len(segments) > 1
        return {
            "ServiceProviderConfig": "GetServiceProviderConfig",
            "Schemas": "GetSchema" if single else "ListSchemas",
            "ResourceTypes": "GetResourceType" if single else "ListResourceTypes",
        }.get(segments[0], "Unknown")
    if len(segments) == 1:
        return f"Create{kind}" if method == "POST" else f"List{kind}s"
    return {
        "GET": f"Get{kind}",
        "PUT": f"Put{kind}",
        "PATCH": f"Patch{kind}",
        "DELETE": f"Delete{kind}",
    }.get(method, f"Get{kind}")


def _body(request: HttpRequest) -> Any:
    if request.method not in _BODY_METHODS:
        return None
    if len(request.body) > MAX_PAYLOAD:
        raise ScimProblem(413, f"The request body is larger than {MAX_PAYLOAD} bytes.")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise invalid_syntax("The request body is not valid JSON.") from None


def _query(request: HttpRequest) -> dict[str, str]:
    try:
        pairs = parse_qsl(request.raw_query.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise invalid_syntax("The query string is not UTF-8.") from None
    return {key: value for key, value in pairs}


def _problem(problem: ScimProblem, request_id: str, when: str) -> HttpResponse:
    document: dict[str, Any] = {
        "schemas": [ERROR_SCHEMA],
        "status": str(problem.status),
        "detail": problem.detail,
    }
    if problem.scim_type is not None:
        document["scimType"] = problem.scim_type
    document["exceptionRequestId"] = request_id
    document["timeStamp"] = when
    headers = [(b"content-type", _JSON), (b"x-amzn-requestid", request_id.encode("ascii"))]
    if problem.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="SCIM"'))
    return HttpResponse(problem.status, headers, json.dumps(document).encode())

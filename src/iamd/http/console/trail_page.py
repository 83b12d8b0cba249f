"""The audit trail (`/console/trail`): recent events with a filter (one lookup
attribute, as LookupEvents takes) and pages, each with who, what, from where and its
error. It is CloudTrail's LookupEvents run as the signed-in user (or its role), so the
user's policies decide whether they may read it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from iamd.errors import AwsError
from iamd.http.console import pages
from iamd.http.console.as_user import bar
from iamd.http.console.credentials_page import when
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession

TRAIL_PAGE = f"{pages.PREFIX}/trail"
#: LookupEvents' attributes, as its AttributeKey names them.
ATTRIBUTES = (
    "EventName",
    "Username",
    "ResourceName",
    "ResourceType",
    "EventSource",
    "AccessKeyId",
    "ReadOnly",
    "EventId",
)
PAGE_SIZE = 50


class TrailPage:
    def __init__(self, pipeline: AwsPipeline) -> None:
        self._pipeline = pipeline

    def __call__(
        self, request: HttpRequest, session: ConsoleSession, credential: ResolvedCredential
    ) -> HttpResponse:
        try:
            query = dict(parse_qsl(request.raw_query.decode("utf-8")))
        except (UnicodeDecodeError, ValueError):
            query = {}
        key = query.get("key", "")
        if key not in ATTRIBUTES:
            key = ATTRIBUTES[0]
        value = query.get("value", "").strip()[:2000]
        body: dict[str, Any] = {"MaxResults": PAGE_SIZE}
        if value:
            body["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
        if query.get("next"):
            body["NextToken"] = query["next"][:4096]
        rows: list[dict[str, str]] = []
        denied = None
        next_token = None
        try:
            found = (
                self._pipeline.run_json_as(request, credential, "cloudtrail", "LookupEvents", body)
                or {}
            )
        except AwsError as error:
            denied = f"{error.code}: {error.message}"
        else:
            rows = [_row(event) for event in found.get("Events", [])]
            next_token = found.get("NextToken")
        return pages.render(
            200 if denied is None else 400,
            "trail.html",
            title="Audit trail",
            **bar(session),
            attributes=ATTRIBUTES,
            key=key,
            value=value,
            rows=rows,
            denied=denied,
            next_token=next_token,
        )


def _row(event: Mapping[str, Any]) -> dict[str, str]:
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {}
    return {
        "time": when(event.get("EventTime")),
        "name": str(event.get("EventName", "")),
        "source": str(event.get("EventSource", "")),
        "user": str(event.get("Username") or record.get("userIdentity", {}).get("arn", "-")),
        "ip": str(record.get("sourceIPAddress", "")),
        "error": str(record.get("errorCode") or ""),
        "resources": ", ".join(r.get("ResourceName", "") for r in event.get("Resources", [])),
        "console": "yes" if record.get("sessionCredentialFromConsole") == "true" else "",
    }

"""CloudTrail operations (API version 2013-11-01, JSON protocol): LookupEvents over
the audit trail of the caller's account (services/trail.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from iamd.errors import (
    AwsError,
    InvalidLookupAttributesException,
    InvalidMaxResultsException,
    InvalidNextTokenException,
    InvalidTimeRangeException,
)
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.trail import DEFAULT_RETENTION_DAYS
from iamd.services.trail import lookup_events as find_events

DEFAULT_MAX_RESULTS = 50

log = logging.getLogger("iamd.trail")


def _binding(params: Params) -> str:
    """What a NextToken is bound to: the lookup's own parameters (not MaxResults)."""
    bound = {
        "a": [
            [a.get("AttributeKey"), a.get("AttributeValue")]
            for a in params.get("LookupAttributes") or []
        ],
        "s": params["StartTime"].isoformat() if params.get("StartTime") else None,
        "e": params["EndTime"].isoformat() if params.get("EndTime") else None,
        "c": params.get("EventCategory"),
    }
    return hashlib.sha256(json.dumps(bound, sort_keys=True).encode()).hexdigest()[:24]


def _token(cursor: tuple[int, str], params: Params) -> str:
    raw = json.dumps([cursor[0], cursor[1], _binding(params)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(token: str, params: Params) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        when, event_id, binding = json.loads(raw)
    except (ValueError, TypeError):
        raise InvalidNextTokenException() from None
    if (
        not isinstance(when, int)
        or not isinstance(event_id, str)
        or len(event_id) > 64
        or binding != _binding(params)
    ):
        raise InvalidNextTokenException()
    return when, event_id


def lookup_events(ctx: CallContext, p: Params) -> Result:
    attributes = p.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise InvalidLookupAttributesException("You cannot specify more than one lookup attribute.")
    attribute: tuple[str, str] | None = None
    if attributes:
        key, value = attributes[0].get("AttributeKey"), attributes[0].get("AttributeValue")
        if not key or value is None:
            raise InvalidLookupAttributesException(
                "A lookup attribute needs an AttributeKey and an AttributeValue."
            )
        if key == "ReadOnly" and value not in ("true", "false"):
            raise InvalidLookupAttributesException(
                "The value of the ReadOnly lookup attribute must be true or false."
            )
        attribute = (key, value)
    max_results = p.get("MaxResults", DEFAULT_MAX_RESULTS)
    if not 1 <= max_results <= 50:
        raise InvalidMaxResultsException()
    now = ctx.now or ctx.services.clock.now()
    end: datetime = p.get("EndTime") or now
    start: datetime = p.get("StartTime") or (now - timedelta(days=DEFAULT_RETENTION_DAYS))
    if start > end:
        raise InvalidTimeRangeException()
    token = p.get("NextToken")
    after = _cursor(token, p) if token else None
    if p.get("EventCategory") == "insight":
        return {"Events": []}  # iamd has no Insights events
    if ctx.flush_trail is not None:
        try:
            ctx.flush_trail()
        except AwsError:
            raise  # the database is away: so is the look-up
        except Exception:
            # What is stored can still be served; the writer thread logs and retries.
            log.warning("could not write the queued audit events before a look-up")
    found = find_events(ctx.services.tx, attribute, start, end, max_results + 1, after)
    events: list[dict[str, Any]] = []
    for event in found[:max_results]:
        item: dict[str, Any] = {
            "EventId": event.event_id,
            "EventName": event.event_name,
            "ReadOnly": "true" if event.read_only else "false",
            "EventTime": event.event_time,
            "EventSource": event.event_source,
            "Resources": [
                {"ResourceType": kind, "ResourceName": name} for kind, name in event.resources
            ],
            "CloudTrailEvent": event.record,
        }
        if event.access_key_id:
            item["AccessKeyId"] = event.access_key_id
        if event.username:
            item["Username"] = event.username
        events.append(item)
    result: dict[str, Any] = {"Events": events}
    if len(found) > max_results:
        result["NextToken"] = _token(found[max_results - 1].cursor, p)
    return result


OPERATIONS: tuple[Operation, ...] = (
    Operation("cloudtrail", "LookupEvents", lookup_events, any_resource),
)

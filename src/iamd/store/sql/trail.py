"""The audit trail's events: inserted in batches (or in a write's own transaction),
looked up by one attribute and a time range as an index range scan, swept by age."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from iamd.store.schema import trail_event_resources, trail_events


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as stored: the lookup columns and the redacted record (JSON text)."""

    event_id: str
    account_id: str
    event_time: int  # microseconds since the epoch
    event_name: str
    event_source: str
    username: str | None
    access_key_id: str | None
    read_only: bool
    record: str
    resources: tuple[tuple[str, str], ...] = ()  # (type, name)


class PendingWriteEvent(Protocol):
    """The event of the request running on this thread, for its first write to commit."""

    def take(self) -> StoredEvent | None:
        """The event to insert with this write (None: none, or already inserted)."""

    def committed(self) -> None:
        """The write that carried the taken event committed."""

    def rolled_back(self) -> None:
        """The write that carried the taken event rolled back: it is pending again."""


#: Set by the recorder around one request's operation (services/trail.py), read by
#: `Transactions.write()`: a context variable, because the request runs on one thread
#: (or synchronously on the event loop) from start to end, and the services between the
#: front and the store should not carry the trail in every signature.
pending_write_event: ContextVar[PendingWriteEvent | None] = ContextVar(
    "iamd_trail_pending_write_event", default=None
)


def insert_events(conn: Connection, events: Sequence[StoredEvent]) -> None:
    """Insert events in one statement per table (executemany)."""
    if not events:
        return
    conn.execute(
        insert(trail_events),
        [
            {
                "event_id": e.event_id,
                "account_id": e.account_id,
                "event_time": e.event_time,
                "event_name": e.event_name,
                "event_source": e.event_source,
                "username": e.username,
                "access_key_id": e.access_key_id,
                "read_only": e.read_only,
                "record": e.record,
            }
            for e in events
        ],
    )
    resources = [
        {
            "event_id": e.event_id,
            "position": i,
            "account_id": e.account_id,
            "event_time": e.event_time,
            "resource_type": kind,
            "resource_name": name,
        }
        for e in events
        for i, (kind, name) in enumerate(e.resources)
    ]
    if resources:
        conn.execute(insert(trail_event_resources), resources)


#: LookupEvents' attribute keys that are columns of trail_events.
_EVENT_COLUMNS = {
    "EventId": "event_id",
    "EventName": "event_name",
    "EventSource": "event_source",
    "Username": "username",
    "AccessKeyId": "access_key_id",
    "ReadOnly": "read_only",
}
_RESOURCE_COLUMNS = {"ResourceType": "resource_type", "ResourceName": "resource_name"}


def lookup(
    conn: Connection,
    account_id: str,
    attribute: tuple[str, str] | None,
    start: int,
    end: int,
    limit: int,
    after: tuple[int, str] | None = None,
) -> list[tuple[str, Any]]:
    """Newest first: (event_id, row) of events with start <= time <= end.

    `after` is the (time, event_id) of the last event of the previous page.
    """
    t = trail_events
    conditions: list[Any] = [t.c.account_id == account_id, t.c.event_time >= start]
    conditions.append(t.c.event_time <= end)
    if after is not None:
        conditions.append(
            or_(
                t.c.event_time < after[0], and_(t.c.event_time == after[0], t.c.event_id < after[1])
            )
        )
    query = select(t)
    if attribute is not None:
        key, value = attribute
        if key in _EVENT_COLUMNS:
            column = t.c[_EVENT_COLUMNS[key]]
            if key == "ReadOnly":
                conditions.append(column == (value.lower() == "true"))
            else:
                conditions.append(column == value)
        else:
            r = trail_event_resources
            query = select(t).where(
                t.c.event_id.in_(
                    select(r.c.event_id).where(
                        r.c.account_id == account_id,
                        r.c[_RESOURCE_COLUMNS[key]] == value,
                        r.c.event_time >= start,
                        r.c.event_time <= end,
                    )
                )
            )
    query = query.where(*conditions).order_by(t.c.event_time.desc(), t.c.event_id.desc())
    rows = conn.execute(query.limit(limit)).all()
    return [(row.event_id, row) for row in rows]


def resources_of(conn: Connection, event_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    r = trail_event_resources
    found: dict[str, list[tuple[str, str]]] = {}
    ids = list(event_ids)
    if not ids:
        return found
    rows = conn.execute(
        select(r.c.event_id, r.c.resource_type, r.c.resource_name)
        .where(r.c.event_id.in_(ids))
        .order_by(r.c.event_id, r.c.position)
    )
    for row in rows:
        found.setdefault(row.event_id, []).append((row.resource_type, row.resource_name))
    return found


def delete_older_than(conn: Connection, cutoff: int) -> int:
    """The retention sweep: drop events older than `cutoff` (µs), resources first."""
    conn.execute(delete(trail_event_resources).where(trail_event_resources.c.event_time < cutoff))
    result = conn.execute(delete(trail_events).where(trail_events.c.event_time < cutoff))
    return int(result.rowcount or 0)


def replace_records(conn: Connection, records: Sequence[tuple[str, str]]) -> None:
    """Complete events inserted with their write (event_id, record): the response and
    any error are known only once the operation has returned."""
    if not records:
        return
    t = trail_events
    conn.execute(
        update(t)
        .where(t.c.event_id == bindparam("b_event_id"))
        .values(record=bindparam("b_record")),
        [{"b_event_id": event_id, "b_record": record} for event_id, record in records],
    )

"""The audit trail's events, stored in batches (schema.py, "Audit trail"): written in
batches (or in a write's own transaction, a batch of one until the next batch takes
it), looked up by one attribute and a time range as an index range scan over batches,
swept by age.

A batch holds events of one account spanning at most `MAX_BATCH_SPAN` µs, so every time
window maps to a bounded range of `newest_time`: a batch with an event at or before T
has newest_time <= T + MAX_BATCH_SPAN.
"""

from __future__ import annotations

import heapq
import threading
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import zstandard
from sqlalchemy import Connection, and_, delete, insert, or_, select

from iamd.store.schema import trail_batch_keys, trail_batches

MAX_BATCH_EVENTS = 256
MAX_BATCH_SPAN = 60_000_000  # µs
#: Batches read per query while a look-up walks back in time.
_PAGE = 16


@dataclass(slots=True)
class StoredEvent:
    """One event as stored: the lookup fields and the redacted record (JSON text, one
    line: JSON text escapes every newline in a string). Not changed once made (not
    frozen: a frozen dataclass's __init__ costs twice as much, once per event)."""

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
    region: str = "us-east-1"

    @property
    def order(self) -> tuple[int, str]:
        """LookupEvents' and delivery's order: time, then event id."""
        return (self.event_time, self.event_id)


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


# --- The batch's block -----------------------------------------------------------------

# Blocks are zstd frames (level 1: about 4.5 times faster than zlib's level 1 on a
# batch of records, and a quarter smaller: docs/trail.md, "Cost"). Blocks written before
# are zlib streams; the first byte tells them apart (zstd's magic starts 0x28, a zlib
# header 0x78), and both are read.
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# A decompressed block is never larger: 256 records of at most a few hundred KB each.
_MAX_BLOCK = 1 << 30
# zstd contexts are not safe to share between threads; batches are written by the
# trail's writer thread and by the worker threads that commit a write with its event.
_contexts = threading.local()


def _compress(data: bytes) -> bytes:
    compressor: zstandard.ZstdCompressor | None = getattr(_contexts, "compressor", None)
    if compressor is None:
        compressor = _contexts.compressor = zstandard.ZstdCompressor(level=1)
    return compressor.compress(data)


def _decompress(block: bytes) -> bytes:
    if not block.startswith(_ZSTD_MAGIC):
        return zlib.decompress(block)
    decompressor: zstandard.ZstdDecompressor | None = getattr(_contexts, "decompressor", None)
    if decompressor is None:
        decompressor = _contexts.decompressor = zstandard.ZstdDecompressor()
    return decompressor.decompress(block, max_output_size=_MAX_BLOCK)


def encode_batch(events: Sequence[StoredEvent]) -> bytes:
    header = [
        [
            e.event_id,
            e.event_time,
            e.event_name,
            e.event_source,
            e.username,
            e.access_key_id,
            e.read_only,
            e.region,
            e.resources,
        ]
        for e in events
    ]
    lines = [orjson.dumps(header).decode()]
    lines.extend(e.record for e in events)
    return _compress("\n".join(lines).encode())


def decode_batch(account_id: str, block: bytes) -> list[StoredEvent]:
    head, *records = _decompress(block).decode().split("\n")
    return [
        StoredEvent(
            event_id=row[0],
            account_id=account_id,
            event_time=row[1],
            event_name=row[2],
            event_source=row[3],
            username=row[4],
            access_key_id=row[5],
            read_only=row[6],
            region=row[7],
            resources=tuple((kind, name) for kind, name in row[8]),
            record=record,
        )
        for row, record in zip(orjson.loads(head), records, strict=True)
    ]


def _found_by_time(event_id: str, event_time: int) -> bool:
    """Whether an EventId look-up finds this event from the time in its id (a UUIDv7 of
    the event's millisecond, as services/trail.py makes them) without a key row."""
    # Compared as text: the id's first 12 hex digits are the millisecond, then "-7".
    return (
        len(event_id) == 36
        and event_id[14] == "7"
        and event_id[:8] + event_id[9:13] == f"{event_time // 1000:012x}"
    )


def _keys(events: Sequence[StoredEvent]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for e in events:
        keys.add(("EventName", e.event_name))
        keys.add(("EventSource", e.event_source))
        keys.add(("ReadOnly", "true" if e.read_only else "false"))
        if e.username is not None:
            keys.add(("Username", e.username))
        if e.access_key_id is not None:
            keys.add(("AccessKeyId", e.access_key_id))
        for kind, name in e.resources:
            keys.add(("ResourceType", kind))
            keys.add(("ResourceName", name))
        if not _found_by_time(e.event_id, e.event_time):
            keys.add(("EventId", e.event_id))
    return keys


def batched(events: Iterable[StoredEvent]) -> list[list[StoredEvent]]:
    """Events grouped into batches: by account, at most MAX_BATCH_EVENTS spanning at most
    MAX_BATCH_SPAN each (in the order given: a batch need not be sorted, its oldest and
    newest times are its bounds)."""
    by_account: dict[str, list[StoredEvent]] = {}
    for e in events:
        by_account.setdefault(e.account_id, []).append(e)
    batches: list[list[StoredEvent]] = []
    for account_events in by_account.values():
        current: list[StoredEvent] = []
        oldest = newest = 0
        for e in account_events:
            time = e.event_time
            if current and (
                len(current) >= MAX_BATCH_EVENTS
                or max(newest, time) - min(oldest, time) > MAX_BATCH_SPAN
            ):
                batches.append(current)
                current = []
            if not current:
                oldest = newest = time
            oldest, newest = min(oldest, time), max(newest, time)
            current.append(e)
        if current:
            batches.append(current)
    return batches


# --- Writing ---------------------------------------------------------------------------


def insert_events(
    conn: Connection, events: Sequence[StoredEvent], *, replacing: Sequence[str] = ()
) -> None:
    """Insert events as batches, one statement per table (executemany).

    `replacing` names batches of one that these events replace: a write's event is
    stored with the write, as a batch of its own, and once the operation has returned,
    its completed record (response, error) joins the next batch in its place, so the
    store keeps few batches per event.
    """
    if replacing:
        b, k = trail_batches, trail_batch_keys
        for start in range(0, len(replacing), 500):
            chunk = list(replacing[start : start + 500])
            conn.execute(delete(k).where(k.c.batch_id.in_(chunk)))
            conn.execute(delete(b).where(b.c.batch_id.in_(chunk)))
    batch_rows: list[dict[str, Any]] = []
    key_rows: list[dict[str, Any]] = []
    for batch in batched(events):
        batch_id = batch[0].event_id
        times = [e.event_time for e in batch]
        newest = max(times)
        account_id = batch[0].account_id
        batch_rows.append(
            {
                "batch_id": batch_id,
                "account_id": account_id,
                "oldest_time": min(times),
                "newest_time": newest,
                "event_count": len(batch),
                "events": encode_batch(batch),
            }
        )
        key_rows.extend(
            {
                "batch_id": batch_id,
                "attribute": attribute,
                "value": value,
                "account_id": account_id,
                "newest_time": newest,
            }
            for attribute, value in _keys(batch)
        )
    if batch_rows:
        conn.execute(insert(trail_batches), batch_rows)
        conn.execute(insert(trail_batch_keys), key_rows)


def delete_older_than(conn: Connection, cutoff: int) -> int:
    """The retention sweep: drop batches whose newest event is older than `cutoff` (µs),
    keys first. Returns the number of events dropped."""
    b, k = trail_batches, trail_batch_keys
    old = select(b.c.batch_id).where(b.c.newest_time < cutoff)
    conn.execute(delete(k).where(k.c.batch_id.in_(old)))
    counted = conn.execute(select(b.c.event_count).where(b.c.newest_time < cutoff)).scalars()
    dropped = int(sum(counted))
    conn.execute(delete(b).where(b.c.newest_time < cutoff))
    return dropped


# --- Reading ---------------------------------------------------------------------------


def _matches(event: StoredEvent, attribute: tuple[str, str] | None) -> bool:
    if attribute is None:
        return True
    key, value = attribute
    if key == "EventId":
        return event.event_id == value
    if key == "EventName":
        return event.event_name == value
    if key == "EventSource":
        return event.event_source == value
    if key == "Username":
        return event.username == value
    if key == "AccessKeyId":
        return event.access_key_id == value
    if key == "ReadOnly":
        return event.read_only == (value.lower() == "true")
    if key == "ResourceType":
        return any(kind == value for kind, _ in event.resources)
    if key == "ResourceName":
        return any(name == value for _, name in event.resources)
    return False


def _event_id_time(value: str) -> int | None:
    """The millisecond a UUIDv7 event id names, in µs (None: not such an id)."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return (parsed.int >> 80) * 1000 if parsed.version == 7 else None


def _candidates(
    conn: Connection,
    account_id: str,
    attribute: tuple[str, str] | None,
    low: int,
    high: int,
) -> Iterator[tuple[int, str]]:
    """(newest_time, batch_id) of the account's batches that may hold an event with
    low <= time <= high and the attribute, newest first, a page at a time."""
    b, k = trail_batches, trail_batch_keys
    if attribute is None or attribute[0] == "EventId":
        table: Any = b
        # Not a range of the index, but it spares reading batches that begin later.
        conditions = [b.c.account_id == account_id, b.c.oldest_time <= high]
    else:
        key, value = attribute
        if key == "ReadOnly":
            value = "true" if value.lower() == "true" else "false"
        table = k
        conditions = [k.c.account_id == account_id, k.c.attribute == key, k.c.value == value]
    conditions += [table.c.newest_time >= low, table.c.newest_time <= high + MAX_BATCH_SPAN]
    after: tuple[int, str] | None = None
    while True:
        query = select(table.c.newest_time, table.c.batch_id).where(*conditions)
        if after is not None:
            query = query.where(
                or_(
                    table.c.newest_time < after[0],
                    and_(table.c.newest_time == after[0], table.c.batch_id < after[1]),
                )
            )
        query = query.order_by(table.c.newest_time.desc(), table.c.batch_id.desc())
        page = [(int(r[0]), str(r[1])) for r in conn.execute(query.limit(_PAGE))]
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1]


def _batch_events(conn: Connection, batch_id: str) -> list[StoredEvent]:
    b = trail_batches
    row = conn.execute(select(b.c.account_id, b.c.events).where(b.c.batch_id == batch_id)).first()
    return [] if row is None else decode_batch(row.account_id, row.events)


def lookup(
    conn: Connection,
    account_id: str,
    attribute: tuple[str, str] | None,
    start: int,
    end: int,
    limit: int,
    after: tuple[int, str] | None = None,
) -> list[StoredEvent]:
    """Newest first: events with start <= time <= end and the attribute.

    `after` is the (time, event_id) of the last event of the previous page.
    """
    high = end if after is None else min(end, after[0])
    low = start
    if attribute is not None and attribute[0] == "EventId":
        moment = _event_id_time(attribute[1])
        if moment is None:
            return _lookup_by_key(conn, account_id, attribute, start, end, after)
        low, high = max(low, moment), min(high, moment + 999)
        if low > high:
            return []
    found: list[StoredEvent] = []
    for newest, batch_id in _candidates(conn, account_id, attribute, low, high):
        # Every event still to be read is at or before this batch's newest time.
        if len(found) >= limit and found[-1].event_time > newest:
            break
        for event in _batch_events(conn, batch_id):
            if (
                low <= event.event_time <= high
                and (after is None or event.order < after)
                and _matches(event, attribute)
            ):
                found.append(event)
        found = heapq.nlargest(limit, found, key=lambda e: e.order)
    return found


def _lookup_by_key(
    conn: Connection,
    account_id: str,
    attribute: tuple[str, str],
    start: int,
    end: int,
    after: tuple[int, str] | None,
) -> list[StoredEvent]:
    """An EventId that is not a UUIDv7 (events recorded before 0026): its key row."""
    k = trail_batch_keys
    query = select(k.c.batch_id).where(
        k.c.account_id == account_id, k.c.attribute == attribute[0], k.c.value == attribute[1]
    )
    return [
        event
        for batch_id in conn.execute(query).scalars()
        for event in _batch_events(conn, batch_id)
        if event.event_id == attribute[1]
        and start <= event.event_time <= end
        and (after is None or event.order < after)
    ]


def events_after(
    conn: Connection, after: tuple[int, str], until: int, limit: int
) -> list[StoredEvent]:
    """Every account's events after the (time, id) cursor with time <= until, oldest
    first (log file delivery)."""
    b = trail_batches
    query = (
        select(b.c.oldest_time, b.c.batch_id)
        .where(b.c.newest_time >= after[0], b.c.oldest_time <= until)
        .order_by(b.c.oldest_time, b.c.batch_id)
    )
    found: list[StoredEvent] = []
    for oldest, batch_id in conn.execute(query).all():
        # Every event still to be read is at or after this batch's oldest time.
        if len(found) >= limit and found[-1].event_time < oldest:
            break
        found.extend(
            event
            for event in _batch_events(conn, batch_id)
            if after < event.order and event.event_time <= until
        )
        found = heapq.nsmallest(limit, found, key=lambda e: e.order)
    return found

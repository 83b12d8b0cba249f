"""The batched trail store answers exactly what a scan of every event would: look-ups
by each attribute, newest first, page after page, and delivery's oldest-first reads,
over batches that overlap in time (a write's own batch of one among the flushed ones)."""

from __future__ import annotations

import dataclasses
import random
import zlib
from pathlib import Path

import pytest
import zstandard
from sqlalchemy import text

from iamd.services.trail import new_event_id
from iamd.store.database import Database
from iamd.store.migrate import upgrade_to_head
from iamd.store.sql.trail import (
    MAX_BATCH_EVENTS,
    StoredEvent,
    decode_batch,
    delete_older_than,
    encode_batch,
    events_after,
    insert_events,
    lookup,
)

ACCOUNTS = ("111111111111", "222222222222")
BASE = 1_700_000_000_000_000


def _event(rng: random.Random, time: int) -> StoredEvent:
    user = rng.choice(["ann", "bob", None])
    resources = rng.choice([(), (("AWS::IAM::User", "carl"),), (("AWS::IAM::Role", "ops"),)])
    return StoredEvent(
        event_id=new_event_id(time),
        account_id=rng.choice(ACCOUNTS),
        event_time=time,
        event_name=rng.choice(["GetUser", "CreateUser", "ListUsers"]),
        event_source=rng.choice(["iam.amazonaws.com", "sts.amazonaws.com"]),
        username=user,
        access_key_id=rng.choice(["AKIAONE", None]),
        read_only=rng.random() < 0.5,
        record=f'{{"t":{time}}}',
        resources=resources,
        region=rng.choice(["us-east-1", "eu-west-1"]),
    )


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Database, list[StoredEvent]]:
    rng = random.Random(7)
    database = Database(f"sqlite:///{tmp_path / 'iamd.sqlite3'}")
    upgrade_to_head(database)
    events: list[StoredEvent] = []
    time = BASE
    for _ in range(40):
        # A flush's batch, and writes' batches of one whose times fall inside it.
        flushed = []
        for _ in range(rng.randrange(1, 3 * MAX_BATCH_EVENTS // 2)):
            time += rng.choice([0, 1, 500, 20_000, 2_000_000])
            flushed.append(_event(rng, time))
        with database.write() as conn:
            insert_events(conn, rng.sample(flushed, len(flushed)))  # queued out of order
            for _ in range(rng.randrange(4)):
                single = _event(rng, rng.choice(flushed).event_time)
                insert_events(conn, [single])
                events.append(single)
        events.extend(flushed)
    return database, events


def _expected(
    events: list[StoredEvent], account: str, key: str | None, value: str, start: int, end: int
) -> list[StoredEvent]:
    def matches(e: StoredEvent) -> bool:
        if key is None:
            return True
        if key == "ReadOnly":
            return e.read_only == (value == "true")
        if key in ("ResourceType", "ResourceName"):
            index = 0 if key == "ResourceType" else 1
            return any(r[index] == value for r in e.resources)
        field = {
            "EventId": "event_id",
            "EventName": "event_name",
            "EventSource": "event_source",
            "Username": "username",
            "AccessKeyId": "access_key_id",
        }[key]
        return bool(getattr(e, field) == value)

    chosen = [
        e for e in events if e.account_id == account and start <= e.event_time <= end and matches(e)
    ]
    return sorted(chosen, key=lambda e: e.order, reverse=True)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (None, ""),
        ("EventName", "CreateUser"),
        ("EventSource", "sts.amazonaws.com"),
        ("Username", "ann"),
        ("AccessKeyId", "AKIAONE"),
        ("ReadOnly", "true"),
        ("ReadOnly", "false"),
        ("ResourceType", "AWS::IAM::Role"),
        ("ResourceName", "carl"),
        ("Username", "nobody"),
    ],
)
def test_every_page_of_every_lookup_is_what_a_full_scan_gives(
    stored: tuple[Database, list[StoredEvent]], key: str | None, value: str
) -> None:
    database, events = stored
    rng = random.Random(hash((key, value)))
    times = sorted(e.event_time for e in events)
    for account in ACCOUNTS:
        for _ in range(3):
            start, end = sorted(rng.sample(times, 2))
            limit = rng.choice([3, 20, 100])
            expected = _expected(events, account, key, value, start, end)
            attribute = None if key is None else (key, value)
            pages: list[StoredEvent] = []
            after: tuple[int, str] | None = None
            with database.read() as conn:
                while True:
                    page = lookup(conn, account, attribute, start, end, limit, after)
                    assert len(page) <= limit
                    pages.extend(page)
                    if len(page) < limit:
                        break
                    after = page[-1].order
            assert [e.event_id for e in pages] == [e.event_id for e in expected]


def test_an_event_is_found_by_its_id(stored: tuple[Database, list[StoredEvent]]) -> None:
    database, events = stored
    with database.read() as conn:
        for event in random.Random(3).sample(events, 30):
            found = lookup(conn, event.account_id, ("EventId", event.event_id), BASE, BASE * 2, 50)
            assert found == [event]
            other = ACCOUNTS[1] if event.account_id == ACCOUNTS[0] else ACCOUNTS[0]
            assert lookup(conn, other, ("EventId", event.event_id), BASE, BASE * 2, 50) == []
        assert lookup(conn, ACCOUNTS[0], ("EventId", "not-an-id"), BASE, BASE * 2, 50) == []


def test_delivery_reads_every_event_once_in_order(
    stored: tuple[Database, list[StoredEvent]],
) -> None:
    database, events = stored
    until = max(e.event_time for e in events) - 5_000_000
    delivered: list[StoredEvent] = []
    cursor = (-1, "")
    with database.read() as conn:
        while page := events_after(conn, cursor, until, 100):
            delivered.extend(page)
            cursor = page[-1].order
    expected = sorted((e for e in events if e.event_time <= until), key=lambda e: e.order)
    assert [e.event_id for e in delivered] == [e.event_id for e in expected]
    assert {e.region for e in delivered} == {"us-east-1", "eu-west-1"}


def test_a_completed_record_replaces_the_batch_of_one_its_write_stored(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'iamd.sqlite3'}")
    upgrade_to_head(database)
    rng = random.Random(1)
    written = _event(rng, BASE)
    others = [_event(rng, BASE + n) for n in range(1, 5)]
    with database.write() as conn:
        insert_events(conn, [written])
    completed = dataclasses.replace(written, record='{"done":true}')
    with database.write() as conn:
        insert_events(conn, [*others, completed], replacing=[written.event_id])
    with database.read() as conn:
        found = lookup(conn, written.account_id, None, BASE, BASE, 10)
        (count,) = conn.execute(text("SELECT count(*) FROM trail_batches")).one()
    assert [e.record for e in found] == ['{"done":true}']
    assert count == len({e.account_id for e in [*others, completed]})


def test_the_sweep_drops_whole_batches_older_than_the_cutoff(
    stored: tuple[Database, list[StoredEvent]],
) -> None:
    database, events = stored
    cutoff = sorted(e.event_time for e in events)[len(events) // 2]
    with database.write() as conn:
        dropped = delete_older_than(conn, cutoff)
    with database.read() as conn:
        left = [e for a in ACCOUNTS for e in lookup(conn, a, None, 0, BASE * 2, 100_000)]
    assert dropped + len(left) == len(events)
    assert all(e.event_time >= cutoff - 60_000_000 for e in left)
    assert {e.event_id for e in events if e.event_time >= cutoff} <= {e.event_id for e in left}


def test_blocks_written_with_zlib_before_zstd_are_still_read(tmp_path: Path) -> None:
    rng = random.Random(11)
    events = [_event(rng, BASE + n) for n in range(5)]
    events = [dataclasses.replace(e, account_id=ACCOUNTS[0]) for e in events]
    block = encode_batch(events)
    assert block.startswith(b"\x28\xb5\x2f\xfd")  # a zstd frame
    text_of_block = zstandard.ZstdDecompressor().decompress(block)
    old_block = zlib.compress(text_of_block, 1)  # as blocks were written before
    assert decode_batch(ACCOUNTS[0], old_block) == decode_batch(ACCOUNTS[0], block) == events

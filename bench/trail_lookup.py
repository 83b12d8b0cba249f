"""LookupEvents over a large trail: how long each kind of look-up takes in the store.

    python bench/trail_lookup.py [--events 10000000] [--data-dir DIR]

Seeds a SQLite trail with `--events` events through the store's own batch writer
(store/sql/trail.py, as the recorder writes them: batches of 256 events of one
account), shaped like a busy account's: 1,000 users, 20 operations, one user in 10,000
events who is rare, a resource name per write. Then times, median of 5, each look-up
LookupEvents makes: the newest page with no attribute, a common and a rare EventName,
a rare Username, a random EventId, a rare ResourceName, and a page deep in a window a
week back. Prints milliseconds and the database's bytes per event. The issue's budget:
"a lookup over 10 million events answers in well under a second".
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from iamd.services.trail import new_event_id
from iamd.store.database import Database
from iamd.store.migrate import upgrade_to_head
from iamd.store.sql.trail import StoredEvent, insert_events, lookup

ACCOUNT = "123456789012"
NAMES = [f"Op{n}" for n in range(18)] + ["GetUser", "CreateUser"]


def _record(event_id: str, name: str, user: str) -> str:
    return (
        '{"eventVersion":"1.11","userIdentity":{"type":"IAMUser","principalId":'
        f'"AIDA{user.upper():0>17}","arn":"arn:aws:iam::{ACCOUNT}:user/{user}",'
        f'"accountId":"{ACCOUNT}","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"{user}"}},'
        f'"eventSource":"iam.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1",'
        '"sourceIPAddress":"10.0.0.7","userAgent":"aws-cli/2.22.0 md/Botocore#1.35.0",'
        f'"requestParameters":{{"userName":"{user}"}},"responseElements":null,'
        f'"requestID":"{event_id}","eventID":"{event_id}","readOnly":true,'
        '"eventType":"AwsApiCall","managementEvent":true,'
        f'"recipientAccountId":"{ACCOUNT}","eventCategory":"Management"}}'
    )


def seed(database: Database, count: int, start: int, step: int) -> tuple[list[str], int]:
    """`count` events from `start` µs, `step` µs apart; returns a sample of their ids."""
    rng = random.Random(5)
    sample: list[str] = []
    chunk: list[StoredEvent] = []
    for n in range(count):
        moment = start + n * step
        event_id = new_event_id(moment)
        user = "rare-user" if n % 10_000 == 5_000 else f"user{rng.randrange(1000)}"
        name = "RareOperation" if n % 100_000 == 7 else NAMES[n % len(NAMES)]
        resource = f"thing-{n}" if n % 1000 == 0 else user
        chunk.append(
            StoredEvent(
                event_id=event_id,
                account_id=ACCOUNT,
                event_time=moment,
                event_name=name,
                event_source="iam.amazonaws.com",
                username=user,
                access_key_id="AKIAIOSFODNN7EXAMPLE",
                read_only=name != "CreateUser",
                record=_record(event_id, name, user),
                resources=(("AWS::IAM::User", resource),),
            )
        )
        if n % 997 == 0:
            sample.append(event_id)
        if len(chunk) == 25_600:
            with database.write() as conn:
                insert_events(conn, chunk)
            chunk = []
    if chunk:
        with database.write() as conn:
            insert_events(conn, chunk)
    return sample, start + count * step


def _median_ms(run: Callable[[], object]) -> float:
    times = []
    for _ in range(5):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    directory = args.data_dir or Path(tempfile.mkdtemp(prefix="iamd-trail-bench-"))
    path = directory / "iamd.sqlite3"
    database = Database(f"sqlite:///{path}")
    upgrade_to_head(database)
    # 90 days of events, the default retention, evenly spread.
    start = 1_700_000_000_000_000
    step = max(1, 90 * 86_400_000_000 // args.events)
    began = time.perf_counter()
    sample, end = seed(database, args.events, start, step)
    seeded = time.perf_counter() - began
    each = seeded / args.events * 1e6
    print(f"seeded {args.events:,} events in {seeded:.0f} s ({each:.1f} µs each)")
    print(f"database: {path.stat().st_size / args.events:.0f} bytes per event")
    rng = random.Random(9)
    week_ago = end - 7 * 86_400_000_000
    cases: dict[str, Callable[[], object]] = {}
    with database.read() as conn:

        def case(
            attribute: tuple[str, str] | None, low: int = start, high: int = end
        ) -> Callable[[], object]:
            return lambda: lookup(conn, ACCOUNT, attribute, low, high, 50)

        cases = {
            "newest 50, no attribute": case(None),
            "EventName GetUser (1 in 20)": case(("EventName", "GetUser")),
            "EventName RareOperation (1 in 100,000)": case(("EventName", "RareOperation")),
            "Username rare-user (1 in 10,000)": case(("Username", "rare-user")),
            "ResourceName thing-N (one event)": case(
                ("ResourceName", f"thing-{args.events // 2000 * 1000}")
            ),
            "ReadOnly false (1 in 20)": case(("ReadOnly", "false")),
            "a window a week back, no attribute": case(None, week_ago - 3_600_000_000, week_ago),
        }
        for label, run in cases.items():
            print(f"{label:45s} {_median_ms(run):8.1f} ms")
        ids = rng.sample(sample, 5)
        by_id = [
            _median_ms(lambda i=i: lookup(conn, ACCOUNT, ("EventId", i), start, end, 50))  # type: ignore[misc]
            for i in ids
        ]
        print(f"{'EventId (5 random ids)':45s} {statistics.median(by_id):8.1f} ms")
    database.dispose()


if __name__ == "__main__":
    main()

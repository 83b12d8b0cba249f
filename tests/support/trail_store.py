"""The audit trail's stored records, read straight from a server's SQLite file (the
tests that check what was stored, not what LookupEvents answers)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from iamd.store.sql.trail import decode_batch


def stored_records(database: Path) -> list[dict[str, Any]]:
    """Every stored record, oldest first."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT account_id, events FROM trail_batches").fetchall()
    events = [event for account_id, block in rows for event in decode_batch(account_id, block)]
    events.sort(key=lambda e: e.order)
    return [json.loads(e.record) for e in events]


def stored_event_count(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        (count,) = conn.execute(
            "SELECT coalesce(sum(event_count), 0) FROM trail_batches"
        ).fetchone()
    return int(count)

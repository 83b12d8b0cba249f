"""The audit trail's stored records, read straight from a server's SQLite file (the
tests that check what was stored, not what LookupEvents answers)."""

from __future__ import annotations

import base64
import json
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

from iamd.store.sql.trail import decode_batch
from tests.support.servers import RunningServer


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


def secret_forms(secret: str) -> list[str]:
    """A secret as it could appear in a file: plain, base64 (both alphabets), URL- and
    form-encoded, JSON-escaped."""
    raw = secret.encode()
    return [
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        json.dumps(secret)[1:-1],
    ]


def stored_text(server: RunningServer) -> str:
    """Everything a stopped server's trail holds, as text to search: the SQLite file and
    its WAL, the decompressed records and the server's log. Stops the server."""
    database = server.data_dir / "iamd.sqlite3"
    stored = database.read_bytes()
    server.stop()
    stored += b"".join(p.read_bytes() for p in server.data_dir.glob("*-wal"))
    records = json.dumps(stored_records(database))
    return stored.decode("latin-1") + records + server.log_text()


def assert_no_secret_stored(server: RunningServer, secrets: list[str]) -> None:
    """No secret, in any of its forms, is in the stopped server's trail or log."""
    text = stored_text(server)
    assert '"eventVersion": "1.11"' in text  # the search does see records
    for secret in secrets:
        assert len(secret) >= 8, "too short to search for"
        for form in secret_forms(secret):
            assert form not in text, f"a secret reached the trail or the log ({secret[:4]}…)"

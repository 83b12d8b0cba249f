"""Audit trail events in batches (issue 14, item 7): one row per batch of up to 256
events of one account, spanning at most a minute, as a zlib-compressed block, and one
key row per distinct lookup value of a batch; the events of trail_events and
trail_event_resources move into them (legacy event ids get an EventId key row each).

The block format is written out here rather than imported, so this migration keeps
producing what the code of its time read: a JSON header line of
[event_id, time µs, name, source, username, access key id, read only, region,
[[resource type, name], ...]] per event, then each record's JSON text on its own line.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_EVENTS = 256
_SPAN = 60_000_000
_KEYED = ("event_name", "event_source", "username", "access_key_id")
_ATTRIBUTES = ("EventName", "EventSource", "Username", "AccessKeyId")


def _create_batches() -> None:
    op.create_table(
        "trail_batches",
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("oldest_time", sa.BigInteger(), nullable=False),
        sa.Column("newest_time", sa.BigInteger(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("events", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_trail_batches")),
    )
    op.create_index(
        "ix_trail_batches_account_id_newest_time", "trail_batches", ["account_id", "newest_time"]
    )
    op.create_index("ix_trail_batches_newest_time", "trail_batches", ["newest_time"])
    op.create_table(
        "trail_batch_keys",
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("attribute", sa.String(16), nullable=False),
        sa.Column("value", sa.String(2048), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("newest_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["trail_batches.batch_id"],
            name=op.f("fk_trail_batch_keys_batch_id_trail_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "attribute", "value", name=op.f("pk_trail_batch_keys")),
    )
    op.create_index(
        "ix_trail_batch_keys_account_id_attribute_value_newest_time",
        "trail_batch_keys",
        ["account_id", "attribute", "value", "newest_time"],
    )


def _legacy_events(conn: sa.Connection) -> Iterator[tuple[Any, list[list[str]]]]:
    """trail_events rows in (account, time, id) order, with their resources."""
    # The first page starts before every real key (account ids are 12 digits).
    after: tuple[str, int, str] = ("", 0, "")
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT event_id, account_id, event_time, event_name, event_source, username, "
                "access_key_id, read_only, record FROM trail_events "
                "WHERE account_id > :a OR (account_id = :a AND (event_time > :t "
                "OR (event_time = :t AND event_id > :e))) "
                "ORDER BY account_id, event_time, event_id LIMIT 1000"
            ),
            {"a": after[0], "t": after[1], "e": after[2]},
        ).all()
        if not rows:
            return
        resources: dict[str, list[list[str]]] = {}
        for event_id, kind, name in conn.execute(
            sa.text(
                "SELECT event_id, resource_type, resource_name FROM trail_event_resources "
                "WHERE event_id IN :ids ORDER BY event_id, position"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": [row.event_id for row in rows]},
        ):
            resources.setdefault(event_id, []).append([kind, name])
        for row in rows:
            yield row, resources.get(row.event_id, [])
        last = rows[-1]
        after = (last.account_id, last.event_time, last.event_id)


def _write_batch(conn: sa.Connection, batch: list[tuple[Any, list[list[str]]]]) -> None:
    header = []
    keys: set[tuple[str, str]] = set()
    for row, resources in batch:
        region = json.loads(row.record).get("awsRegion") or "us-east-1"
        header.append(
            [
                row.event_id,
                row.event_time,
                row.event_name,
                row.event_source,
                row.username,
                row.access_key_id,
                bool(row.read_only),
                region,
                resources,
            ]
        )
        keys.add(("EventId", row.event_id))
        keys.add(("ReadOnly", "true" if row.read_only else "false"))
        for column, attribute in zip(_KEYED, _ATTRIBUTES, strict=True):
            if getattr(row, column) is not None:
                keys.add((attribute, getattr(row, column)))
        for kind, name in resources:
            keys.update({("ResourceType", kind), ("ResourceName", name)})
    lines = [json.dumps(header, separators=(",", ":"))] + [row.record for row, _ in batch]
    first, last = batch[0][0], batch[-1][0]
    conn.execute(
        sa.text(
            "INSERT INTO trail_batches (batch_id, account_id, oldest_time, newest_time, "
            "event_count, events) VALUES (:b, :a, :o, :n, :c, :e)"
        ),
        {
            "b": first.event_id,
            "a": first.account_id,
            "o": first.event_time,
            "n": last.event_time,
            "c": len(batch),
            "e": zlib.compress("\n".join(lines).encode(), 1),
        },
    )
    conn.execute(
        sa.text(
            "INSERT INTO trail_batch_keys (batch_id, attribute, value, account_id, newest_time) "
            "VALUES (:b, :k, :v, :a, :n)"
        ),
        [
            {"b": first.event_id, "k": k, "v": v, "a": first.account_id, "n": last.event_time}
            for k, v in keys
        ],
    )


def upgrade() -> None:
    _create_batches()
    conn = op.get_bind()
    batch: list[tuple[Any, list[list[str]]]] = []
    for row, resources in _legacy_events(conn):
        if batch and (
            len(batch) >= _EVENTS
            or row.account_id != batch[0][0].account_id
            or row.event_time - batch[0][0].event_time > _SPAN
        ):
            _write_batch(conn, batch)
            batch = []
        batch.append((row, resources))
    if batch:
        _write_batch(conn, batch)
    op.drop_table("trail_event_resources")
    op.drop_table("trail_events")


def downgrade() -> None:
    op.create_table(
        "trail_events",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("event_name", sa.String(128), nullable=False),
        sa.Column("event_source", sa.String(64), nullable=False),
        sa.Column("username", sa.String(128), nullable=True),
        sa.Column("access_key_id", sa.String(128), nullable=True),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_trail_events")),
    )
    op.create_index(
        "ix_trail_events_account_id_event_time", "trail_events", ["account_id", "event_time"]
    )
    for column in ("event_name", "event_source", "username", "access_key_id", "read_only"):
        op.create_index(
            f"ix_trail_events_account_id_{column}_event_time",
            "trail_events",
            ["account_id", column, "event_time"],
        )
    op.create_index(
        "ix_trail_events_event_time_event_id", "trail_events", ["event_time", "event_id"]
    )
    op.create_table(
        "trail_event_resources",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_name", sa.String(2048), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["trail_events.event_id"],
            name=op.f("fk_trail_event_resources_event_id_trail_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "position", name=op.f("pk_trail_event_resources")),
    )
    for column in ("resource_type", "resource_name"):
        op.create_index(
            f"ix_trail_event_resources_account_id_{column}_event_time",
            "trail_event_resources",
            ["account_id", column, "event_time"],
        )
    conn = op.get_bind()
    for account_id, block in conn.execute(sa.text("SELECT account_id, events FROM trail_batches")):
        head, *records = zlib.decompress(block).decode().split("\n")
        for event, record in zip(json.loads(head), records, strict=True):
            event_id, time, name, source, username, key_id, read_only, _, resources = event
            conn.execute(
                sa.text("INSERT INTO trail_events VALUES (:i, :a, :t, :n, :s, :u, :k, :r, :rec)"),
                {
                    "i": event_id,
                    "a": account_id,
                    "t": time,
                    "n": name,
                    "s": source,
                    "u": username,
                    "k": key_id,
                    "r": read_only,
                    "rec": record,
                },
            )
            for position, (kind, resource) in enumerate(resources):
                conn.execute(
                    sa.text("INSERT INTO trail_event_resources VALUES (:i, :p, :a, :t, :k, :n)"),
                    {
                        "i": event_id,
                        "p": position,
                        "a": account_id,
                        "t": time,
                        "k": kind,
                        "n": resource,
                    },
                )
    op.drop_table("trail_batch_keys")
    op.drop_table("trail_batches")

"""The cross-node change signal: slot counters that writers bump without waiting.

A write that may change what a cache holds adds one to a `change_slots` row that no
other transaction has locked (`FOR UPDATE SKIP LOCKED`), just before it commits; each
node polls the sum of the counters and drops its caches when it moved. Why this shape:

- no hot row: a writer that stalls (a stopped node, a lost connection) holds one slot
  until `idle_in_transaction_session_timeout` ends its session; the others take another
  slot and never wait for it (with one counter, every write on every node did);
- no gaps: a bump is visible in the sum exactly when the write's data is, so the order
  in which transactions commit cannot hide one (an id taken from a sequence can commit
  after a higher one that a poller has already passed);
- bounded: the sum reads 128 rows; the table never grows.

Only when every slot is locked (more concurrent writers than slots) does a writer wait
for the lowest one, and then within `lock_timeout`.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from iamd.store.schema import change_slots

_FREE_SLOT = (
    select(change_slots.c.slot)
    .order_by(change_slots.c.slot)
    .limit(1)
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_BUMP_FREE = (
    update(change_slots)
    .where(change_slots.c.slot == _FREE_SLOT)
    .values(counter=change_slots.c.counter + 1)
)
_ANY_SLOT = select(change_slots.c.slot).order_by(change_slots.c.slot).limit(1).scalar_subquery()
_BUMP_ANY = (
    update(change_slots)
    .where(change_slots.c.slot == _ANY_SLOT)
    .values(counter=change_slots.c.counter + 1)
)
_TOTAL = select(func.coalesce(func.sum(change_slots.c.counter), 0))


def bump(conn: Connection) -> None:
    """Signal this transaction's change to every node, once it commits."""
    if conn.execute(_BUMP_FREE).rowcount == 0:
        conn.execute(_BUMP_ANY)


def total(conn: Connection) -> int:
    """The sum of all slots: it moves whenever a signalled write has committed."""
    return int(conn.execute(_TOTAL).scalar_one())

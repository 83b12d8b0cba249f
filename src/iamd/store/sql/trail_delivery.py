"""Log file delivery's state: the cursor over the trail's events, the files delivered
(awaiting a digest), each digest chain's last link and the trail's signing key.

Events are read through `trail.events_after` (the module that knows how events are
stored), in (event_time, event_id) order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from iamd.store.schema import (
    trail_delivery,
    trail_digest_chains,
    trail_log_files,
    trail_signing_keys,
)

_CURSOR = "files"


@dataclass(frozen=True, slots=True)
class LogFileRow:
    path: str
    sha256: str
    oldest_event_time: int
    newest_event_time: int


@dataclass(frozen=True, slots=True)
class ChainLink:
    end_time: int
    path: str
    sha256: str
    signature: str


def claim_cursor(conn: Connection) -> tuple[int, str]:
    """The delivered (time, event id), locked until the transaction ends.

    On PostgreSQL the row lock makes nodes take turns: one delivers a batch while the
    others wait, then see the advanced cursor. SQLite's write transaction is exclusive.
    """
    query = select(trail_delivery).where(trail_delivery.c.name == _CURSOR).with_for_update()
    row = conn.execute(query).first()
    if row is None:
        conn.execute(
            insert(trail_delivery).values(name=_CURSOR, delivered_time=-1, delivered_event_id="")
        )
        row = conn.execute(query).one()
    return int(row.delivered_time), str(row.delivered_event_id)


def advance_cursor(conn: Connection, event_time: int, event_id: str) -> None:
    conn.execute(
        update(trail_delivery)
        .where(trail_delivery.c.name == _CURSOR)
        .values(delivered_time=event_time, delivered_event_id=event_id)
    )


def record_log_file(
    conn: Connection,
    path: str,
    account_id: str,
    region: str,
    sha256: str,
    oldest: int,
    newest: int,
    now: int,
) -> None:
    conn.execute(
        insert(trail_log_files).values(
            path=path,
            account_id=account_id,
            region=region,
            sha256=sha256,
            oldest_event_time=oldest,
            newest_event_time=newest,
            delivered_at=now,
            digested=False,
        )
    )


def known_log_file(conn: Connection, path: str) -> bool:
    query = select(trail_log_files.c.path).where(trail_log_files.c.path == path)
    return conn.execute(query).first() is not None


def undigested(conn: Connection) -> dict[tuple[str, str], list[LogFileRow]]:
    """Delivered files not yet in a digest, by (account, Region), oldest first."""
    f = trail_log_files
    rows = conn.execute(
        select(f).where(f.c.digested.is_(False)).order_by(f.c.delivered_at, f.c.path)
    ).all()
    out: dict[tuple[str, str], list[LogFileRow]] = {}
    for row in rows:
        out.setdefault((row.account_id, row.region), []).append(
            LogFileRow(row.path, row.sha256, row.oldest_event_time, row.newest_event_time)
        )
    return out


def mark_digested(conn: Connection, paths: list[str]) -> None:
    if paths:
        conn.execute(
            update(trail_log_files).where(trail_log_files.c.path.in_(paths)).values(digested=True)
        )


def chain_link(conn: Connection, account_id: str, region: str) -> ChainLink | None:
    """The chain's last link (writers hold the cursor's lock: `claim_cursor`)."""
    c = trail_digest_chains
    row = conn.execute(select(c).where(c.c.account_id == account_id, c.c.region == region)).first()
    if row is None:
        return None
    return ChainLink(row.end_time, row.path, row.sha256, row.signature)


def chain_accounts(conn: Connection) -> list[tuple[str, str, int]]:
    """Every chain's (account, Region, last digest end)."""
    c = trail_digest_chains
    rows = conn.execute(select(c.c.account_id, c.c.region, c.c.end_time)).all()
    return [(r.account_id, r.region, r.end_time) for r in rows]


def save_chain_link(conn: Connection, account_id: str, region: str, link: ChainLink) -> None:
    c = trail_digest_chains
    values = {
        "end_time": link.end_time,
        "path": link.path,
        "sha256": link.sha256,
        "signature": link.signature,
    }
    done = conn.execute(
        update(c).where(c.c.account_id == account_id, c.c.region == region).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(insert(c).values(account_id=account_id, region=region, **values))


def signing_key(conn: Connection) -> tuple[str, str, bytes] | None:
    """The newest (fingerprint, public key PEM, sealed private key)."""
    k = trail_signing_keys
    row = conn.execute(select(k).order_by(k.c.created_at.desc()).limit(1)).first()
    if row is None:
        return None
    return row.fingerprint, row.public_key_pem, bytes(row.private_key_sealed)


def public_keys(conn: Connection) -> list[tuple[str, str]]:
    k = trail_signing_keys
    return [(r.fingerprint, r.public_key_pem) for r in conn.execute(select(k)).all()]


def save_signing_key(
    conn: Connection, fingerprint: str, public_pem: str, sealed: bytes, now: int
) -> None:
    conn.execute(
        insert(trail_signing_keys).values(
            fingerprint=fingerprint,
            public_key_pem=public_pem,
            private_key_sealed=sealed,
            created_at=now,
        )
    )

"""The access advisor's record: the last authenticated use of each service (and, for
the services AWS tracks at action level, each action) by each user and role."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.store.schema import service_last_accessed as _t

# `action` of the row that records the service as a whole.
SERVICE_LEVEL = ""


@dataclass(frozen=True, slots=True)
class ServiceUse:
    account_id: str
    principal_arn: str
    service_namespace: str
    action: str  # SERVICE_LEVEL, or the action's name (CreateUser)
    when: datetime
    region: str


def record_service_uses(conn: Connection, uses: Iterable[ServiceUse]) -> None:
    """Write the latest use of each; an older use (a late batch of another node) never
    replaces a newer one. Runs on the recorder's thread, never on a request."""
    for use in uses:
        key = (
            (_t.c.account_id == use.account_id)
            & (_t.c.principal_arn == use.principal_arn)
            & (_t.c.service_namespace == use.service_namespace)
            & (_t.c.action == use.action)
        )
        done = conn.execute(
            update(_t)
            .where(key, _t.c.last_authenticated < use.when)
            .values(last_authenticated=use.when, region=use.region)
        )
        if done.rowcount:
            continue
        if conn.execute(select(_t.c.action).where(key)).first() is not None:
            continue  # a newer use is stored already
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(_t).values(
                        account_id=use.account_id,
                        principal_arn=use.principal_arn,
                        service_namespace=use.service_namespace,
                        action=use.action,
                        last_authenticated=use.when,
                        region=use.region,
                    )
                )
        except IntegrityError:
            pass  # another node inserted it meanwhile; its use is as recent


def uses_of(conn: Connection, account_id: str, principal_arns: Collection[str]) -> list[ServiceUse]:
    """Every recorded use by these principals of the account."""
    if not principal_arns:
        return []
    rows = conn.execute(
        select(_t).where(_t.c.account_id == account_id, _t.c.principal_arn.in_(principal_arns))
    )
    return [_use(r) for r in rows]


def service_uses_in(conn: Connection, account_ids: Collection[str]) -> list[ServiceUse]:
    """Every service-level use recorded in these accounts, by any principal."""
    if not account_ids:
        return []
    rows = conn.execute(
        select(_t).where(_t.c.account_id.in_(account_ids), _t.c.action == SERVICE_LEVEL)
    )
    return [_use(r) for r in rows]


def _use(row: Any) -> ServiceUse:
    return ServiceUse(
        row.account_id,
        row.principal_arn,
        row.service_namespace,
        row.action,
        row.last_authenticated,
        row.region,
    )

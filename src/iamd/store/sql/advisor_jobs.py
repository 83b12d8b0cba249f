"""The access advisor's jobs: started IN_PROGRESS, then finished with their report
(JSON text) or their error, readable from any node."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from iamd.store.schema import access_advisor_jobs as _t


@dataclass(frozen=True, slots=True)
class JobRow:
    job_id: str
    arn: str
    granularity: str
    status: str
    created: datetime
    completed: datetime | None
    error: str | None
    report: str | None


def add_job(conn: Connection, account_id: str, job: JobRow) -> None:
    conn.execute(
        insert(_t).values(
            account_id=account_id,
            job_id=job.job_id,
            arn=job.arn,
            granularity=job.granularity,
            status=job.status,
            created=job.created,
            completed=job.completed,
            error=job.error,
            report=job.report,
        )
    )


def finish_job(
    conn: Connection,
    account_id: str,
    job_id: str,
    *,
    status: str,
    completed: datetime,
    error: str | None,
    report: str | None,
) -> None:
    """Only an IN_PROGRESS job is finished: one given up on stays as it was."""
    conn.execute(
        update(_t)
        .where(_t.c.account_id == account_id, _t.c.job_id == job_id, _t.c.status == "IN_PROGRESS")
        .values(status=status, completed=completed, error=error, report=report)
    )


def get_job(conn: Connection, account_id: str, job_id: str) -> JobRow | None:
    row = conn.execute(
        select(
            _t.c.job_id,
            _t.c.arn,
            _t.c.granularity,
            _t.c.status,
            _t.c.created,
            _t.c.completed,
            _t.c.error,
            _t.c.report,
        ).where(_t.c.account_id == account_id, _t.c.job_id == job_id)
    ).first()
    return None if row is None else JobRow(*row)


def forget_jobs(conn: Connection, account_id: str, *, before: datetime, keep: int) -> None:
    """Delete the account's jobs created before `before`, and the oldest beyond `keep`."""
    conn.execute(delete(_t).where(_t.c.account_id == account_id, _t.c.created < before))
    count = conn.execute(
        select(func.count()).select_from(_t).where(_t.c.account_id == account_id)
    ).scalar_one()
    if count <= keep:
        return
    oldest = (
        select(_t.c.job_id)
        .where(_t.c.account_id == account_id)
        .order_by(_t.c.created, _t.c.job_id)
        .limit(count - keep)
    )
    conn.execute(delete(_t).where(_t.c.account_id == account_id, _t.c.job_id.in_(oldest)))

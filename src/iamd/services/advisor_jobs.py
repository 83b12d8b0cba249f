"""The life of an access advisor job, shared by the IAM access advisor's reports
(services/access_advisor.py) and the Organizations access report
(services/organizations_access_report.py).

A job is stored IN_PROGRESS when it is asked for, built on the advisor's thread (never
on the event loop or the request's thread) after the pending service uses are written,
then stored COMPLETED with its report (JSON text) or FAILED with its error. Jobs are kept
in the database (`store/sql/advisor_jobs.py`), so any node of a PostgreSQL deployment
answers for a job another started; one still IN_PROGRESS after STALE_AFTER was started
by a node that stopped, and is answered FAILED. The two kinds of job share the table,
told apart by their `kind`, and never answer for each other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timedelta

from iamd.clock import Clock
from iamd.errors import NoSuchEntity
from iamd.services.last_used import LastUsedRecorder
from iamd.store.sql.advisor_jobs import JobRow, add_job, finish_job, forget_jobs, get_job
from iamd.store.transactions import Transactions

log = logging.getLogger(__name__)

Submit = Callable[[Callable[[], None]], "Future[None]"]

# Jobs are kept this long, and at most MAX_JOBS per account (the oldest go first), so
# repeated reports cannot grow the process [I: AWS documents no lifetime].
JOB_LIFETIME = timedelta(hours=24)
MAX_JOBS = 1000
# A report takes well under a second to build; one still IN_PROGRESS after this was
# started by a node that stopped, and will never finish.
STALE_AFTER = timedelta(minutes=10)
STALE_ERROR = "JobInterrupted"


class AdvisorJobs:
    """Jobs of the account of `tx`."""

    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        new_id: Callable[[], str],
        last_used: LastUsedRecorder,
        submit: Submit,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._new_id = new_id
        self._last_used = last_used
        self._submit = submit

    def start(self, kind: str, target: str, build: Callable[[], str]) -> JobRow:
        """Store a new job and have `build` (which returns the report's JSON text) run
        on the advisor's thread; a `build` that raises leaves the job FAILED."""
        now = self._clock.now()
        row = JobRow(self._new_id(), target, kind, "IN_PROGRESS", now, None, None, None)
        account = self._tx.account_id
        with self._tx.write_uncached() as repos:
            forget_jobs(repos.conn, account, before=now - JOB_LIFETIME, keep=MAX_JOBS - 1)
            add_job(repos.conn, account, row)
        self._submit(lambda: self._build(row.job_id, build))
        return row

    def get(self, job_id: str, kinds: tuple[str, ...]) -> JobRow:
        """The job, when it is one of these kinds and not past its lifetime; one left
        IN_PROGRESS by a node that stopped is answered (and stored) FAILED."""
        with self._tx.read() as repos:
            row = get_job(repos.conn, self._tx.account_id, job_id)
        now = self._clock.now()
        if row is None or row.granularity not in kinds or now - row.created >= JOB_LIFETIME:
            raise NoSuchEntity(f"Job {job_id} does not exist.")
        if row.status == "IN_PROGRESS" and now - row.created >= STALE_AFTER:
            self._finish(job_id, "FAILED", now, STALE_ERROR, None)
            return JobRow(
                row.job_id, row.arn, row.granularity, "FAILED", row.created, now, STALE_ERROR, None
            )
        return row

    def _build(self, job_id: str, build: Callable[[], str]) -> None:
        report: str | None = None
        error: str | None = None
        try:
            try:
                self._last_used.flush()
            except Exception:
                # The report then shows the uses written so far; they are retried later.
                log.warning("could not write pending service uses before an advisor report")
            report = build()
        except Exception as failed:
            log.exception("access advisor job failed")
            error = type(failed).__name__
        try:
            status = "FAILED" if error is not None else "COMPLETED"
            self._finish(job_id, status, self._clock.now(), error, report)
        except Exception:
            # Read later, the job is answered FAILED once it is STALE_AFTER old.
            log.exception("could not store an access advisor report")

    def _finish(
        self, job_id: str, status: str, completed: datetime, error: str | None, report: str | None
    ) -> None:
        with self._tx.write_uncached() as repos:
            finish_job(
                repos.conn,
                self._tx.account_id,
                job_id,
                status=status,
                completed=completed,
                error=error,
                report=report,
            )

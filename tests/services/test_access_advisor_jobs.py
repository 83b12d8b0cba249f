"""The access advisor's jobs and its record, on a real database with the real services:
a job is IN_PROGRESS until its thread has built it, and a late use never turns a newer
one back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.local_services import ACCOUNT, MovableClock, local_services

from iamd.errors import NoSuchEntity
from iamd.model.owners import OwnerKind
from iamd.services.access_advisor import AccessAdvisorService
from iamd.services.advisor_jobs import AdvisorJobs
from iamd.services.container import Services
from iamd.store.sql.service_last_accessed import uses_of


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    url = request.getfixturevalue("fresh_postgres_url") if request.param == "postgresql" else None
    with local_services(tmp_path, MovableClock(), database_url=url) as made:
        yield made


def test_a_job_is_in_progress_until_its_worker_has_run(services: Services) -> None:
    services.users.create("dev", "/")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}],
    }
    services.inline_policies.put(OwnerKind.USER, "dev", "p", json.dumps(document))
    queued: list[Callable[[], None]] = []

    def later(work: Callable[[], None]) -> Future[None]:
        queued.append(work)
        return Future()

    advisor = AccessAdvisorService(
        services.tx,
        AdvisorJobs(services.tx, services.clock, lambda: "job-1", services.last_used, later),
    )
    arn = f"arn:aws:iam::{ACCOUNT}:user/dev"
    job_id = advisor.generate(arn, None)

    assert advisor.job(job_id).status == "IN_PROGRESS"
    assert advisor.job(job_id).services == []
    queued.pop()()
    done = advisor.job(job_id)
    assert done.status == "COMPLETED"
    assert [s.namespace for s in done.services] == ["sts"]
    assert done.services[0].last_authenticated is None


def test_uses_are_batched_and_an_older_one_never_wins(services: Services) -> None:
    clock = services.clock
    arn = f"arn:aws:iam::{ACCOUNT}:user/dev"
    newer = clock.now()
    recorder = services.last_used
    recorder.record_service(ACCOUNT, arn, "iam", "GetUser", newer, "eu-west-1")
    assert len(recorder.pending_services()) == 2  # the service and its action
    recorder.flush()
    recorder.record_service(ACCOUNT, arn, "iam", "GetUser", newer - timedelta(days=1), "us-east-1")
    recorder.record_service("210987654321", arn, "iam", "GetUser", newer, "us-east-1")
    recorder.flush()

    with services.tx.read() as repos:
        uses = uses_of(repos.conn, ACCOUNT, [arn])
    assert sorted((u.action, u.when, u.region) for u in uses) == [
        ("", newer, "eu-west-1"),
        ("GetUser", newer, "eu-west-1"),
    ]


def test_old_jobs_are_forgotten(services: Services) -> None:
    from iamd.services import advisor_jobs

    services.users.create("dev", "/")
    ids = iter(range(10**6))
    advisor = AccessAdvisorService(
        services.tx,
        AdvisorJobs(
            services.tx, services.clock, lambda: f"job-{next(ids)}", services.last_used, _run_now
        ),
    )
    arn = f"arn:aws:iam::{ACCOUNT}:user/dev"
    first = advisor.generate(arn, None)
    assert advisor.job(first).status == "COMPLETED"
    clock = services.clock
    assert isinstance(clock, MovableClock)
    clock.when += advisor_jobs.JOB_LIFETIME
    second = advisor.generate(arn, "ACTION_LEVEL")

    assert advisor.job(second).granularity == "ACTION_LEVEL"
    with pytest.raises(NoSuchEntity):
        advisor.job(first)


def _run_now(work: Callable[[], None]) -> Future[None]:
    work()
    done: Future[None] = Future()
    done.set_result(None)
    return done


def test_a_job_whose_node_stopped_is_answered_failed_once_stale(services: Services) -> None:
    from iamd.services import advisor_jobs

    services.users.create("dev", "/")
    lost: list[Callable[[], None]] = []

    def never_run(work: Callable[[], None]) -> Future[None]:
        lost.append(work)  # the node stops before its advisor thread builds the job
        return Future()

    started = AccessAdvisorService(
        services.tx,
        AdvisorJobs(services.tx, services.clock, lambda: "job-lost", services.last_used, never_run),
    )
    job_id = started.generate(f"arn:aws:iam::{ACCOUNT}:user/dev", None)
    # Another node, on the same database, reads the job.
    other = AccessAdvisorService(
        services.tx,
        AdvisorJobs(services.tx, services.clock, lambda: "unused", services.last_used, _run_now),
    )
    assert other.job(job_id).status == "IN_PROGRESS"
    clock = services.clock
    assert isinstance(clock, MovableClock)
    clock.when += advisor_jobs.STALE_AFTER
    failed = other.job(job_id)
    assert (failed.status, failed.error) == ("FAILED", advisor_jobs.STALE_ERROR)
    # The stopped node's build, were it to finish after all, changes nothing now.
    lost.pop()()
    assert other.job(job_id).status == "FAILED"

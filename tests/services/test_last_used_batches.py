"""The last-used batch on a real database: one row the database refuses is dropped on
its own, every other use of the batch is still written, and a batch being written is
still pending to readers until it commits."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.local_services import ACCOUNT, MovableClock, local_services

from iamd.services.container import Services
from iamd.store.sql.service_last_accessed import SERVICE_LEVEL, uses_of

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with local_services(tmp_path, MovableClock()) as made:
        yield made


class _Unbindable:
    """A value no database driver can bind: a row the database refuses."""


def test_one_refused_row_does_not_lose_the_rest_of_the_batch(services: Services) -> None:
    services.users.create("dev", "/")
    good = services.access_keys.create("dev").key.access_key_id
    other = services.access_keys.create("dev").key.access_key_id
    now = services.clock.now()
    recorder = services.last_used
    recorder.record(good, now, "iam", "eu-west-1")
    recorder.record(other, now, _Unbindable(), "eu-west-1")  # type: ignore[arg-type]
    arn = f"arn:aws:iam::{ACCOUNT}:user/dev"
    recorder.record_service(ACCOUNT, arn, "iam", "GetUser", now, "eu-west-1")

    # Written: the good key's use, and the service use at service and action level.
    assert recorder.flush() == 3

    assert services.access_keys.last_used(good).last_used_region == "eu-west-1"
    assert services.access_keys.last_used(other).last_used_date is None
    with services.tx.read() as repos:
        uses = uses_of(repos.conn, ACCOUNT, [arn])
    assert sorted((use.service_namespace, use.action) for use in uses) == [
        ("iam", SERVICE_LEVEL),
        ("iam", "GetUser"),
    ]
    # The refused row is not retried for ever: the next flush has nothing to write.
    assert recorder.flush() == 0


def test_a_use_being_written_is_still_pending_until_it_commits(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GetAccessKeyLastUsed asks for the pending use, then reads the row: were the batch
    neither pending nor committed while it is written, a read then would see no use."""
    services.users.create("dev", "/")
    key = services.access_keys.create("dev").key.access_key_id
    role = services.roles.create("ops", "/", TRUST).role_id
    recorder = services.last_used
    now = services.clock.now()
    recorder.record(key, now, "sts", "eu-west-1")
    recorder.record_role(role, now, "eu-west-1")

    writing, release = threading.Event(), threading.Event()
    real_write = recorder._write

    def slow_write(*args: Any) -> None:
        writing.set()
        assert release.wait(10)
        real_write(*args)

    monkeypatch.setattr(recorder, "_write", slow_write)
    before = recorder.batches_written
    flusher = threading.Thread(target=recorder.flush)
    flusher.start()
    assert writing.wait(10)
    pending = recorder.pending(key)
    assert pending is not None
    assert pending.service == "sts"
    assert recorder.pending_role(role) is not None
    assert services.access_keys.last_used(key).last_used_date is None
    assert recorder.batches_written == before

    release.set()
    flusher.join(10)
    assert recorder.pending(key) is None
    assert recorder.pending_role(role) is None
    assert recorder.batches_written == before + 1
    assert services.access_keys.last_used(key).last_used_service == "sts"

"""The last-used batch on a real database: one row the database refuses is dropped on
its own, and every other use of the batch is still written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.local_services import ACCOUNT, MovableClock, local_services

from iamd.services.container import Services
from iamd.store.sql.service_last_accessed import SERVICE_LEVEL, uses_of


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

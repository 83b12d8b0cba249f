"""Shared fixtures: real iamd servers (SQLite and PostgreSQL) and clients for them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import create_database, postgres_cluster
from tests.support.servers import RunningServer, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server shared by the tests that only add entities with unique names."""
    running = start_server(tmp_path_factory.mktemp("iamd-shared"))
    yield running
    running.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of its own, on an empty database, for tests that need a known state."""
    running = start_server(tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture
def fresh_postgres_url(postgres_url: str, unique: str) -> str:
    """A database of its own on the shared throwaway cluster."""
    return create_database(postgres_url, unique)


@pytest.fixture
def iam(server: RunningServer) -> Any:
    return server.client("iam")


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> str:
    """A name prefix unique to the test, for entities on the shared server."""
    import hashlib

    return "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:10]

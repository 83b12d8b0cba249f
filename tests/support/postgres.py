"""A throwaway PostgreSQL cluster for the tests, started from Debian's binaries.

`initdb` refuses to run as root, so as root the cluster is created and run as the
`postgres` system user (which Debian's package creates); otherwise as ourselves.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port


def postgres_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for candidate in reversed(candidates):
        if os.access(os.path.join(candidate, "initdb"), os.X_OK):
            return Path(candidate)
    raise RuntimeError("PostgreSQL is not installed (run `make system-deps`)")


def _as_cluster_user(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh database on a cluster of its own, then remove it.

    The cluster lives in its own directory under the system temporary directory, not in
    pytest's (which is private to root, so the `postgres` user could not enter it).
    """
    with controlled_postgres_cluster() as cluster:
        yield cluster.url


class PostgresCluster:
    """A running throwaway cluster that a test may stop and start again (same port)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.bin_dir = postgres_bin_dir()
        self.data = base / "pgdata"
        self.sockets = base / "pgsock"
        self.port = free_port()
        self.url = f"postgresql://iamd@127.0.0.1:{self.port}/iamd"

    def init(self) -> None:
        self.data.mkdir(parents=True)
        self.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.data, "postgres")
            shutil.chown(self.sockets, "postgres")
        subprocess.run(
            _as_cluster_user(
                [
                    str(self.bin_dir / "initdb"),
                    *("-D", str(self.data), "-U", "iamd", "--auth=trust", "-E", "UTF8"),
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.sockets} -c fsync=off"
        )
        subprocess.run(
            _as_cluster_user(
                [
                    str(self.bin_dir / "pg_ctl"),
                    *("-D", str(self.data), "-o", options, "-l", str(self.base / "pg.log")),
                    *("-w", "start"),
                ]
            ),
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 30
        while True:
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        subprocess.run(
            _as_cluster_user(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            ),
            capture_output=True,
            check=False,
        )


@contextmanager
def controlled_postgres_cluster() -> Iterator[PostgresCluster]:
    """A cluster with database `iamd`, which the test may stop and start; then removed."""
    base = Path(tempfile.mkdtemp(prefix="iamd-pg-"))
    os.chmod(base, 0o755)  # noqa: S103 - the postgres user must enter it
    cluster = PostgresCluster(base)
    try:
        cluster.init()
        cluster.start()
        try:
            subprocess.run(
                [
                    str(cluster.bin_dir / "createdb"),
                    *("-h", "127.0.0.1", "-p", str(cluster.port), "-U", "iamd", "iamd"),
                ],
                check=True,
                capture_output=True,
            )
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def create_database(cluster_url: str, name: str) -> str:
    """Create database `name` on the cluster of `cluster_url`; return its URL."""
    import psycopg

    with psycopg.connect(cluster_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"

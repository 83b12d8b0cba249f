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
    base = Path(tempfile.mkdtemp(prefix="iamd-pg-"))
    os.chmod(base, 0o755)  # noqa: S103 - the postgres user must enter it
    try:
        yield from _run_cluster(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run_cluster(base: Path) -> Iterator[str]:
    bin_dir = postgres_bin_dir()
    data = base / "pgdata"
    sockets = base / "pgsock"
    data.mkdir(parents=True)
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(
        _as_cluster_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "iamd", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} "
        f"-c unix_socket_directories={sockets} -c fsync=off"
    )
    subprocess.run(
        _as_cluster_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "pg.log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            ready = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not start")
            time.sleep(0.1)
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "iamd", "iamd"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://iamd@127.0.0.1:{port}/iamd"
    finally:
        subprocess.run(
            _as_cluster_user(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
            ),
            capture_output=True,
            check=False,
        )


def create_database(cluster_url: str, name: str) -> str:
    """Create database `name` on the cluster of `cluster_url`; return its URL."""
    import psycopg

    with psycopg.connect(cluster_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"

"""`iamd backup` / `iamd restore`: the database and the files that go with it, together.

A backup is one gzip'd tar archive, written 0600 (it holds the master key by default,
and the sealed secrets with it):

- ``manifest.json``: format version, iamd version, when, the database kind, which
  files are included, and a *key check*: a constant sealed with the master key in
  place. Restore opens it before touching anything, so a wrong master key is refused
  up front, whichever engine.
- ``database/iamd.sqlite3``: SQLite's online backup (one consistent snapshot, taken
  while the server keeps serving), or ``database/iamd.pgdump``: ``pg_dump
  --format=custom`` (one consistent snapshot too).
- ``data/``: ``master.key`` (unless ``--without-master-key``, or when the key comes
  from ``IAMD_MASTER_KEY``), ``bootstrap-credentials``, the SSH host key, the
  self-signed TLS certificate, and ``repositories/`` (the bare git repositories; per
  repository the refs are copied before the objects, so every ref copied finds its
  objects).

Before writing, backup checks that the master key in place opens a secret of the
snapshot; restore checks that the key it will install opens the key check and a
secret of the restored snapshot, and refuses otherwise, leaving the target as it was.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from iamd import __version__
from iamd.auth.secret_box import SecretBox
from iamd.principals.credentials import opens_stored_secrets
from iamd.store.database import Database
from iamd.store.sql.access_keys import AccessKeyRepository

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_NAME = "iamd.sqlite3"
_SQLITE_MEMBER = "database/iamd.sqlite3"
_PGDUMP_MEMBER = "database/iamd.pgdump"
_CHECK_CONTEXT = b"iamd-backup-key-check"
_CHECK_TEXT = "iamd backup key check"
# Files of the data directory that belong with the database (besides repositories/).
DATA_FILES = (
    "master.key",
    "bootstrap-credentials",
    "ssh_host_ed25519_key",
    "ssh_host_ed25519_key.pub",
    "tls-self-signed.crt",
    "tls-self-signed.key",
)
# Per bare repository, what is copied first: the refs, then everything else.
_REFS_FIRST = ("HEAD", "packed-refs", "refs")


class BackupError(RuntimeError):
    """A backup or a restore that cannot be done; its message is one line for operators."""


@dataclass(frozen=True, slots=True)
class BackupSummary:
    path: Path
    database: str
    master_key_included: bool
    repositories: int


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    data_dir: Path
    database: str
    created: str
    master_key_from: str


def create_backup(
    data_dir: Path,
    database_url: str | None,
    output: Path,
    *,
    master_key_env: str | None,
    include_master_key: bool = True,
) -> BackupSummary:
    box = _box_in_place(data_dir, master_key_env)
    if output.exists():
        raise BackupError(f"{output} exists; give a new file name")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".iamd-backup-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        if database_url is None:
            source = data_dir / SQLITE_NAME
            if not source.is_file():
                raise BackupError(f"no database at {source} (is --data-dir right?)")
            snapshot, member, kind = work / SQLITE_NAME, _SQLITE_MEMBER, "sqlite"
            _sqlite_snapshot(source, snapshot)
            _check_database(box, _sqlite_url(snapshot))
        else:
            snapshot, member, kind = work / "iamd.pgdump", _PGDUMP_MEMBER, "postgresql"
            _check_database(box, database_url)
            _pg_dump(database_url, snapshot)
        with_key = include_master_key and master_key_env is None
        files = [name for name in DATA_FILES if (data_dir / name).is_file()]
        if not with_key:
            files = [name for name in files if name != "master.key"]
        repositories = sorted((data_dir / "repositories").glob("*.git"))
        manifest = {
            "format": FORMAT,
            "iamd_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": kind,
            "files": files,
            "repositories": [path.name for path in repositories],
            "master_key_included": "master.key" in files,
            "key_check": base64.b64encode(box.seal(_CHECK_TEXT, _CHECK_CONTEXT)).decode(),
        }
        partial = work / "backup.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            archive.add(snapshot, member)
            for name in files:
                archive.add(data_dir / name, f"data/{name}")
            for repository in repositories:
                for path in _refs_then_objects(repository):
                    relative = path.relative_to(data_dir)
                    # git's temporary files (a pack being received, a lock) come and
                    # go while the server runs; one gone since the listing is skipped.
                    with contextlib.suppress(FileNotFoundError):
                        archive.add(path, f"data/{relative}", recursive=False)
            raw.flush()
            os.fsync(raw.fileno())
        os.link(partial, output)
    return BackupSummary(output, kind, bool(manifest["master_key_included"]), len(repositories))


def restore_backup(
    archive_path: Path,
    data_dir: Path,
    database_url: str | None,
    *,
    master_key_env: str | None,
) -> RestoreSummary:
    if not archive_path.is_file():
        raise BackupError(f"no backup at {archive_path}")
    # Private from the start: it will hold the master key and the database.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if database_url is None and (data_dir / SQLITE_NAME).exists():
        raise BackupError(
            f"{data_dir / SQLITE_NAME} exists: restore into an empty data directory "
            "(stop iamd and move the old one aside first)"
        )
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".iamd-restore-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(archive_path, mode="r:gz") as archive:
                archive.extractall(work, filter="data")
            manifest = json.loads((work / MANIFEST).read_text())
        except (tarfile.TarError, OSError, ValueError, KeyError) as exc:
            raise BackupError(f"{archive_path} is not an iamd backup ({exc})") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive_path} has backup format {manifest.get('format')!r}")
        kind = manifest["database"]
        if (kind == "sqlite") != (database_url is None):
            wanted = "--database-url" if kind == "postgresql" else "no --database-url"
            raise BackupError(f"this backup holds a {kind} database: restore it with {wanted}")
        box, key_from = _box_for_restore(work, data_dir, master_key_env)
        try:
            box.open(base64.b64decode(manifest["key_check"]), _CHECK_CONTEXT)
        except ValueError:
            raise BackupError(
                f"the master key from {key_from} does not open this backup: set "
                "IAMD_MASTER_KEY to the key the backup was made with"
            ) from None
        if kind == "sqlite":
            snapshot = work / _SQLITE_MEMBER
            _check_database(box, _sqlite_url(snapshot))
            _install_files(work / "data", data_dir)
            os.replace(snapshot, data_dir / SQLITE_NAME)
        else:
            assert database_url is not None
            _refuse_non_empty(database_url)
            _pg_restore(database_url, work / _PGDUMP_MEMBER)
            _check_database(box, database_url)
            _install_files(work / "data", data_dir)
    return RestoreSummary(data_dir, kind, str(manifest["created"]), key_from)


def _box_in_place(data_dir: Path, master_key_env: str | None) -> SecretBox:
    key_file = data_dir / "master.key"
    if master_key_env is None and not key_file.is_file():
        raise BackupError(f"no master key: {key_file} does not exist and IAMD_MASTER_KEY is unset")
    try:
        return SecretBox.from_environment_or_file(master_key_env, key_file)
    except ValueError as exc:
        raise BackupError(str(exc)) from None


def _box_for_restore(
    work: Path, data_dir: Path, master_key_env: str | None
) -> tuple[SecretBox, str]:
    included = work / "data" / "master.key"
    existing = data_dir / "master.key"
    try:
        if master_key_env is not None:
            if included.exists():
                included.unlink()  # the environment's key is the one iamd will use
            return SecretBox.from_environment_or_file(master_key_env, existing), "IAMD_MASTER_KEY"
        if included.exists():
            if existing.exists() and existing.read_bytes() != included.read_bytes():
                raise BackupError(
                    f"{existing} exists and differs from the backup's master key; move it "
                    "aside or set IAMD_MASTER_KEY"
                )
            return SecretBox.from_environment_or_file(None, included), "the backup"
        if existing.exists():
            return SecretBox.from_environment_or_file(None, existing), str(existing)
    except ValueError as exc:
        raise BackupError(str(exc)) from None
    raise BackupError(
        "the backup holds no master key: set IAMD_MASTER_KEY, or put the master.key it was "
        f"made with into {data_dir}"
    )


def _check_database(box: SecretBox, url: str) -> None:
    database = Database(url, pool_size=1)
    try:
        with database.read() as conn:
            if not inspect(conn).has_table("access_keys"):
                raise BackupError("the database has no iamd tables")
            opens = opens_stored_secrets(box, AccessKeyRepository(conn))
    finally:
        database.dispose()
    if not opens:
        raise BackupError(
            "the master key does not open the secrets of this database: use the key it "
            "was created with (master.key or IAMD_MASTER_KEY)"
        )


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """One consistent copy through SQLite's online backup API, the server still running."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
    target.chmod(0o600)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    bare = parsed.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (PostgreSQL's client tools)")
    return found


def _pg_dump(url: str, target: Path) -> None:
    _run_pg_tool("pg_dump", ["--format=custom", "--no-owner", "--file", str(target)], url)


def _pg_restore(url: str, dump: Path) -> None:
    _run_pg_tool(
        "pg_restore",
        ["--no-owner", "--single-transaction", "--exit-on-error", "--dbname"],
        url,
        str(dump),
    )


def _run_pg_tool(name: str, options: list[str], url: str, *after: str) -> None:
    """Run one of PostgreSQL's client tools on `url`; the password goes in PGPASSWORD."""
    libpq, env = _libpq(url)
    done = subprocess.run(
        [_pg_tool(name), *options, libpq, *after],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{name} failed: {_last_line(done.stderr)}")


def _refuse_non_empty(url: str) -> None:
    database = Database(url, pool_size=1)
    try:
        with database.read() as conn:
            tables = inspect(conn).get_table_names()
    finally:
        database.dispose()
    if tables:
        raise BackupError(
            "the target database is not empty: restore into a new database (createdb)"
        )


def _install_files(source: Path, data_dir: Path) -> None:
    if not source.is_dir():
        return
    for entry in sorted(source.iterdir()):
        target = data_dir / entry.name
        if entry.name == "repositories":
            target.mkdir(exist_ok=True)
            for repository in entry.iterdir():
                destination = target / repository.name
                if destination.exists():
                    raise BackupError(f"{destination} exists: restore into an empty data directory")
                os.replace(repository, destination)
        elif entry.name == "master.key" and target.exists():
            continue  # the same key, checked above
        else:
            os.replace(entry, target)


def _refs_then_objects(repository: Path) -> Iterator[Path]:
    yield repository
    seen: set[Path] = set()
    for name in _REFS_FIRST:
        first = repository / name
        if first.exists():
            yield from _walk(first, seen)
    for entry in sorted(repository.iterdir()):
        yield from _walk(entry, seen)


def _walk(path: Path, seen: set[Path]) -> Iterator[Path]:
    if path in seen:
        return
    seen.add(path)
    yield path
    if path.is_dir() and not path.is_symlink():
        try:
            children = sorted(path.iterdir())
        except FileNotFoundError:
            return
        for child in children:
            yield from _walk(child, seen)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"

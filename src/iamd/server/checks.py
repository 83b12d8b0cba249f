"""What `iamd serve` refuses before anything starts, each refusal one line (`StartupError`)
that names the option which fixes it: the data directory, the ports, the database URL and
its reachability, the master key, the TLS files, the open-file limit."""

from __future__ import annotations

import logging
import os
import socket
import tempfile

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from iamd.auth.data_dir_modes import make_private
from iamd.auth.secret_box import SecretBox
from iamd.http.connection_limits import (
    ConnectionLimits,
    connection_budget,
    raise_open_file_limit,
)
from iamd.principals.credentials import opens_stored_secrets
from iamd.server.listeners import PortUnavailable, bind_port
from iamd.server.settings import Settings
from iamd.server.tls import TlsFiles, check_loadable, self_signed
from iamd.services.container import Services
from iamd.store.database import Database, DatabaseTimeouts

log = logging.getLogger("iamd")


class StartupError(RuntimeError):
    """A configuration problem found before serving; told to the operator in one line."""


class MasterKeyMismatch(StartupError):
    """The master key cannot open the secrets this database holds."""


def check_master_key(services: Services, box: SecretBox) -> None:
    """Refuse to start with a master key that cannot open the stored secrets.

    Starting anyway would answer every request with an error; saying so once, at
    start-up, points the operator at the cause (a lost or replaced key file, or a wrong
    IAMD_MASTER_KEY).
    """
    with services.tx.read() as repos:
        opens = opens_stored_secrets(box, repos.access_keys)
    if not opens:
        raise MasterKeyMismatch(
            "the master key cannot decrypt the secrets in this database: restore the "
            "original master.key file or set IAMD_MASTER_KEY to the key it was created with"
        )


HTTP_PORT_FIX = "choose another with --port (IAMD_PORT)"


SSH_PORT_FIX = (
    "choose another with --ssh-port (IAMD_SSH_PORT), or serve no git over SSH with "
    "--no-git-ssh (IAMD_GIT_SSH=false)"
)


DATA_DIR_FIX = "choose another with --data-dir (IAMD_DATA_DIR)"


def bind(
    host: str, port: int, what: str, fix: str, *, reuse_port: bool = False, joining: bool = False
) -> socket.socket:
    try:
        return bind_port(host, port, what=what, fix=fix, reuse_port=reuse_port, joining=joining)
    except PortUnavailable as exc:
        raise StartupError(str(exc)) from None


def prepare_data_dir(settings: Settings) -> None:
    """Create the data directory, and prove it can be listed and written."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StartupError(
            f"the data directory {path} is not a directory; {DATA_DIR_FIX}"
        ) from None
    except OSError as exc:
        raise StartupError(
            f"cannot create the data directory {path}: {exc.strerror or exc}; {DATA_DIR_FIX}"
        ) from None
    try:
        os.listdir(path)
        # A file created and removed at once: permissions, a read-only file system and
        # a full disk all show here rather than in the middle of the first write.
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise StartupError(
            f"cannot read and write the data directory {path}: {exc.strerror or exc}; "
            f"give the user running iamd access to it, or {DATA_DIR_FIX}"
        ) from None
    try:
        # 0700 for the directory, 0600 for what an older start left looser.
        make_private(path, settings.private_paths)
    except OSError as exc:
        raise StartupError(
            f"cannot make the data directory {path} private: {exc.strerror or exc}; {DATA_DIR_FIX}"
        ) from None


def open_database(settings: Settings, *, cross_process_writers: bool = False) -> Database:
    """The database engine (not yet connected); `StartupError` for a bad URL.

    `cross_process_writers`: SQLite writers of several processes (`--workers`) queue on
    a lock file too (`store/database.py`).
    """
    try:
        database = Database(
            settings.effective_database_url,
            cross_process_writers=cross_process_writers,
            pool_size=settings.worker_threads,
            timeouts=DatabaseTimeouts(
                lock_seconds=settings.db_lock_timeout_seconds,
                statement_seconds=settings.db_statement_timeout_seconds,
                idle_in_transaction_seconds=settings.db_idle_in_transaction_timeout_seconds,
            ),
            # Names this node's sessions in pg_stat_activity.
            application_name=f"iamd {settings.host}:{settings.port}",
        )
    except ArgumentError as exc:
        raise StartupError(
            f"--database-url (IAMD_DATABASE_URL) is not a database URL iamd can use ({exc}); "
            "give postgresql://user:password@host:5432/db, or leave it unset for SQLite"
        ) from None
    return database


def database_problem(settings: Settings, exc: DBAPIError) -> str:
    # The driver's first line says what happened (refused, no such database, password
    # authentication failed); the URL is shown without its password.
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    shown = make_url(settings.effective_database_url).render_as_string(hide_password=True)
    if settings.database_url:
        return (
            f"cannot use the database {shown}: {reason}; check --database-url "
            "(IAMD_DATABASE_URL) and that PostgreSQL is running and reachable"
        )
    return f"cannot open the database {shown}: {reason}; {DATA_DIR_FIX}"


def tls_files(settings: Settings) -> TlsFiles | None:
    """The certificate and key to serve HTTPS with, checked; None for plain HTTP."""
    try:
        if settings.tls_self_signed:
            files = self_signed(settings.data_dir, settings.host)
        elif settings.tls_cert_file is not None and settings.tls_key_file is not None:
            files = TlsFiles(settings.tls_cert_file, settings.tls_key_file)
        else:
            return None
        check_loadable(files)
    except (ValueError, OSError) as exc:
        raise StartupError(str(exc)) from exc
    log.info("TLS certificate %s (SHA-256 fingerprint %s)", files.cert_file, files.fingerprint)
    if settings.tls_self_signed:
        log.info(
            "clients trust it with ca_bundle = %s (AWS CLI profile) or AWS_CA_BUNDLE; "
            "boto3: verify=%r",
            files.cert_file.resolve(),
            str(files.cert_file.resolve()),
        )
    return files


def connection_limits(settings: Settings) -> ConnectionLimits:
    open_files = raise_open_file_limit()
    budget = connection_budget(
        settings.max_connections,
        open_files,
        worker_threads=settings.worker_threads,
        git_sessions=settings.max_git_sessions if settings.git_ssh else 0,
    )
    if budget < settings.max_connections:
        log.warning(
            "at most %d HTTP connections at once (not %d): the open-file limit is %d",
            budget,
            settings.max_connections,
            open_files,
        )
    return ConnectionLimits(
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        max_connections=budget,
    )

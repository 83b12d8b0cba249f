"""Running the server: open the database, migrate, bootstrap, serve, shut down cleanly.

SIGTERM and SIGINT stop accepting connections, let requests in flight finish, then
write the pending last-used dates and close the database: nothing acknowledged is lost.
git over SSH (`iamd.gitssh`) runs on the same event loop as the HTTP server; it stops
accepting after the HTTP drain and gives git sessions in flight the same grace period.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import FrameType

import asyncssh
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from iamd.auth.data_dir_modes import make_private
from iamd.auth.passwords import PasswordHashing
from iamd.auth.secret_box import SecretBox
from iamd.authz import PolicyAuthorizer
from iamd.authz.password_self_service import password_self_service
from iamd.clock import Clock, OffsetFileClock, SystemClock
from iamd.config import Settings
from iamd.errors import ServiceUnavailable
from iamd.gitssh.host_keys import load_or_create_host_key
from iamd.gitssh.offload import Offload
from iamd.gitssh.server import GitSshServer
from iamd.gitssh.sessions import GitSessions
from iamd.http.access_log import AccessLog
from iamd.http.app import IamdApp
from iamd.http.connection_limits import (
    ConnectionLimits,
    connection_budget,
    raise_open_file_limit,
)
from iamd.http.connections import ConnectionGuard, IamdHttpProtocol, RejectionLog
from iamd.http.failures import UnexpectedFailures
from iamd.http.listeners import PortUnavailable, bind_port
from iamd.http.metrics_sources import register_sources
from iamd.http.next_steps import announce_ready
from iamd.http.operator_routes import MetricsEndpoint, OperatorRoutes
from iamd.http.pipeline import AwsPipeline
from iamd.http.sign_in import SignInEndpoint
from iamd.http.tls import TlsFiles, check_loadable, self_signed
from iamd.ids import RandomIds
from iamd.metrics import Metrics
from iamd.operations.table import build_operation_table
from iamd.protocol import JsonCodec, QueryCodec
from iamd.services.access_keys import opens_stored_secrets
from iamd.services.bootstrap import bootstrap
from iamd.services.clone_urls import CloneUrls, public_host
from iamd.services.container import Services
from iamd.services.quotas import Quotas
from iamd.services.unused_key_guard import UnusedKeyGuard
from iamd.store.database import Database, DatabaseTimeouts
from iamd.store.migrate import StartupLockTimeout, startup_lock, upgrade_to_head
from iamd.store.sql import changes

log = logging.getLogger("iamd")

# Seconds requests (HTTP) and git sessions (SSH) in flight get to finish at shutdown.
_GRACE_SECONDS = 20


class _Stop(Exception):
    """Raised by our signal handler once uvicorn has shut down gracefully."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


class ChangeWatcher:
    """Drops this node's caches when another node sharing the database writes."""

    def __init__(self, services: Services, interval: float) -> None:
        self._services = services
        self._interval = interval
        self._stop = threading.Event()
        self._last = 0
        self._thread = threading.Thread(target=self._run, name="iamd-changes", daemon=True)

    def start(self) -> None:
        # Read the counter before this node caches anything: a first reading taken later
        # could already include a change made after a cache fill, and that change would
        # then never be noticed.
        self._last = self._read_counter()
        self._thread.start()

    def _read_counter(self) -> int:
        with self._services.tx.database.read() as conn:
            return changes.total(conn)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                counter = self._read_counter()
            except ServiceUnavailable:
                # Unknown whether another node wrote: drop the caches to stay correct
                # (the outage is logged once, by the database's health).
                self._services.tx.drop_caches()
                continue
            except Exception:
                log.exception("could not read the change signal")
                self._services.tx.drop_caches()
                continue
            if counter != self._last:
                self._services.tx.drop_caches()
            self._last = counter


def build_services(
    settings: Settings, database: Database, quotas: Quotas
) -> tuple[Services, SecretBox]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    box = SecretBox.from_environment_or_file(settings.master_key, settings.master_key_file)
    clock: Clock = SystemClock()
    if settings.test_clock_file is not None:
        log.warning(
            "TEST CLOCK: the server's time is moved by the seconds in %s; never use this "
            "outside tests",
            settings.test_clock_file,
        )
        clock = OffsetFileClock(settings.test_clock_file)
    hashing = None
    if settings.test_fast_password_hashing:
        log.warning("TEST PASSWORD HASHING: argon2 at its cheapest; never use this outside tests")
        hashing = PasswordHashing(time_cost=1, memory_kib=8, lanes=1)
    services = Services.build(
        database=database,
        account_id=settings.account_id,
        clock=clock,
        ids=RandomIds(),
        quotas=quotas,
        secret_box=box,
        last_used_flush_seconds=settings.last_used_flush_seconds,
        ssh_rsa_only=settings.ssh_key_types == "rsa",
        repositories_dir=settings.repositories_dir,
        clone_urls=CloneUrls(
            public_host(settings.host),
            settings.port,
            settings.ssh_port,
            http_scheme="https" if settings.tls else "http",
        ),
        password_hashing=hashing,
        sign_in_tracked_names=settings.sign_in_tracked_names,
    )
    return services, box


class StartupError(RuntimeError):
    """A configuration problem found before serving; told to the operator in one line."""


class MasterKeyMismatch(StartupError):
    """The master key cannot open the secrets this database holds."""


def _check_master_key(services: Services, box: SecretBox) -> None:
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


def _tls_files(settings: Settings) -> TlsFiles | None:
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


def _connection_limits(settings: Settings) -> ConnectionLimits:
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


def _rejection_log(services: Services, access_log: AccessLog | None) -> RejectionLog:
    """Access-log lines for the requests the connection layer refuses (408, 414, 431...)."""

    def record(client_ip: str, status: int, code: str) -> str:
        request_id = services.ids.request_id()
        if access_log is not None:
            access_log.record(request_id, client_ip, "-", "-", status, code, 0.0)
        return request_id

    return record


def serve(
    settings: Settings, quotas: Quotas, *, access_log: bool = True, json_logs: bool = False
) -> None:
    """Serve until SIGTERM or SIGINT; `StartupError` (one line) when it cannot start.

    What can be refused is refused before anything starts: the data directory, both
    ports (bound before the database is opened), the database, the master key. Only
    then does the server say it listens.
    """
    _adopt_uvicorn_logs()
    _prepare_data_dir(settings)
    limits = _connection_limits(settings)
    tls = _tls_files(settings)
    http_socket = _bind(settings.host, settings.port, "HTTP", _HTTP_PORT_FIX)
    sockets = [http_socket]
    try:
        ssh_socket = (
            _bind(settings.host, settings.ssh_port, "git over SSH", _SSH_PORT_FIX)
            if settings.git_ssh
            else None
        )
        if ssh_socket is not None:
            sockets.append(ssh_socket)
        _serve_on(settings, quotas, access_log, json_logs, limits, tls, http_socket, ssh_socket)
    finally:
        for sock in sockets:
            sock.close()


_HTTP_PORT_FIX = "choose another with --port (IAMD_PORT)"
_SSH_PORT_FIX = (
    "choose another with --ssh-port (IAMD_SSH_PORT), or serve no git over SSH with "
    "--no-git-ssh (IAMD_GIT_SSH=false)"
)
_DATA_DIR_FIX = "choose another with --data-dir (IAMD_DATA_DIR)"


def _bind(host: str, port: int, what: str, fix: str) -> socket.socket:
    try:
        return bind_port(host, port, what=what, fix=fix)
    except PortUnavailable as exc:
        raise StartupError(str(exc)) from None


def _prepare_data_dir(settings: Settings) -> None:
    """Create the data directory, and prove it can be listed and written."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StartupError(
            f"the data directory {path} is not a directory; {_DATA_DIR_FIX}"
        ) from None
    except OSError as exc:
        raise StartupError(
            f"cannot create the data directory {path}: {exc.strerror or exc}; {_DATA_DIR_FIX}"
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
            f"give the user running iamd access to it, or {_DATA_DIR_FIX}"
        ) from None
    try:
        # 0700 for the directory, 0600 for what an older start left looser.
        make_private(path, settings.private_paths)
    except OSError as exc:
        raise StartupError(
            f"cannot make the data directory {path} private: {exc.strerror or exc}; {_DATA_DIR_FIX}"
        ) from None


def _open_database(settings: Settings) -> Database:
    """The database engine (not yet connected); `StartupError` for a bad URL."""
    try:
        database = Database(
            settings.effective_database_url,
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


def _database_problem(settings: Settings, exc: DBAPIError) -> str:
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
    return f"cannot open the database {shown}: {reason}; {_DATA_DIR_FIX}"


def _serve_on(
    settings: Settings,
    quotas: Quotas,
    access_log: bool,
    json_logs: bool,
    limits: ConnectionLimits,
    tls: TlsFiles | None,
    http_socket: socket.socket,
    ssh_socket: socket.socket | None,
) -> None:
    database = _open_database(settings)
    host_key: asyncssh.SSHKey | None = None
    try:
        # Nodes starting together take turns: one migrates and bootstraps, the others
        # then find the schema current and the account there.
        with startup_lock(database):
            upgrade_to_head(database)
            # Only these steps raise ValueError for configuration (a malformed master
            # key, a key file others can read, bootstrap variables that do not go
            # together).
            services, box = build_services(settings, database, quotas)
            result = bootstrap(
                services,
                box.seal,
                access_key_id=settings.bootstrap_access_key_id,
                secret_access_key=settings.bootstrap_secret_access_key,
                credentials_file=settings.bootstrap_credentials_file,
            )
        _check_master_key(services, box)
        if ssh_socket is not None:
            host_key = load_or_create_host_key(settings.ssh_host_key_file)
    except DBAPIError as exc:
        database.dispose()
        raise StartupError(_database_problem(settings, exc)) from None
    except (ValueError, OSError, StartupLockTimeout) as exc:
        # OSError: the SSH host key file cannot be read or written.
        database.dispose()
        raise StartupError(str(exc)) from exc
    except BaseException:
        database.dispose()
        raise
    if result.created:
        log.info(
            "created account %s with user admin (access key %s)",
            settings.account_id,
            result.access_key_id,
        )
        if result.credentials_file is not None:
            log.info("the admin's credentials are in %s (mode 0600)", result.credentials_file)
    executor = ThreadPoolExecutor(
        max_workers=settings.worker_threads, thread_name_prefix="iamd-worker"
    )
    codecs: dict[str, QueryCodec | JsonCodec] = {name: QueryCodec(name) for name in ("iam", "sts")}
    codecs["codecommit"] = JsonCodec("codecommit")
    requests_log = AccessLog(json_lines=json_logs) if access_log else None
    metrics = Metrics()
    pipeline = AwsPipeline(
        services,
        codecs,
        build_operation_table(),
        PolicyAuthorizer(password_self_service(services.passwords)),
        access_log=requests_log,
        max_concurrent_costly=settings.worker_threads // 2,
        presigned_max_age=settings.presigned_url_max_age_seconds,
        metrics=metrics,
    )
    app = IamdApp(
        pipeline,
        executor,
        inline_reads=database.is_sqlite,
        failures=UnexpectedFailures(services.ids.request_id, requests_log),
        sign_in=SignInEndpoint(
            services, requests_log, max_concurrent=settings.worker_threads // 2, metrics=metrics
        ).handle,
        fail_path=settings.test_fail_path,
    )
    git_ssh = (
        _git_ssh_server(
            settings, services, host_key, executor, requests_log, database.is_sqlite, metrics
        )
        if host_key is not None
        else None
    )
    register_sources(
        metrics,
        database,
        git_ssh.active_sessions if git_ssh is not None else None,
        settings.max_git_sessions,
    )
    front = OperatorRoutes(
        app, MetricsEndpoint(metrics, settings.metrics_token) if settings.metrics else None
    )
    services.last_used.start()
    if requests_log is not None:
        requests_log.start()
    watcher = ChangeWatcher(services, settings.change_poll_seconds)
    watcher.start()
    guard = _unused_key_guard(settings, services)
    config = uvicorn.Config(
        front,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        # X-Forwarded-For would let any client choose its aws:SourceIp; iamd trusts
        # only the address the connection comes from.
        proxy_headers=False,
        timeout_graceful_shutdown=_GRACE_SECONDS,
        # uvicorn's httptools protocol with deadlines and size bounds (http/connections.py).
        http=IamdHttpProtocol.bind(ConnectionGuard(limits, _rejection_log(services, requests_log))),
        timeout_keep_alive=limits.keep_alive_timeout,
        # No WebSocket endpoint: an upgrade request is answered as plain HTTP.
        ws="none",
        ssl_certfile=str(tls.cert_file) if tls else None,
        ssl_keyfile=str(tls.key_file) if tls else None,
    )
    server = _Server(config, lambda: announce_ready(settings))
    # uvicorn drains connections on SIGTERM/SIGINT, then re-raises the signal with the
    # handler that was in place before it started. Ours turns that into an orderly
    # return, so the clean-up below (pending last-used dates, pools) always runs.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _run(server, config, http_socket, git_ssh, ssh_socket, settings)
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        watcher.stop()
        if guard is not None:
            guard.stop()
        executor.shutdown(wait=True)
        services.last_used.close()
        if requests_log is not None:
            requests_log.close()
        database.dispose()
        log.info("iamd stopped")


def _unused_key_guard(settings: Settings, services: Services) -> UnusedKeyGuard | None:
    days = settings.deactivate_unused_keys_after_days
    if days is None:
        return None
    guard = UnusedKeyGuard(
        services.tx,
        services.clock,
        services.last_used,
        unused_for=timedelta(days=days),
        interval=timedelta(seconds=settings.unused_key_sweep_seconds),
    )
    guard.start()
    log.info(
        "unused-key guard on: access keys unused for %d days are set Inactive "
        "(checked every %.0f s)",
        days,
        settings.unused_key_sweep_seconds,
    )
    return guard


def _git_ssh_server(
    settings: Settings,
    services: Services,
    host_key: asyncssh.SSHKey,
    executor: ThreadPoolExecutor,
    access_log: AccessLog | None,
    inline_reads: bool,
    metrics: Metrics,
) -> GitSshServer:
    offload = Offload(executor, inline_reads=inline_reads)
    sessions = GitSessions(
        services,
        PolicyAuthorizer(),
        offload,
        region=settings.region,
        access_log=access_log,
        max_sessions=settings.max_git_sessions,
        metrics=metrics,
    )
    return GitSshServer(
        services.ssh_logins,
        sessions,
        offload,
        host_key,
        host=settings.host,
        port=settings.ssh_port,
        metrics=metrics,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, which says once it is ready what to do next, and when it stops."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self._on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        log.info("stopping: requests and git sessions in flight get %d s to finish", _GRACE_SECONDS)
        await super().shutdown(sockets)


def _run(
    server: uvicorn.Server,
    config: uvicorn.Config,
    http_socket: socket.socket,
    git_ssh: GitSshServer | None,
    ssh_socket: socket.socket | None,
    settings: Settings,
) -> None:
    """Serve HTTP, and git over SSH on the same event loop, until a signal stops them."""

    async def serve_both() -> None:
        if git_ssh is None or ssh_socket is None:
            await server.serve(sockets=[http_socket])
            return
        await git_ssh.start(ssh_socket)
        log.info(
            "git over SSH on ssh://%s:%d (host key %s)",
            settings.host,
            settings.ssh_port,
            git_ssh.host_key_fingerprint,
        )
        try:
            await server.serve(sockets=[http_socket])
        finally:
            await git_ssh.stop(grace=_GRACE_SECONDS)

    loop_factory = getattr(config, "get_loop_factory", None)  # uvicorn >= 0.36
    if loop_factory is None:
        config.setup_event_loop()
        asyncio.run(serve_both())
        return
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(serve_both())


class _RenamedLogger(logging.Filter):
    """Gives uvicorn's records iamd's logger name: they are the server's own lines."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def filter(self, record: logging.LogRecord) -> bool:
        record.name = self._name
        return True


def _adopt_uvicorn_logs() -> None:
    # uvicorn logs its warnings and errors (a bad request line, an exception in the
    # application) as "uvicorn.error" at every level; they are iamd's HTTP server's.
    # Its start-up narrative repeats what iamd says itself: shown with DEBUG only.
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _RenamedLogger) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(_RenamedLogger("iamd.http"))
    if not log.isEnabledFor(logging.DEBUG):
        uvicorn_log.setLevel(logging.WARNING)

"""Running the server: open the database, migrate, bootstrap, serve, shut down cleanly.

SIGTERM and SIGINT stop accepting connections, let requests in flight finish, then
write the pending last-used dates and close the database: nothing acknowledged is lost.
git over SSH (`iamd.gitssh`) runs on the same event loop as the HTTP server; it stops
accepting after the HTTP drain and gives git sessions in flight the same grace period.
With `--workers N` this is what each worker runs, under `server/supervisor.py`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

import asyncssh
import uvicorn
from sqlalchemy.exc import DBAPIError

from iamd.auth.secret_box import SecretBox
from iamd.authz import PolicyAuthorizer
from iamd.authz.password_self_service import password_self_service
from iamd.gitssh.host_keys import load_or_create_host_key
from iamd.gitssh.server import GitSshServer
from iamd.http.app import IamdApp
from iamd.http.connection_limits import (
    ConnectionLimits,
)
from iamd.http.connections import ConnectionGuard, IamdHttpProtocol
from iamd.http.console.front import ConsoleFront
from iamd.http.failures import UnexpectedFailures
from iamd.http.git_http import GitHttp
from iamd.http.identity_center import IdentityCenterFront
from iamd.http.oidc_issuer import OidcIssuerEndpoint
from iamd.http.operator_routes import MetricsEndpoint, OperatorRoutes
from iamd.http.pipeline import AwsPipeline
from iamd.http.scim import ScimFront
from iamd.http.sign_in import SignInEndpoint
from iamd.model.quotas import Quotas
from iamd.operations.table import build_operation_table
from iamd.protocol import JsonCodec, QueryCodec
from iamd.protocol.cloudtrail_codec import CloudTrailCodec
from iamd.protocol.organizations_codec import OrganizationsCodec
from iamd.server.change_watcher import ChangeWatcher
from iamd.server.checks import (
    HTTP_PORT_FIX,
    SSH_PORT_FIX,
    StartupError,
    bind,
    check_master_key,
    connection_limits,
    database_problem,
    open_database,
    prepare_data_dir,
    tls_files,
)
from iamd.server.metrics_sources import register_sources
from iamd.server.next_steps import announce_ready
from iamd.server.settings import Settings
from iamd.server.supervisor import (
    CONFIGURATION_STATUS,
    Supervisor,
    WorkerIdentity,
    WorkerMain,
    WorkersFailed,
)
from iamd.server.tls import TlsFiles
from iamd.server.wiring import build_services, git_ssh_server, rejection_log, start_unused_key_guard
from iamd.services.bootstrap import bootstrap
from iamd.services.trail import TrailRecorder
from iamd.services.trail_files import TrailFiles, writable_trail_dir
from iamd.store.database import Database
from iamd.store.migrate import StartupLockTimeout, startup_lock, upgrade_to_head
from iamd.telemetry.access_log import AccessLog
from iamd.telemetry.metrics import Metrics

log = logging.getLogger("iamd")

# Seconds requests (HTTP) and git sessions (SSH) in flight get to finish at shutdown.
_GRACE_SECONDS = 20


class _Stop(Exception):
    """Raised by our signal handler once uvicorn has shut down gracefully."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def serve(
    settings: Settings, quotas: Quotas, *, access_log: bool = True, json_logs: bool = False
) -> None:
    """Serve until SIGTERM or SIGINT; `StartupError` (one line) when it cannot start.

    What can be refused is refused before anything starts: the data directory, both
    ports (bound before the database is opened), the database, the master key. Only
    then does the server say it listens.
    """
    _adopt_uvicorn_logs()
    prepare_data_dir(settings)
    limits = connection_limits(settings)
    tls = tls_files(settings)
    # Several workers each listen on a socket of their own (SO_REUSEPORT); these, bound
    # by the supervisor and never listening, prove the ports free and hold them.
    several = settings.workers > 1
    http_socket = bind(settings.host, settings.port, "HTTP", HTTP_PORT_FIX, reuse_port=several)
    sockets = [http_socket]
    try:
        ssh_socket = (
            bind(settings.host, settings.ssh_port, "git over SSH", SSH_PORT_FIX, reuse_port=several)
            if settings.git_ssh
            else None
        )
        if ssh_socket is not None:
            sockets.append(ssh_socket)
        if settings.workers == 1:
            _serve_on(settings, quotas, access_log, json_logs, limits, tls, http_socket, ssh_socket)
            return

        def worker_main(worker: WorkerIdentity, ready: Callable[[], None]) -> int:
            try:
                own_http, own_ssh = _worker_sockets(settings, ssh=ssh_socket is not None)
                for sock in sockets:
                    sock.close()  # the supervisor's
                _serve_on(
                    settings,
                    quotas,
                    access_log,
                    json_logs,
                    limits,
                    tls,
                    own_http,
                    own_ssh,
                    worker=worker,
                    on_ready=ready,
                )
            except StartupError as exc:
                log.error("%s", exc)
                return CONFIGURATION_STATUS
            return 0

        _supervise(settings, worker_main)
    finally:
        for sock in sockets:
            sock.close()


def _worker_sockets(settings: Settings, *, ssh: bool) -> tuple[socket.socket, socket.socket | None]:
    """A worker's own sockets on the ports its supervisor holds (SO_REUSEPORT)."""
    http = bind(settings.host, settings.port, "HTTP", HTTP_PORT_FIX, reuse_port=True, joining=True)
    if not ssh:
        return http, None
    try:
        what = "git over SSH"
        return http, bind(
            settings.host, settings.ssh_port, what, SSH_PORT_FIX, reuse_port=True, joining=True
        )
    except BaseException:
        http.close()
        raise


def _supervise(settings: Settings, worker_main: WorkerMain) -> None:
    """Run `settings.workers` workers until a signal (docs/deployment.md, "Several workers")."""
    log.info("starting %d workers", settings.workers)
    # The workers' drain, and a margin for their clean-up (last-used dates, the trail).
    supervisor = Supervisor(settings.workers, worker_main, grace_seconds=_GRACE_SECONDS + 15)
    try:
        supervisor.run()
    except WorkersFailed as exc:
        if exc.status == CONFIGURATION_STATUS:
            raise StartupError(str(exc)) from None
        log.error("%s", exc)
        raise SystemExit(exc.status) from None
    log.info("iamd stopped")


def _serve_on(
    settings: Settings,
    quotas: Quotas,
    access_log: bool,
    json_logs: bool,
    limits: ConnectionLimits,
    tls: TlsFiles | None,
    http_socket: socket.socket,
    ssh_socket: socket.socket | None,
    *,
    worker: WorkerIdentity | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve in this process: the only one, or one of `--workers` (`worker`).

    With several workers, the jobs that must run once per database run in worker 0 only
    (docs/deployment.md, "Several workers", lists what is shared and how).
    """
    primary = worker is None or worker.primary
    database = open_database(settings, cross_process_writers=worker is not None)
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
        check_master_key(services, box)
        if ssh_socket is not None:
            host_key = load_or_create_host_key(settings.ssh_host_key_file)
    except DBAPIError as exc:
        database.dispose()
        raise StartupError(database_problem(settings, exc)) from None
    except (ValueError, OSError, StartupLockTimeout) as exc:
        # OSError: the SSH host key file cannot be read or written.
        database.dispose()
        raise StartupError(str(exc)) from exc
    except BaseException:
        database.dispose()
        raise
    if result.created and primary:
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
    codecs["organizations"] = OrganizationsCodec()
    codecs["cloudtrail"] = CloudTrailCodec()
    # Identity Center: the identity store, and sso-admin (which signs as "sso").
    codecs["identitystore"] = JsonCodec("identitystore")
    codecs["sso"] = JsonCodec("sso-admin")
    requests_log = AccessLog(json_lines=json_logs) if access_log else None
    metrics = Metrics()
    trail = (
        TrailRecorder(
            database,
            flush_seconds=settings.last_used_flush_seconds,
            retention_days=settings.trail_retention_days,
            # The events' own clock: a sweep on another clock would keep or drop the
            # wrong events when the two differ (as the test clock makes them).
            now=services.clock.now,
        )
        if settings.audit_trail
        else None
    )
    # Exactly-once delivery holds across nodes, but the pending files' clean-up assumes
    # one writer per trail directory: the workers share theirs, so worker 0 delivers.
    trail_files = _trail_files(settings, database, box) if primary else None
    pipeline = AwsPipeline(
        services,
        codecs,
        build_operation_table(),
        PolicyAuthorizer(
            password_self_service(
                lambda account: services.in_account(account).passwords.users_may_change_password()
            )
        ),
        access_log=requests_log,
        max_concurrent_costly=settings.worker_threads // 2,
        presigned_max_age=settings.presigned_url_max_age_seconds,
        metrics=metrics,
        trail=trail,
        region=settings.region,
    )
    sign_in = SignInEndpoint(
        services,
        requests_log,
        max_concurrent=settings.worker_threads // 2,
        metrics=metrics,
        trail=trail,
    )
    app = IamdApp(
        pipeline,
        executor,
        inline_reads=database.is_sqlite,
        failures=UnexpectedFailures(services.ids.request_id, requests_log),
        sign_in=sign_in.handle,
        identity_center=IdentityCenterFront(services, trail, settings.region),
        scim=ScimFront(services, trail, settings.region),
        console=ConsoleFront(services, sign_in, pipeline),
        fail_path=settings.test_fail_path,
        oidc=OidcIssuerEndpoint(
            services, executor, max_concurrent=settings.worker_threads // 2
        ).answer,
        worker=f"{worker.index} {os.getpid()}" if worker is not None else None,
    )
    git_ssh = (
        git_ssh_server(
            settings,
            services,
            host_key,
            executor,
            requests_log,
            database.is_sqlite,
            metrics,
            trail,
        )
        if host_key is not None
        else None
    )
    register_sources(
        metrics,
        database,
        git_ssh.active_sessions if git_ssh is not None else None,
        settings.max_git_sessions,
        worker.index if worker is not None else None,
    )
    # git over HTTPS at the clone URLs, with service-specific credentials.
    git_http = GitHttp(
        app,
        services,
        PolicyAuthorizer(),
        executor,
        region=settings.region,
        max_requests=settings.max_git_sessions,
        trail=trail,
        access_log=requests_log,
        metrics=metrics,
    )
    front = OperatorRoutes(
        git_http, MetricsEndpoint(metrics, settings.metrics_token) if settings.metrics else None
    )
    services.last_used.start()
    if trail is not None:
        trail.start()
    if trail_files is not None:
        trail_files.start()
    if requests_log is not None:
        requests_log.start()
    watcher = ChangeWatcher(services, settings.change_poll_seconds)
    watcher.start()
    # One sweeper per database is enough (concurrent sweeps would be harmless, only
    # wasted), and the requests a stopped node left in progress are resumed once.
    guard = start_unused_key_guard(settings, services) if primary else None
    if primary:
        # CreateAccount requests a stopped node left in progress are finished here.
        services.organizations.resume_interrupted()
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
        http=IamdHttpProtocol.bind(ConnectionGuard(limits, rejection_log(services, requests_log))),
        timeout_keep_alive=limits.keep_alive_timeout,
        # No WebSocket endpoint: an upgrade request is answered as plain HTTP.
        ws="none",
        ssl_certfile=str(tls.cert_file) if tls else None,
        ssl_keyfile=str(tls.key_file) if tls else None,
    )
    server = _Server(config, lambda: _ready(settings, primary, on_ready))
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
        # After the executor's drain: every finished request's event is queued by now.
        if trail is not None:
            trail.close()
        if trail_files is not None:
            trail_files.close()
        if requests_log is not None:
            requests_log.close()
        database.dispose()
        log.info("iamd stopped" if worker is None else f"worker {worker.index} stopped")


def _ready(settings: Settings, primary: bool, on_ready: Callable[[], None] | None) -> None:
    if primary:
        announce_ready(settings)
    if on_ready is not None:
        on_ready()


def _trail_files(settings: Settings, database: Database, box: SecretBox) -> TrailFiles | None:
    """The log file delivery, or None (said at start) when its directory cannot be written."""
    if settings.trail_dir is None:
        return None
    if not settings.audit_trail:
        log.warning("--trail-dir is ignored without --audit-trail: nothing is recorded")
        return None
    problem = writable_trail_dir(settings.trail_dir)
    if problem is not None:
        log.error(
            "the trail directory %s cannot be written (%s): no log files are delivered; "
            "the audit trail is still recorded in the database",
            settings.trail_dir,
            problem,
        )
        return None
    log.info("audit trail log files are delivered to %s", settings.trail_dir)
    return TrailFiles(
        database,
        box,
        settings.trail_dir,
        file_seconds=settings.trail_file_seconds,
        digest_seconds=settings.trail_digest_seconds,
        # A read's event reaches the database within two batch intervals; a write's at
        # its commit, which the statement timeout bounds.
        settle_seconds=2 * settings.last_used_flush_seconds + settings.db_statement_timeout_seconds,
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

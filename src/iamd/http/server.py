"""Running the server: open the database, migrate, bootstrap, serve, shut down cleanly.

SIGTERM and SIGINT stop accepting connections, let requests in flight finish, then
write the pending last-used dates and close the database: nothing acknowledged is lost.
git over SSH (`iamd.gitssh`) runs on the same event loop as the HTTP server; it stops
accepting after the HTTP drain and gives git sessions in flight the same grace period.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import FrameType

import uvicorn

from iamd.auth.secret_box import SecretBox
from iamd.authz import PolicyAuthorizer
from iamd.authz.password_self_service import password_self_service
from iamd.clock import Clock, OffsetFileClock, SystemClock
from iamd.config import Settings
from iamd.gitssh.host_keys import load_or_create_host_key
from iamd.gitssh.offload import Offload
from iamd.gitssh.server import GitSshServer
from iamd.gitssh.sessions import GitSessions
from iamd.http.access_log import AccessLog
from iamd.http.app import IamdApp
from iamd.http.metrics_sources import register_sources
from iamd.http.operator_routes import MetricsEndpoint, OperatorRoutes
from iamd.http.pipeline import AwsPipeline
from iamd.http.sign_in import SignInEndpoint
from iamd.http.tls import TlsFiles, check_loadable, self_signed
from iamd.ids import RandomIds
from iamd.metrics import Metrics
from iamd.operations.table import build_operation_table
from iamd.protocol import JsonCodec, QueryCodec
from iamd.services.access_keys import secret_context
from iamd.services.bootstrap import bootstrap
from iamd.services.clone_urls import CloneUrls, public_host
from iamd.services.container import Services
from iamd.services.quotas import Quotas
from iamd.services.unused_key_guard import UnusedKeyGuard
from iamd.store.database import Database
from iamd.store.migrate import upgrade_to_head
from iamd.store.sql.account import AccountRepository

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
        tx = self._services.tx
        with tx.database.read() as conn:
            return AccountRepository(conn, tx.account_id).change_counter()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                counter = self._read_counter()
            except Exception:
                # Unknown whether another node wrote: drop the caches to stay correct.
                log.exception("could not read the change counter")
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
        sample = repos.access_keys.any_with_secret()
    if sample is None:
        return
    try:
        box.open(sample.secret_sealed, secret_context(sample.key.access_key_id))
    except ValueError:
        raise MasterKeyMismatch(
            "the master key cannot decrypt the secrets in this database: restore the "
            "original master.key file or set IAMD_MASTER_KEY to the key it was created with"
        ) from None


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


def serve(
    settings: Settings, quotas: Quotas, *, access_log: bool = True, json_logs: bool = False
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tls = _tls_files(settings)
    database = Database(settings.effective_database_url, pool_size=settings.worker_threads)
    upgrade_to_head(database)
    try:
        # Only these steps raise ValueError for configuration (a malformed master key, a
        # key file others can read, bootstrap variables that do not go together).
        services, box = build_services(settings, database, quotas)
        result = bootstrap(
            services,
            box.seal,
            access_key_id=settings.bootstrap_access_key_id,
            secret_access_key=settings.bootstrap_secret_access_key,
            credentials_file=settings.bootstrap_credentials_file,
        )
    except ValueError as exc:
        raise StartupError(str(exc)) from exc
    _check_master_key(services, box)
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
        metrics=metrics,
    )
    app = IamdApp(
        pipeline,
        executor,
        inline_reads=database.is_sqlite,
        sign_in=SignInEndpoint(
            services, requests_log, max_concurrent=settings.worker_threads // 2, metrics=metrics
        ).handle,
    )
    git_ssh = (
        _git_ssh_server(settings, services, executor, requests_log, database.is_sqlite, metrics)
        if settings.git_ssh
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
        ssl_certfile=str(tls.cert_file) if tls else None,
        ssl_keyfile=str(tls.key_file) if tls else None,
    )
    server = uvicorn.Server(config)
    log.info(
        "iamd listening on %s://%s:%d (account %s)",
        "https" if tls else "http",
        settings.host,
        settings.port,
        settings.account_id,
    )
    # uvicorn drains connections on SIGTERM/SIGINT, then re-raises the signal with the
    # handler that was in place before it started. Ours turns that into an orderly
    # return, so the clean-up below (pending last-used dates, pools) always runs.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _run(server, config, git_ssh, settings)
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
    executor: ThreadPoolExecutor,
    access_log: AccessLog | None,
    inline_reads: bool,
    metrics: Metrics,
) -> GitSshServer:
    try:
        host_key = load_or_create_host_key(settings.ssh_host_key_file)
    except (ValueError, OSError) as exc:
        raise StartupError(str(exc)) from exc
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


def _run(
    server: uvicorn.Server,
    config: uvicorn.Config,
    git_ssh: GitSshServer | None,
    settings: Settings,
) -> None:
    """Serve HTTP, and git over SSH on the same event loop, until a signal stops them."""
    if git_ssh is None:
        server.run()
        return

    async def serve_both() -> None:
        try:
            await git_ssh.start()
        except OSError as exc:
            raise StartupError(
                f"cannot listen for git over SSH on {settings.host}:{settings.ssh_port}: "
                f"{exc.strerror or exc}"
            ) from exc
        log.info(
            "git over SSH on ssh://%s:%d (host key %s)",
            settings.host,
            settings.ssh_port,
            git_ssh.host_key_fingerprint,
        )
        try:
            await server.serve()
        finally:
            await git_ssh.stop(grace=_GRACE_SECONDS)

    loop_factory = getattr(config, "get_loop_factory", None)  # uvicorn >= 0.36
    if loop_factory is None:
        config.setup_event_loop()
        asyncio.run(serve_both())
        return
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(serve_both())

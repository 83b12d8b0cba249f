"""Building the process's parts from the settings: the services, the git-over-SSH front,
the unused-key guard, the access-log lines of refused connections."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import asyncssh

from iamd.auth.oidc_discovery import connect_to_map, tls_context
from iamd.auth.passwords import PasswordHashing
from iamd.auth.secret_box import SecretBox
from iamd.authz import PolicyAuthorizer
from iamd.clock import Clock, OffsetFileClock, SystemClock
from iamd.gitssh.offload import Offload
from iamd.gitssh.server import GitSshServer
from iamd.gitssh.sessions import GitSessions
from iamd.http.connections import RejectionLog
from iamd.ids import RandomIds
from iamd.model.quotas import Quotas
from iamd.server.checks import StartupError
from iamd.server.settings import Settings
from iamd.server.unused_key_guard import UnusedKeyGuard
from iamd.services.clone_urls import CloneUrls, public_host
from iamd.services.container import Services
from iamd.services.trail import TrailRecorder
from iamd.store.database import Database
from iamd.telemetry.access_log import AccessLog
from iamd.telemetry.metrics import Metrics

log = logging.getLogger("iamd")


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
    try:
        oidc_tls = tls_context(settings.oidc_ca_bundle)
    except ValueError as exc:
        raise StartupError(f"--oidc-ca-bundle: {exc}") from None
    try:
        oidc_connect_to = connect_to_map(settings.test_oidc_connect_to)
    except ValueError as exc:
        raise StartupError(f"--test-oidc-connect-to: {exc}") from None
    if oidc_connect_to:
        log.warning(
            "TEST OIDC CONNECT-TO: the keys of %s are fetched from elsewhere; never use "
            "this outside tests",
            ", ".join(sorted(oidc_connect_to)),
        )
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
        public_url=public_url(settings),
        oidc_tls=oidc_tls,
        oidc_connect_to=oidc_connect_to,
        delegation_notifications_dir=settings.data_dir / "delegation-notifications",
    )
    return services, box


def public_url(settings: Settings) -> str:
    """Where clients reach this server: --public-url, else scheme://host:port."""
    if settings.public_url is not None:
        return settings.public_url.rstrip("/")
    scheme = "https" if settings.tls else "http"
    return f"{scheme}://{public_host(settings.host)}:{settings.port}"


def rejection_log(services: Services, access_log: AccessLog | None) -> RejectionLog:
    """Access-log lines for the requests the connection layer refuses (408, 414, 431...)."""

    def record(client_ip: str, status: int, code: str) -> str:
        request_id = services.ids.request_id()
        if access_log is not None:
            access_log.record(request_id, client_ip, "-", "-", status, code, 0.0)
        return request_id

    return record


def start_unused_key_guard(settings: Settings, services: Services) -> UnusedKeyGuard | None:
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


def git_ssh_server(
    settings: Settings,
    services: Services,
    host_key: asyncssh.SSHKey,
    executor: ThreadPoolExecutor,
    access_log: AccessLog | None,
    inline_reads: bool,
    metrics: Metrics,
    trail: TrailRecorder | None = None,
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
        trail=trail,
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

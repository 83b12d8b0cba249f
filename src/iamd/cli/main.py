"""`iamd`: run the server, and write AWS CLI profiles that point at it."""

from __future__ import annotations

import configparser
import importlib
import logging
import os
from pathlib import Path
from typing import ClassVar

import click

from iamd import __version__
from iamd.auth.data_dir_modes import restrict_umask
from iamd.cli.authorized_keys import authorized_keys
from iamd.model.quotas import Quotas
from iamd.server.settings import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_PRESIGNED_URL_MAX_AGE_SECONDS,
    DEFAULT_REGION,
    DEFAULT_SIGN_IN_TRACKED_NAMES,
    DEFAULT_SSH_PORT,
    ENDPOINT_FILE_NAME,
    MAX_PRESIGNED_URL_MAX_AGE_SECONDS,
    SSH_KEY_TYPES,
    Settings,
)
from iamd.telemetry.log_format import LOG_FORMATS, configure_logging


class _LazyGroup(click.Group):
    """A group whose heavy subcommands are imported only when they run.

    `iamd policy` pulls in SQLAlchemy and the policy engine (half a second); sshd runs
    `iamd authorized-keys` on every login attempt, which must not pay for them.
    """

    lazy_commands: ClassVar[dict[str, str]] = {
        "policy": "iamd.cli.policy",
        "keys": "iamd.cli.keys",
        "audit": "iamd.cli.audit",
        "backup": "iamd.cli.backup",
        "restore": "iamd.cli.backup",
        "identity-center": "iamd.cli.identity_center",
        "trail": "iamd.cli.trail",
        "sso": "iamd.cli.sso",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = self.lazy_commands.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            self.add_command(getattr(importlib.import_module(module), cmd_name.replace("-", "_")))
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="iamd")
def main() -> None:
    """iamd: a self-hosted identity service that speaks AWS IAM, STS and CodeCommit."""


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, envvar="IAMD_HOST")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, envvar="IAMD_PORT")
@click.option(
    "--data-dir",
    default=str(DEFAULT_DATA_DIR),
    show_default=True,
    envvar="IAMD_DATA_DIR",
    # Checked by the server itself, which names the problem in one line.
    type=click.Path(path_type=Path),
    help="Where the embedded database, the master key and the bootstrap credentials live.",
)
@click.option(
    "--database-url",
    default=None,
    envvar="IAMD_DATABASE_URL",
    help="postgresql://user:password@host/db to share a database between nodes.",
)
@click.option(
    "--account-id", default=DEFAULT_ACCOUNT_ID, show_default=True, envvar="IAMD_ACCOUNT_ID"
)
@click.option(
    "--users-quota",
    default=Quotas().users,
    show_default=True,
    type=click.IntRange(1),
    envvar="IAMD_USERS_QUOTA",
    help="Users per account (AWS's is 5000).",
)
@click.option(
    "--roles-quota",
    default=Quotas().roles,
    show_default=True,
    type=click.IntRange(1),
    envvar="IAMD_ROLES_QUOTA",
    help="Roles per account (AWS's default is 1000, raisable to 5000).",
)
@click.option(
    "--instance-profiles-quota",
    default=Quotas().instance_profiles,
    show_default=True,
    type=click.IntRange(1),
    envvar="IAMD_INSTANCE_PROFILES_QUOTA",
    help="Instance profiles per account (AWS's default is 1000, raisable to 5000).",
)
@click.option(
    "--worker-threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="IAMD_WORKER_THREADS",
)
@click.option(
    "--workers",
    default="1",
    show_default=True,
    envvar="IAMD_WORKERS",
    help="Processes serving the ports, sharing the database; 'auto': one per core "
    "(docs/deployment.md, 'Several workers').",
)
@click.option(
    "--ssh-key-types",
    default="all",
    show_default=True,
    type=click.Choice(SSH_KEY_TYPES),
    envvar="IAMD_SSH_KEY_TYPES",
    help="SSH public keys accepted: 'rsa' as AWS (2048-16384 bits), 'all' adds Ed25519 and ECDSA.",
)
@click.option(
    "--ssh-port",
    default=DEFAULT_SSH_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    envvar="IAMD_SSH_PORT",
    help="Port of git over SSH; repositories' cloneUrlSsh names it.",
)
@click.option(
    "--git-ssh/--no-git-ssh",
    default=True,
    show_default=True,
    envvar="IAMD_GIT_SSH",
    help="Serve git over SSH on --ssh-port (CodeCommit-style, keys from UploadSSHPublicKey).",
)
@click.option(
    "--max-git-sessions",
    default=32,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="IAMD_MAX_GIT_SESSIONS",
    help="Git sessions over SSH served at once; more are refused with a message to retry.",
)
@click.option(
    "--region",
    default=DEFAULT_REGION,
    show_default=True,
    envvar="IAMD_REGION",
    help="Region of git over SSH: pushes and pulls are authorized on "
    "arn:aws:codecommit:REGION:ACCOUNT:NAME.",
)
@click.option(
    "--deactivate-unused-keys-after",
    type=click.IntRange(min=1),
    default=None,
    metavar="DAYS",
    envvar="IAMD_DEACTIVATE_UNUSED_KEYS_AFTER",
    help="Guard (off by default): set Inactive the access keys unused for DAYS days "
    "(or never used and older), each change logged.",
)
@click.option(
    "--unused-key-sweep-interval",
    type=click.FloatRange(min=1),
    default=3600.0,
    show_default=True,
    metavar="SECONDS",
    envvar="IAMD_UNUSED_KEY_SWEEP_INTERVAL",
    help="How often the guard looks for unused keys.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    envvar="IAMD_HEADER_TIMEOUT",
    help="Time a client has to send a whole request head (408 and closed after).",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    envvar="IAMD_BODY_TIMEOUT",
    help="Time a client has to send a whole request body after its head (408 and closed after).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=16),
    default=4096,
    show_default=True,
    envvar="IAMD_MAX_CONNECTIONS",
    help="HTTP connections open at once (lowered to fit the open-file limit); beyond it, the "
    "connection waiting longest for its client is closed.",
)
@click.option(
    "--presigned-url-max-age",
    type=click.IntRange(1, MAX_PRESIGNED_URL_MAX_AGE_SECONDS),
    default=DEFAULT_PRESIGNED_URL_MAX_AGE_SECONDS,
    show_default=True,
    metavar="SECONDS",
    envvar="IAMD_PRESIGNED_URL_MAX_AGE",
    help="Presigned URLs (reads and writes) are refused once this old, whatever their "
    "X-Amz-Expires says (AWS's STS: 900).",
)
@click.option(
    "--audit-trail/--no-audit-trail",
    default=False,
    show_default=True,
    envvar="IAMD_AUDIT_TRAIL",
    help="Record a CloudTrail-shaped event of every request (aws cloudtrail lookup-events). "
    "Off by default while it costs more than its budget: see docs/trail.md.",
)
@click.option(
    "--trail-retention-days",
    type=click.IntRange(1, 36_500),
    default=90,
    show_default=True,
    metavar="DAYS",
    envvar="IAMD_TRAIL_RETENTION_DAYS",
    help="Audit trail events older than this are swept (CloudTrail's event history: 90).",
)
@click.option(
    "--trail-dir",
    # Not refused here: a directory that cannot be written is told at start, and the
    # server serves on with the database trail.
    type=click.Path(path_type=Path),
    default=None,
    envvar="IAMD_TRAIL_DIR",
    help="Deliver the audit trail to this directory as CloudTrail log files, with signed "
    "digests (`iamd trail validate DIR` checks them). Needs --audit-trail.",
)
@click.option(
    "--trail-file-seconds",
    type=click.FloatRange(0.1, 86_400),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    envvar="IAMD_TRAIL_FILE_SECONDS",
    help="How often log files are written to --trail-dir (and at shutdown).",
)
@click.option(
    "--trail-digest-seconds",
    type=click.FloatRange(0.1, 86_400),
    default=3600.0,
    show_default=True,
    metavar="SECONDS",
    envvar="IAMD_TRAIL_DIGEST_SECONDS",
    help="How often digest files are written (CloudTrail: hourly; and at shutdown).",
)
@click.option(
    "--sign-in-tracked-names",
    type=click.IntRange(min=1),
    default=DEFAULT_SIGN_IN_TRACKED_NAMES,
    show_default=True,
    metavar="N",
    envvar="IAMD_SIGN_IN_TRACKED_NAMES",
    help="Names whose sign-in failures are remembered at once, for the back-off "
    "(about 180 bytes each).",
)
@click.option(
    "--db-lock-timeout",
    default=2.0,
    show_default=True,
    type=float,
    envvar="IAMD_DB_LOCK_TIMEOUT",
    help="PostgreSQL: seconds a write waits for a lock before answering ServiceUnavailable.",
)
@click.option(
    "--db-statement-timeout",
    default=30.0,
    show_default=True,
    type=float,
    envvar="IAMD_DB_STATEMENT_TIMEOUT",
    help="PostgreSQL: seconds any one statement may run.",
)
@click.option(
    "--db-idle-in-transaction-timeout",
    default=5.0,
    show_default=True,
    type=float,
    envvar="IAMD_DB_IDLE_IN_TRANSACTION_TIMEOUT",
    help="PostgreSQL: seconds a transaction may wait on its client (a stalled node) "
    "before the server ends it and frees its locks.",
)
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True, envvar="IAMD_ACCESS_LOG"
)
@click.option("--log-level", default="INFO", show_default=True, envvar="IAMD_LOG_LEVEL")
@click.option(
    "--log-format",
    default="text",
    show_default=True,
    type=click.Choice(LOG_FORMATS),
    envvar="IAMD_LOG_FORMAT",
    help="'json': one JSON object per line (time, level, logger, message, access-log fields).",
)
@click.option(
    "--tls-cert",
    default=None,
    envvar="IAMD_TLS_CERT",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM certificate chain: serve HTTPS on --port (with --tls-key).",
)
@click.option(
    "--tls-key",
    default=None,
    envvar="IAMD_TLS_KEY",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM private key of --tls-cert.",
)
@click.option(
    "--tls-self-signed",
    is_flag=True,
    default=False,
    envvar="IAMD_TLS_SELF_SIGNED",
    help="Serve HTTPS with a certificate generated once into the data directory "
    "(localhost, 127.0.0.1, ::1 and --host); for local use.",
)
@click.option(
    "--metrics/--no-metrics",
    default=True,
    show_default=True,
    envvar="IAMD_METRICS",
    help="Serve Prometheus metrics on GET /metrics (loopback clients only without a token).",
)
@click.option(
    "--metrics-token",
    default=None,
    envvar="IAMD_METRICS_TOKEN",
    help="Bearer token /metrics requires from every client (prefer the variable: "
    "arguments show in ps).",
)
@click.option(
    "--public-url",
    default=None,
    envvar="IAMD_PUBLIC_URL",
    help="The URL clients reach this server at (https://iam.example.com, behind a proxy); "
    "the base of the accounts' OIDC issuer URLs. Default: the scheme, --host and --port.",
)
@click.option(
    "--oidc-ca-bundle",
    default=None,
    envvar="IAMD_OIDC_CA_BUNDLE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM CA certificates trusted, besides the system's, for fetching OpenID Connect "
    "providers' discovery documents and keys (AssumeRoleWithWebIdentity).",
)
# For the test suite only: hidden, and deliberately without an environment variable, so
# it cannot be switched on by a stray IAMD_* setting in production.
@click.option(
    "--test-clock-file",
    default=None,
    hidden=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--test-fail-path", default=None, hidden=True)
@click.option("--test-fast-password-hashing", is_flag=True, default=False, hidden=True)
@click.option("--test-oidc-connect-to", multiple=True, default=(), hidden=True)
def serve(
    host: str,
    port: int,
    data_dir: Path,
    database_url: str | None,
    account_id: str,
    users_quota: int,
    roles_quota: int,
    instance_profiles_quota: int,
    worker_threads: int,
    workers: str,
    ssh_key_types: str,
    ssh_port: int,
    git_ssh: bool,
    max_git_sessions: int,
    region: str,
    deactivate_unused_keys_after: int | None,
    unused_key_sweep_interval: float,
    header_timeout: float,
    body_timeout: float,
    max_connections: int,
    db_lock_timeout: float,
    db_statement_timeout: float,
    db_idle_in_transaction_timeout: float,
    access_log: bool,
    log_level: str,
    log_format: str,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_self_signed: bool,
    metrics: bool,
    metrics_token: str | None,
    public_url: str | None,
    oidc_ca_bundle: Path | None,
    test_clock_file: Path | None,
    test_fail_path: str | None,
    presigned_url_max_age: int,
    audit_trail: bool,
    trail_retention_days: int,
    trail_dir: Path | None,
    trail_file_seconds: float,
    trail_digest_seconds: float,
    sign_in_tracked_names: int,
    test_fast_password_hashing: bool,
    test_oidc_connect_to: tuple[str, ...],
) -> None:
    """Start the server (IAM, STS and CodeCommit over HTTP; git over SSH)."""
    configure_logging(log_level, log_format)
    # Alembic narrates every plugin it loads; only its warnings matter to operators.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # asyncssh narrates every connection and channel; iamd logs each git session itself.
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    # Before anything is created: the database, keys and repositories are private.
    restrict_umask()
    from iamd.server.checks import StartupError  # noqa: PLC0415 - keeps other commands fast
    from iamd.server.startup import serve as run_server  # noqa: PLC0415
    from iamd.server.supervisor import worker_count  # noqa: PLC0415

    try:
        settings = Settings(
            workers=worker_count(workers),
            host=host,
            port=port,
            data_dir=data_dir,
            database_url=database_url,
            account_id=account_id,
            master_key=os.environ.get("IAMD_MASTER_KEY"),
            bootstrap_access_key_id=os.environ.get("IAMD_BOOTSTRAP_ACCESS_KEY_ID"),
            bootstrap_secret_access_key=os.environ.get("IAMD_BOOTSTRAP_SECRET_ACCESS_KEY"),
            worker_threads=worker_threads,
            db_lock_timeout_seconds=db_lock_timeout,
            db_statement_timeout_seconds=db_statement_timeout,
            db_idle_in_transaction_timeout_seconds=db_idle_in_transaction_timeout,
            ssh_key_types=ssh_key_types,
            ssh_port=ssh_port,
            git_ssh=git_ssh,
            max_git_sessions=max_git_sessions,
            region=region,
            deactivate_unused_keys_after_days=deactivate_unused_keys_after,
            unused_key_sweep_seconds=unused_key_sweep_interval,
            header_timeout_seconds=header_timeout,
            body_timeout_seconds=body_timeout,
            max_connections=max_connections,
            test_fail_path=test_fail_path,
            presigned_url_max_age_seconds=presigned_url_max_age,
            audit_trail=audit_trail,
            trail_retention_days=trail_retention_days,
            trail_dir=trail_dir,
            trail_file_seconds=trail_file_seconds,
            trail_digest_seconds=trail_digest_seconds,
            sign_in_tracked_names=sign_in_tracked_names,
            test_clock_file=test_clock_file,
            test_fast_password_hashing=test_fast_password_hashing,
            test_oidc_connect_to=test_oidc_connect_to,
            tls_cert_file=tls_cert,
            tls_key_file=tls_key,
            tls_self_signed=tls_self_signed,
            metrics=metrics,
            metrics_token=metrics_token or None,
            public_url=public_url or None,
            oidc_ca_bundle=oidc_ca_bundle,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        run_server(
            settings,
            Quotas(users=users_quota, roles=roles_quota, instance_profiles=instance_profiles_quota),
            access_log=access_log,
            json_logs=log_format == "json",
        )
    except StartupError as exc:
        # Configuration problems (a port taken, a bad IAMD_MASTER_KEY, a database that
        # cannot be reached...) are told in one line naming the option that fixes them,
        # never as a traceback; anything else keeps its traceback.
        raise _StartupFailure(str(exc)) from exc


class _StartupFailure(click.ClickException):
    """`iamd serve` could not start: exit code 2, like a usage error (1 is a crash)."""

    exit_code = 2


@main.command()
@click.option("--name", required=True, help="The AWS CLI profile to write.")
@click.option(
    "--endpoint-url",
    default=None,
    envvar="IAMD_ENDPOINT_URL",
    help="The server's URL. Default: where the server using --data-dir last listened "
    f"(<data-dir>/{ENDPOINT_FILE_NAME}), else http://{DEFAULT_HOST}:{DEFAULT_PORT}.",
)
@click.option("--region", default="us-east-1", show_default=True)
@click.option(
    "--data-dir",
    default=str(DEFAULT_DATA_DIR),
    show_default=True,
    envvar="IAMD_DATA_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read the admin key from <data-dir>/bootstrap-credentials.",
)
@click.option("--access-key-id", envvar="IAMD_BOOTSTRAP_ACCESS_KEY_ID", default=None)
@click.option("--secret-access-key", envvar="IAMD_BOOTSTRAP_SECRET_ACCESS_KEY", default=None)
@click.option(
    "--ca-bundle",
    default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Certificate to trust for an https endpoint (the self-signed one: "
    "<data-dir>/tls-self-signed.crt); written as ca_bundle.",
)
def profile(
    name: str,
    endpoint_url: str | None,
    region: str,
    data_dir: Path,
    access_key_id: str | None,
    secret_access_key: str | None,
    ca_bundle: Path | None,
) -> None:
    """Write an AWS CLI profile (credentials, region and endpoint_url) for iamd."""
    if endpoint_url is None:
        endpoint_url = _last_endpoint(data_dir / ENDPOINT_FILE_NAME)
    if access_key_id is None or secret_access_key is None:
        access_key_id, secret_access_key = _read_bootstrap_credentials(
            data_dir / "bootstrap-credentials"
        )
    credentials_path = Path(
        os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    ).expanduser()
    config_path = Path(os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    _update_ini(
        credentials_path,
        name,
        {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key},
    )
    section = name if name == "default" else f"profile {name}"
    settings = {"region": region, "endpoint_url": endpoint_url}
    if ca_bundle is not None:
        settings["ca_bundle"] = str(ca_bundle.resolve())
    _update_ini(config_path, section, settings)
    # GetCallerIdentity needs no permission: it works for every user, not only admins.
    click.echo(
        f"wrote profile {name!r} for {endpoint_url} (region {region}): try "
        f"`aws --profile {name} sts get-caller-identity`, or `export AWS_PROFILE={name}`"
    )


def _last_endpoint(path: Path) -> str:
    """The URL `iamd serve` wrote at its last start, or the default one."""
    try:
        written = path.read_text().strip()
    except OSError:
        written = ""
    return written or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def _read_bootstrap_credentials(path: Path) -> tuple[str, str]:
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise click.ClickException(
            f"no credentials given and {path} does not exist "
            "(pass --access-key-id/--secret-access-key or --data-dir)"
        )
    section = parser["iamd-admin"]
    return section["aws_access_key_id"], section["aws_secret_access_key"]


def _update_ini(path: Path, section: str, values: dict[str, str]) -> None:
    """Set one section of an AWS ini file, keeping the others; written atomically, 0600."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    if not parser.has_section(section):
        parser.add_section(section)
    for key, value in values.items():
        parser.set(section, key, value)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.iamd-tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        parser.write(handle)
    os.replace(temporary, path)


main.add_command(authorized_keys)

if __name__ == "__main__":
    main()

"""Server settings, resolved once from command-line options and IAMD_* variables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4580
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_DATA_DIR = Path("./data")
# git over SSH (CodeCommit's cloneUrlSsh); 22 is usually sshd's own.
DEFAULT_SSH_PORT = 4522
# The Region git over SSH authorizes in: arn:aws:codecommit:REGION:ACCOUNT:NAME.
DEFAULT_REGION = "us-east-1"

# Written by `iamd serve` at each start, read by `iamd profile`: a profile written after
# `IAMD_PORT=4581 make serve` points at 4581 without being told.
ENDPOINT_FILE_NAME = "endpoint-url"

_ACCOUNT_ID = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+")
# scheme://host[:port][/path]: an issuer URL is compared character for character by
# verifiers, so nothing that could be written two ways (user info, query, fragment).
_PUBLIC_URL = re.compile(
    r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?"
    r"(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?"
)
# SigV4's own ceiling for X-Amz-Expires: a presigned URL cannot be honoured for longer.
MAX_PRESIGNED_URL_MAX_AGE_SECONDS = 7 * 24 * 3600
DEFAULT_PRESIGNED_URL_MAX_AGE_SECONDS = 15 * 60
DEFAULT_SIGN_IN_TRACKED_NAMES = 50_000
# The files SQLite keeps beside a database in WAL mode (and its rollback journal).
_SQLITE_SIDES = ("-wal", "-shm", "-journal")
# `rsa`: only the RSA keys AWS accepts; `all`: also Ed25519 and ECDSA.
SSH_KEY_TYPES = ("rsa", "all")


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    account_id: str = DEFAULT_ACCOUNT_ID
    master_key: str | None = None
    bootstrap_access_key_id: str | None = None
    bootstrap_secret_access_key: str | None = None
    # How often each node looks for changes made by other nodes sharing the database;
    # it bounds how long a revoked key can keep working on another node.
    change_poll_seconds: float = 0.5
    # Last-used dates are written in batches; this bounds how stale they are in the
    # database (they are flushed at shutdown too).
    last_used_flush_seconds: float = 1.0
    # The audit trail (docs/trail.md): whether requests are recorded, and how long events
    # are kept (a sweep drops older ones).
    audit_trail: bool = False
    trail_retention_days: int = 90
    # Log files as CloudTrail delivers them (docs/trail.md, "Log files"): the directory
    # (None: none), how often files and digests are written.
    trail_dir: Path | None = None
    trail_file_seconds: float = 300.0
    trail_digest_seconds: float = 3600.0
    worker_threads: int = 8
    # Processes serving the ports (`serve --workers`, server/supervisor.py); 1: this one.
    workers: int = 1
    # PostgreSQL's bounds on waiting (docs/architecture.md, "Several nodes"): a lock, a
    # statement, and a transaction whose client went silent (a stopped node).
    db_lock_timeout_seconds: float = 2.0
    db_statement_timeout_seconds: float = 30.0
    db_idle_in_transaction_timeout_seconds: float = 5.0
    ssh_key_types: str = "all"
    ssh_port: int = DEFAULT_SSH_PORT
    # Whether `serve` answers git over SSH on `ssh_port` (the port is named in clone URLs
    # either way).
    git_ssh: bool = True
    # Git sessions served at once; more are refused with a message to retry.
    max_git_sessions: int = 32
    region: str = DEFAULT_REGION
    # The optional guard: access keys unused for this many days are set Inactive
    # (None: off, as in AWS), looked for every `unused_key_sweep_seconds`.
    deactivate_unused_keys_after_days: int | None = None
    unused_key_sweep_seconds: float = 3600.0
    # HTTP connections (`http.connection_limits`): seconds for a whole request head and a
    # whole body, and connections open at once (lowered to fit the open-file limit).
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    max_connections: int = 4096
    # Tests only (hidden option --test-fail-path): requests to this path fail inside the
    # application, to prove that they are answered InternalFailure.
    test_fail_path: str | None = None
    # A presigned URL (SigV4 in the query string) is refused once it is this old, even
    # when its X-Amz-Expires allows longer: a URL is a bearer credential, and a leaked
    # one replays its request (CreateAccessKey included) until then. AWS's STS: 15 min.
    presigned_url_max_age_seconds: int = DEFAULT_PRESIGNED_URL_MAX_AGE_SECONDS
    # Names whose sign-in failures are remembered at once (about 180 bytes each); see
    # services/throttle.py for what is forgotten first when there are more.
    sign_in_tracked_names: int = DEFAULT_SIGN_IN_TRACKED_NAMES
    # Tests only (hidden option --test-clock-file): a file holding a number of seconds
    # the server's clock is moved by, so tests can watch STS sessions expire.
    test_clock_file: Path | None = None
    # Tests only (hidden option --test-fast-password-hashing): argon2 at its cheapest, so
    # a test can send thousands of sign-in attempts in seconds.
    test_fast_password_hashing: bool = False
    # Tests only (hidden option --test-oidc-connect-to HOST=ADDRESS:PORT, repeatable): the
    # https fetches of OpenID Connect providers' keys for HOST connect to ADDRESS:PORT
    # instead, the certificate still checked for HOST (as curl's --connect-to), so a test
    # IdP on loopback can stand for an issuer such as token.actions.githubusercontent.com.
    test_oidc_connect_to: tuple[str, ...] = ()
    # HTTPS on `port`: the operator's PEM certificate chain and key, or one generated
    # into the data directory (`--tls-self-signed`); plain HTTP when neither.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_self_signed: bool = False
    # `GET /metrics`: loopback clients only unless a bearer token is set; off with False.
    metrics: bool = True
    metrics_token: str | None = field(default=None, repr=False)
    # The URL clients reach the server at (a proxy's, a load balancer's): the base of the
    # accounts' OIDC issuer URLs (services/outbound_federation.py). None: derived from
    # the scheme, host and port (`wiring.public_url`).
    public_url: str | None = None
    # PEM certificates trusted, besides the system's store, for the https fetches of
    # OpenID Connect providers' discovery documents and keys (AssumeRoleWithWebIdentity).
    oidc_ca_bundle: Path | None = None

    def __post_init__(self) -> None:
        if not _ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError("the account id must be 12 digits")
        if not 0 < self.port < 65536:
            raise ValueError("the port must be between 1 and 65535")
        if not 0 < self.ssh_port < 65536:
            raise ValueError("the SSH port must be between 1 and 65535")
        if not _REGION.fullmatch(self.region):
            raise ValueError("the region must look like us-east-1")
        if not 1 <= self.workers <= 256:
            raise ValueError("--workers must be between 1 and 256 (or 'auto')")
        if self.max_git_sessions < 1:
            raise ValueError("--max-git-sessions must be at least 1")
        days = self.deactivate_unused_keys_after_days
        if days is not None and days < 1:
            raise ValueError("--deactivate-unused-keys-after must be at least 1 day")
        if self.unused_key_sweep_seconds <= 0:
            raise ValueError("the unused-key sweep interval must be positive")
        if self.header_timeout_seconds <= 0 or self.body_timeout_seconds <= 0:
            raise ValueError("--header-timeout and --body-timeout must be positive")
        if self.max_connections < 1:
            raise ValueError("--max-connections must be at least 1")
        if not 1 <= self.presigned_url_max_age_seconds <= MAX_PRESIGNED_URL_MAX_AGE_SECONDS:
            raise ValueError(
                "--presigned-url-max-age must be between 1 and 604800 seconds (7 days)"
            )
        if self.sign_in_tracked_names < 1:
            raise ValueError("--sign-in-tracked-names must be at least 1")
        for value, option in (
            (self.db_lock_timeout_seconds, "--db-lock-timeout"),
            (self.db_statement_timeout_seconds, "--db-statement-timeout"),
            (self.db_idle_in_transaction_timeout_seconds, "--db-idle-in-transaction-timeout"),
        ):
            if not 0 < value <= 3600:
                raise ValueError(f"{option} must be more than 0 and at most 3600 seconds")
        if self.ssh_key_types not in SSH_KEY_TYPES:
            raise ValueError("the SSH key types must be 'rsa' or 'all'")
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("--tls-cert and --tls-key go together")
        if self.tls_self_signed and self.tls_cert_file is not None:
            raise ValueError(
                "--tls-self-signed replaces --tls-cert/--tls-key: give one or the other"
            )
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise ValueError("--metrics-token must be at least 16 characters")
        if self.public_url is not None and not _PUBLIC_URL.fullmatch(self.public_url):
            raise ValueError(
                "--public-url must be an http:// or https:// URL with a host and no query, "
                "fragment or credentials (https://iam.example.com or https://example.com/iamd)"
            )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'iamd.sqlite3').resolve()}"

    @property
    def sqlite_file(self) -> Path | None:
        """The embedded database's file, when the database is SQLite on a file."""
        url = self.effective_database_url
        if not url.startswith("sqlite:///"):
            return None
        path = url.removeprefix("sqlite:///").split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None

    @property
    def private_paths(self) -> list[Path]:
        """What iamd keeps beside the data directory that a start tightens to 0600/0700.

        Not the master key and the SSH host key: those are created 0600, and one found
        readable by others is refused at start (it may have been copied), not mended.
        """
        paths = [
            self.ssh_host_key_file.with_name(self.ssh_host_key_file.name + ".pub"),
            self.bootstrap_credentials_file,
            self.repositories_dir,
        ]
        database = self.sqlite_file
        if database is not None:
            # SQLite creates -wal and -shm with the database file's mode, so a file left
            # loose by an older start would hand its mode on.
            paths += [database, *(database.with_name(database.name + s) for s in _SQLITE_SIDES)]
        return paths

    @property
    def tls(self) -> bool:
        return self.tls_self_signed or self.tls_cert_file is not None

    @property
    def repositories_dir(self) -> Path:
        """Where the bare git repositories live, one ``<repositoryId>.git`` each."""
        return self.data_dir / "repositories"

    @property
    def ssh_host_key_file(self) -> Path:
        """git over SSH's host key (Ed25519), generated at the first start."""
        return self.data_dir / "ssh_host_ed25519_key"

    @property
    def master_key_file(self) -> Path:
        return self.data_dir / "master.key"

    @property
    def bootstrap_credentials_file(self) -> Path:
        return self.data_dir / "bootstrap-credentials"

    @property
    def endpoint_file(self) -> Path:
        """The URL the server last listened on, for `iamd profile` (ENDPOINT_FILE_NAME)."""
        return self.data_dir / ENDPOINT_FILE_NAME

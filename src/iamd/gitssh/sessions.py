"""One git over SSH session: parse, re-check the key, authorize, run git, record.

Order matters. The command is checked first (nothing else runs for a shell or a stray
program). The key is looked up again, so a key deactivated after the login is refused
here too. Authorization comes before the repository is looked up, as on AWS, so a
caller without access learns nothing about which repositories exist. A refusal writes
one clear line to the channel's stderr — git shows it before its own "Could not read
from remote repository" — and ends the session with a non-zero status before git runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from iamd.authz import AuthorizationRequest, Authorizer
from iamd.errors import AccessDenied, ServiceUnavailable
from iamd.gitssh.commands import CommandRefused, GitCommand, GitService, parse_git_command
from iamd.gitssh.offload import Offload
from iamd.gitssh.pipes import CLIENT_GONE, ClientGone, run_git
from iamd.model.arn import codecommit_repository_arn
from iamd.model.repository import Repository
from iamd.principals.caller import Caller
from iamd.principals.ssh_logins import SSHLogin
from iamd.services.container import Services
from iamd.services.trail import TrailRecorder, git_event
from iamd.telemetry.access_log import AccessLog
from iamd.telemetry.metrics import Metrics

log = logging.getLogger("iamd.gitssh")

# Exit status of a refused session (git's own failures keep theirs).
REFUSED = 1
# git asks for protocol v2 through this variable (ssh -o SendEnv=GIT_PROTOCOL).
_GIT_PROTOCOL = re.compile(r"version=[0-9](:[A-Za-z0-9=._-]+)*")


# An SSH public key id (APKA...), the SSH user name; anything else is not recorded.
_SSH_KEY_ID = re.compile(r"APKA[A-Z0-9]{16,124}")
_GIT_ACTIONS = frozenset({"codecommit:GitPull", "codecommit:GitPush"})


class Refusal(Exception):
    """The session ends before git runs; ``message`` goes to the client's stderr."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


@dataclass
class _Record:
    """What the access log says about a session, filled in as it goes."""

    action: str = "-"
    repository: str = "-"
    principal: str = "-"
    exit_status: int = REFUSED
    outcome: str = "-"
    message: str | None = None
    caller: Caller | None = None
    user_agent: str | None = None


class GitSessions:
    def __init__(
        self,
        services: Services,
        authorizer: Authorizer,
        offload: Offload,
        *,
        region: str,
        access_log: AccessLog | None,
        max_sessions: int = 32,
        metrics: Metrics | None = None,
        trail: TrailRecorder | None = None,
    ) -> None:
        self._trail = trail
        self._max_sessions = max_sessions
        self._metrics = metrics
        self._services = services
        self._authorizer = authorizer
        self._offload = offload
        self._region = region
        self._access_log = access_log
        self.active: set[asyncio.Task[None]] = set()

    def repository_arn(self, name: str, account_id: str | None = None) -> str:
        """The repository's ARN in `account_id` (default: the bootstrap account)."""
        account = account_id or self._services.account_id
        return codecommit_repository_arn(self._region, account, name)

    async def handle(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        """The process factory asyncssh calls for each session channel."""
        task = asyncio.current_task()
        if task is not None:
            self.active.add(task)
        started = time.perf_counter()
        session_id = self._services.ids.request_id()
        key_id = str(process.get_extra_info("username") or "-")
        peer = process.get_extra_info("peername")
        client_ip = str(peer[0]) if peer else "-"
        record = _Record()
        try:
            record.exit_status = await self._serve(process, key_id, client_ip, record)
            record.outcome = "-" if record.exit_status == 0 else "GitFailed"
        except Refusal as refusal:
            record.outcome = refusal.outcome
            record.message = refusal.message
            _tell(process, refusal.message)
        except ClientGone:
            record.outcome = "ClientDisconnected"
        except ServiceUnavailable:
            # The database is away (logged once by it); the client may try again.
            record.outcome = ServiceUnavailable.code
            _tell(process, "iamd is temporarily unavailable; try again shortly.")
        except asyncio.CancelledError:
            record.outcome = "ServerShutdown"
            raise
        except Exception:
            log.exception("git session %s failed", session_id)
            record.outcome = "InternalFailure"
            _tell(process, f"iamd could not serve this request (session {session_id}).")
        finally:
            with contextlib.suppress(*CLIENT_GONE):
                process.exit(record.exit_status)
            if task is not None:
                self.active.discard(task)
            if self._metrics is not None:
                self._metrics.git_sessions.inc(
                    record.action, "ok" if record.outcome == "-" else record.outcome
                )
            if self._trail is not None and record.action in _GIT_ACTIONS:
                self._record_trail(record, session_id, client_ip, key_id)
            if self._access_log is not None:
                self._access_log.record_git_session(
                    session_id,
                    client_ip,
                    record.action,
                    record.principal,
                    record.exit_status,
                    record.outcome,
                    (time.perf_counter() - started) * 1000,
                    repository=record.repository,
                    ssh_public_key_id=key_id,
                )

    def _record_trail(self, record: _Record, session_id: str, client_ip: str, key_id: str) -> None:
        assert self._trail is not None
        failed = record.outcome != "-"
        self._trail.record(
            git_event(
                record.caller,
                self._services.account_id,
                record.action.split(":", 1)[1],
                record.repository,
                self._region,
                self._services.clock.now(),
                client_ip,
                record.user_agent,
                session_id,
                key_id if _SSH_KEY_ID.fullmatch(key_id) else None,
                record.outcome if failed else None,
                (record.message or record.outcome) if failed else None,
            )
        )

    async def _serve(
        self,
        process: asyncssh.SSHServerProcess[bytes],
        key_id: str,
        client_ip: str,
        record: _Record,
    ) -> int:
        if process.subsystem is not None:
            raise Refusal("CommandRefused", "Subsystems (sftp...) are not supported.")
        if len(self.active) > self._max_sessions:
            # Each session is a git process and a pipe: a bound keeps a burst of clones
            # from taking the machine (and the API on the same loop) down.
            raise Refusal(
                "Throttling",
                f"Too many git sessions at once (at most {self._max_sessions}); "
                "try again in a moment.",
            )
        try:
            command = parse_git_command(process.command)
        except CommandRefused as refused:
            raise Refusal("CommandRefused", str(refused)) from None
        record.action = command.service.action
        record.repository = command.repository_name
        login = await self._offload.read(lambda: self._services.ssh_logins.resolve(key_id))
        if login is None or not login.active:
            # Deactivated or deleted since the login (or a user deleted).
            raise Refusal("InvalidKey", f"SSH key {key_id} is not an Active key of an IAM user.")
        record.principal = login.caller.arn
        record.caller = login.caller
        record.user_agent = str(process.get_extra_info("client_version") or "") or None
        # Git over SSH is CodeCommit's use in the access advisor (GitPull, GitPush).
        self._services.last_used.record_service(
            login.caller.account_id,
            login.caller.arn,
            "codecommit",
            command.service.action.partition(":")[2],
            self._services.clock.now(),
            self._region,
        )
        # Clone URLs name no account: the repository is the key's user's account's.
        services = self._services.in_account(login.caller.account_id)
        self._authorize(login, command, client_ip, process)
        repository = await self._offload.read(
            lambda: services.repositories.find(command.repository_name)
        )
        if repository is None:
            raise Refusal(
                "RepositoryDoesNotExistException",
                f"Repository {command.repository_name} does not exist in account "
                f"{services.account_id}.",
            )
        return await self._run(process, command.service, repository, services)

    def _authorize(
        self,
        login: SSHLogin,
        command: GitCommand,
        client_ip: str,
        process: asyncssh.SSHServerProcess[bytes],
    ) -> None:
        request = AuthorizationRequest(
            credential=login,
            action=command.service.action,
            resource=self.repository_arn(command.repository_name, login.caller.account_id),
            source_ip=client_ip,
            # The client's SSH version string ("SSH-2.0-OpenSSH_9.2p1"), as the closest
            # thing to a user agent an SSH client sends.
            user_agent=str(process.get_extra_info("client_version") or ""),
            secure_transport=True,
            region=self._region,
            now=self._services.clock.now(),
            request_keys={},
        )
        try:
            self._authorizer.authorize(request)
        except AccessDenied as denied:
            raise Refusal("AccessDenied", denied.message) from None

    async def _run(
        self,
        process: asyncssh.SSHServerProcess[bytes],
        service: GitService,
        repository: Repository,
        services: Services,
    ) -> int:
        repositories = services.repositories
        path = repositories.path_of(repository)
        if not path.is_dir():
            log.error("repository %s has no directory %s", repository.name, path)
            raise Refusal("InternalFailure", f"Repository {repository.name} is not available.")
        if service is GitService.UPLOAD_PACK:
            return await run_git(process, _git_argv(service, path), _git_env(process))
        before = await self._offload.blocking(lambda: repositories.branches(repository))
        status = await run_git(process, _git_argv(service, path), _git_env(process))
        if status == 0:
            try:
                after = await self._offload.blocking(lambda: repositories.branches(repository))
                await self._offload.blocking(
                    lambda: repositories.record_push(repository, before, after)
                )
            except Exception:
                # The push itself succeeded; only the metadata is behind.
                log.exception("could not record the push to %s", repository.name)
        return status


def _git_argv(service: GitService, path: Path) -> list[str]:
    if service is GitService.UPLOAD_PACK:
        # --strict: serve exactly this directory, never a guessed "<path>/.git".
        return ["git", "upload-pack", "--strict", str(path)]
    return ["git", "receive-pack", str(path)]


def _git_env(process: asyncssh.SSHServerProcess[bytes]) -> dict[str, str]:
    """git's environment: nothing of iamd's own (no master key), the client's protocol."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C"}
    home = os.environ.get("HOME")
    if home:
        env["HOME"] = home  # the operator's git configuration applies to the server side
    protocol = process.env.get("GIT_PROTOCOL")
    if isinstance(protocol, str) and _GIT_PROTOCOL.fullmatch(protocol):
        env["GIT_PROTOCOL"] = protocol
    return env


def _tell(process: asyncssh.SSHServerProcess[bytes], message: str) -> None:
    with contextlib.suppress(*CLIENT_GONE):
        process.stderr.write(message.encode("utf-8") + b"\n")

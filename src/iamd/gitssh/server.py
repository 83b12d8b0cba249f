"""The SSH listener: public-key logins by SSHPublicKeyId, sessions handed to git.

Only public-key authentication is offered (no password, no keyboard-interactive); no
pty, no port, agent or X11 forwarding, no subsystem. The SSH user name must be an
SSHPublicKeyId whose key is Active, belongs to an existing user, and is exactly the key
the client proves it holds. The listener runs on the HTTP server's event loop; `stop`
stops accepting, lets sessions in flight finish for a grace period, then disconnects
the rest (their git processes are killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket

import asyncssh

from iamd.errors import ServiceUnavailable
from iamd.gitssh.offload import Offload
from iamd.gitssh.sessions import GitSessions
from iamd.principals.ssh_logins import SSHLoginResolver
from iamd.telemetry.metrics import Metrics

log = logging.getLogger("iamd.gitssh")

# SSHPublicKeyIds are APKA and 16 base32 characters; anything else needs no look-up.
_KEY_ID = re.compile(r"APKA[A-Z0-9]{16}")


class GitSshServer:
    def __init__(
        self,
        logins: SSHLoginResolver,
        sessions: GitSessions,
        offload: Offload,
        host_key: asyncssh.SSHKey,
        *,
        host: str,
        port: int,
        metrics: Metrics | None = None,
    ) -> None:
        self._logins = logins
        self._sessions = sessions
        self._offload = offload
        self._host_key = host_key
        self._host = host
        self._port = port
        self._metrics = metrics
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()

    def active_sessions(self) -> int:
        """git sessions running now (for /metrics)."""
        return len(self._sessions.active)

    @property
    def host_key_fingerprint(self) -> str:
        return self._host_key.get_fingerprint("sha256")

    async def start(self, sock: socket.socket | None = None) -> None:
        """Listen, on ``sock`` (bound already) if given; OSError when the port cannot be bound."""
        where: dict[str, object] = (
            {"sock": sock} if sock is not None else {"host": self._host, "port": self._port}
        )
        self._acceptor = await asyncssh.create_server(
            lambda: _Connection(self),
            **where,
            server_host_keys=[self._host_key],
            server_version="iamd",
            process_factory=self._sessions.handle,
            encoding=None,
            line_editor=False,
            allow_pty=False,
            agent_forwarding=False,
            x11_forwarding=False,
            public_key_auth=True,
            password_auth=False,
            kbdint_auth=False,
            host_based_auth=False,
            gss_host=None,
            login_timeout=30,
            keepalive_interval=60,
        )

    async def stop(self, grace: float) -> None:
        if self._acceptor is None:
            return
        self._acceptor.close()
        with contextlib.suppress(Exception):
            await self._acceptor.wait_closed()
        if self._sessions.active:
            # Pushes and clones in flight may finish.
            await asyncio.wait(set(self._sessions.active), timeout=grace)
        for conn in list(self._connections):
            conn.close()
        leftover = set(self._sessions.active)
        for task in leftover:
            task.cancel()
        if leftover:
            await asyncio.wait(leftover, timeout=5)

    async def accepts(self, username: str, key: asyncssh.SSHKey) -> bool:
        """Whether ``key`` may log in as ``username`` (an SSHPublicKeyId)."""
        if not _KEY_ID.fullmatch(username):
            return self._refused("NotAnSSHPublicKeyId")
        try:
            login = await self._offload.read(lambda: self._logins.resolve(username))
        except ServiceUnavailable:
            return False  # the database is away (logged once by it): fail closed
        except Exception:
            log.exception("could not look up SSH key %s", username)
            return self._refused("InternalFailure")  # fail closed
        if login is None:
            return self._refused("UnknownKey")
        if not login.accepts(key.public_data):
            return self._refused("KeyRefused")
        return True

    def _refused(self, reason: str) -> bool:
        if self._metrics is not None:
            self._metrics.authentication_failures.inc("ssh", reason)
        return False

    def track(self, conn: asyncssh.SSHServerConnection, *, opened: bool) -> None:
        if opened:
            self._connections.add(conn)
        else:
            self._connections.discard(conn)


class _Connection(asyncssh.SSHServer):
    """asyncssh's per-connection callbacks, answered by the server."""

    def __init__(self, server: GitSshServer) -> None:
        self._server = server
        self._conn: asyncssh.SSHServerConnection | None = None
        self._peer = "-"

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername")
        self._peer = str(peer[0]) if peer else "-"
        self._server.track(conn, opened=True)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._server.track(self._conn, opened=False)

    def begin_auth(self, username: str) -> bool:
        return True  # every login must authenticate

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        accepted = await self._server.accepts(username, key)
        if not accepted:
            log.info(
                "git over SSH: key %s refused for user name %r from %s",
                key.get_fingerprint("sha256"),
                username[:64],
                self._peer,
            )
        return accepted

"""git's smart HTTP protocol at CodeCommit's clone URL, `/v1/repos/NAME`.

A client authenticates with HTTP Basic: the `USERNAME-at-ACCOUNTID` and password of an
Active CodeCommit service-specific credential. A request without credentials gets 401
and `WWW-Authenticate` (git then asks its credential helper or uses the URL's); wrong
or inactive credentials, and a denied GitPull or GitPush, get 403, as CodeCommit
answers. Authorization goes through the authorizer the SSH front uses, on the
repository's ARN, before the repository is looked up.

git itself runs as `git http-backend` (CGI) on the repository directory: the request
body is streamed to its stdin and its output to the client in 64 KiB chunks, each
write waiting for its reader, so a large push or clone never sits in memory. Request
bodies are bounded (MAX_BODY_BYTES) and so is the number of requests running git at
once; password checks (argon2) and database work run on the worker threads, never on
the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from iamd.authz import AuthorizationRequest, Authorizer
from iamd.errors import AccessDenied
from iamd.http.app import Receive, Scope, Send
from iamd.model.arn import codecommit_repository_arn
from iamd.principals.git_credentials import GitCredentialLogin
from iamd.services.container import Services
from iamd.services.trail import TrailRecorder, git_event
from iamd.telemetry.access_log import AccessLog
from iamd.telemetry.metrics import Metrics

log = logging.getLogger("iamd.githttp")

T = TypeVar("T")
_Asgi = Any

PREFIX = "/v1/repos/"
# A push larger than this is refused (413); CodeCommit's own limit for one push is 2 GB.
MAX_BODY_BYTES = 2 * 1024 * 1024 * 1024
_CHUNK = 64 * 1024
# CGI response headers longer than this are not git's.
_MAX_HEAD = 16 * 1024
_REPOSITORY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_GIT_PROTOCOL = re.compile(r"version=[0-9](:[A-Za-z0-9=._-]+)*")
_REALM = b'Basic realm="iamd CodeCommit"'
_SERVICES = {"git-upload-pack": "codecommit:GitPull", "git-receive-pack": "codecommit:GitPush"}


@dataclass(frozen=True, slots=True)
class _Route:
    repository: str
    # What follows the repository in the URL: "info/refs", "git-upload-pack"...
    tail: str
    service: str

    @property
    def action(self) -> str:
        return _SERVICES[self.service]


class _Refused(Exception):
    def __init__(self, status: int, message: str, *, outcome: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.outcome = outcome


class GitHttp:
    """Wraps the ASGI app: `/v1/repos/...` is git's, everything else the app's."""

    def __init__(
        self,
        app: _Asgi,
        services: Services,
        authorizer: Authorizer,
        executor: Executor,
        *,
        region: str,
        max_requests: int = 32,
        trail: TrailRecorder | None = None,
        access_log: AccessLog | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._access_log = access_log
        self._metrics = metrics
        self._app = app
        self._services = services
        self._authorizer = authorizer
        self._executor = executor
        self._region = region
        self._max_requests = max_requests
        self._running = 0
        self._trail = trail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        login: GitCredentialLogin | None = None
        route: _Route | None = None
        outcome: str | None = None
        message: str | None = None
        # git's exit status when it ran, else the HTTP status of the refusal.
        exit_status = 0
        try:
            route = _route(scope)
            login = await self._login(scope)
            if self._running >= self._max_requests:
                raise _Refused(
                    503,
                    "Too many git requests at once; try again in a moment.",
                    outcome="Throttling",
                )
            self._running += 1
            try:
                status = await self._serve(scope, receive, send, route, login)
            finally:
                self._running -= 1
            exit_status = status
            if status != 0:
                outcome, message = "GitFailed", f"git exited with status {status}"
        except _Refused as refused:
            outcome, message = refused.outcome, refused.message
            exit_status = refused.status
            headers = [(b"www-authenticate", _REALM)] if refused.status == 401 else []
            await _answer(send, refused.status, refused.message, headers)
        finally:
            # Git's first request carries no credentials (it waits for the 401): nothing
            # to record. Refusals after it and the requests that run git are recorded.
            if self._trail is not None and _recorded(route, outcome):
                assert route is not None
                self._record(scope, route, login, outcome, message)
            action = route.action if route is not None else "-"
            if self._metrics is not None and route is not None and route.tail != "info/refs":
                self._metrics.git_sessions.inc(action, outcome or "ok")
            if self._access_log is not None:
                client = scope.get("client") or ("", 0)
                self._access_log.record_git_session(
                    self._services.ids.request_id(),
                    client[0] or "-",
                    action,
                    login.caller.arn if login is not None else "-",
                    exit_status,
                    outcome or "-",
                    (time.perf_counter() - started) * 1000,
                    repository=route.repository if route is not None else "-",
                    # The service-specific credential stands where SSH names its key.
                    ssh_public_key_id=(
                        login.service_specific_credential_id if login is not None else "-"
                    ),
                )

    async def _login(self, scope: Scope) -> GitCredentialLogin:
        credentials = _basic_credentials(scope["headers"])
        if credentials is None:
            raise _Refused(401, "Authentication required.", outcome="Unauthenticated")
        name, password = credentials
        login = await self._blocking(
            lambda: self._services.git_credentials.authenticate(name, password)
        )
        if login is None:
            # CodeCommit's answer to a wrong password, an inactive credential or a
            # deleted user alike: 403, and no hint which.
            raise _Refused(
                403,
                "The user name or password is wrong, or the credential is not an Active "
                "CodeCommit credential.",
                outcome="InvalidCredentials",
            )
        return login

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, route: _Route, login: GitCredentialLogin
    ) -> int:
        caller = login.caller
        services = self._services.in_account(caller.account_id)
        client = scope.get("client") or ("", 0)
        request = AuthorizationRequest(
            credential=login,
            action=route.action,
            resource=codecommit_repository_arn(self._region, caller.account_id, route.repository),
            source_ip=client[0] or "",
            user_agent=_header(scope["headers"], b"user-agent") or "",
            secure_transport=scope.get("scheme") == "https",
            region=self._region,
            now=self._services.clock.now(),
            request_keys={},
        )
        try:
            await self._blocking(lambda: self._authorizer.authorize(request))
        except AccessDenied as denied:
            raise _Refused(403, denied.message, outcome="AccessDenied") from None
        repository = await self._blocking(lambda: services.repositories.find(route.repository))
        if repository is None:
            raise _Refused(
                404,
                f"Repository {route.repository} does not exist in account {caller.account_id}.",
                outcome="RepositoryDoesNotExistException",
            )
        path = services.repositories.path_of(repository)
        if not path.is_dir():
            log.error("repository %s has no directory %s", repository.name, path)
            raise _Refused(
                500, f"Repository {repository.name} is not available.", outcome="InternalFailure"
            )
        if route.tail != "info/refs":
            self._services.last_used.record_service(
                caller.account_id,
                caller.arn,
                "codecommit",
                route.action.partition(":")[2],
                self._services.clock.now(),
                self._region,
            )
        pushing = route.tail == "git-receive-pack"
        before = (
            await self._blocking(lambda: services.repositories.branches(repository))
            if pushing
            else None
        )
        status = await _run_backend(scope, receive, send, path, route, caller.arn)
        if pushing and status == 0 and before is not None:
            try:
                after = await self._blocking(lambda: services.repositories.branches(repository))
                await self._blocking(
                    lambda: services.repositories.record_push(repository, before, after)
                )
            except Exception:
                # The push itself succeeded; only the metadata is behind.
                log.exception("could not record the push to %s", repository.name)
        return status

    async def _blocking(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def _record(
        self,
        scope: Scope,
        route: _Route,
        login: GitCredentialLogin | None,
        outcome: str | None,
        message: str | None,
    ) -> None:
        assert self._trail is not None
        client = scope.get("client") or ("", 0)
        caller = login.caller if login is not None else None
        self._trail.record(
            git_event(
                caller,
                caller.account_id if caller is not None else self._services.account_id,
                route.action.split(":", 1)[1],
                route.repository,
                self._region,
                self._services.clock.now(),
                client[0] or "",
                _header(scope["headers"], b"user-agent"),
                self._services.ids.request_id(),
                None,
                outcome,
                message,
                protocol="HTTP",
            )
        )


def _recorded(route: _Route | None, outcome: str | None) -> bool:
    if route is None or outcome == "Unauthenticated":
        return False
    # A clone's or push's ref advertisement is part of the one operation its POST is.
    return route.tail != "info/refs" or outcome is not None


def _route(scope: Scope) -> _Route:
    rest = scope["path"][len(PREFIX) :]
    name, _, tail = rest.partition("/")
    if not _REPOSITORY_NAME.fullmatch(name):
        raise _Refused(404, "Not a repository path: use /v1/repos/REPOSITORY.", outcome="NotFound")
    method = scope["method"]
    if tail == "info/refs" and method == "GET":
        query = scope.get("query_string", b"").decode("latin-1")
        service = dict(p.partition("=")[::2] for p in query.split("&")).get("service", "")
        if service in _SERVICES:
            return _Route(name, tail, service)
        # The "dumb" protocol (no service) is not served: git always asks for the smart one.
        raise _Refused(403, "Only git's smart HTTP protocol is served.", outcome="NotFound")
    if tail in _SERVICES and method == "POST":
        return _Route(name, tail, tail)
    raise _Refused(404, "Not a git smart HTTP request.", outcome="NotFound")


def _basic_credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    value = _header(headers, b"authorization")
    if value is None or value[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, colon, password = decoded.partition(":")
    if not colon or not name or len(name) > 200 or len(password) > 256:
        return None
    return name, password


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def _answer(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = (message + "\n").encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                *headers,
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _cgi_env(scope: Scope, path: Path, route: _Route, remote_user: str) -> dict[str, str]:
    """http-backend's environment: the CGI variables, nothing of iamd's own."""
    headers = scope["headers"]
    client = scope.get("client") or ("", 0)
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C",
        "GIT_PROJECT_ROOT": str(path.parent),
        # Every repository iamd holds is served to whoever is authorized above.
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{path.name}/{route.tail}",
        "REQUEST_METHOD": scope["method"],
        "QUERY_STRING": f"service={route.service}" if route.tail == "info/refs" else "",
        "CONTENT_TYPE": _header(headers, b"content-type") or "",
        # http-backend enables receive-pack only for an authenticated REMOTE_USER.
        "REMOTE_USER": remote_user,
        "REMOTE_ADDR": client[0] or "",
    }
    home = os.environ.get("HOME")
    if home:
        env["HOME"] = home
    length = _header(headers, b"content-length")
    if length is not None and length.isdigit():
        env["CONTENT_LENGTH"] = length
    encoding = _header(headers, b"content-encoding")
    if encoding in ("gzip", "x-gzip"):
        env["HTTP_CONTENT_ENCODING"] = encoding
    protocol = _header(headers, b"git-protocol")
    if protocol is not None and _GIT_PROTOCOL.fullmatch(protocol):
        env["GIT_PROTOCOL"] = protocol
    return env


async def _run_backend(
    scope: Scope, receive: Receive, send: Send, path: Path, route: _Route, remote_user: str
) -> int:
    """Run `git http-backend` for this request, streaming both ways; its exit status."""
    length = _header(scope["headers"], b"content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise _Refused(413, "Request body too large.", outcome="RequestTooLarge")
    git = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_cgi_env(scope, path, route, remote_user),
    )
    assert git.stdin is not None
    assert git.stdout is not None
    assert git.stderr is not None
    feeding = asyncio.create_task(_feed(receive, git.stdin, scope["method"] == "POST"))
    errors = asyncio.create_task(git.stderr.read(_MAX_HEAD))
    started = False
    try:
        status, headers, rest = await _cgi_head(git.stdout)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        started = True
        if rest:
            await send({"type": "http.response.body", "body": rest, "more_body": True})
        while data := await git.stdout.read(_CHUNK):
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        returncode = await git.wait()
    except _BodyTooLargeError:
        if not started:
            raise _Refused(413, "Request body too large.", outcome="RequestTooLarge") from None
        raise
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError, _BodyTooLargeError, OSError):
            await feeding
        if git.returncode is None:
            git.kill()
            await git.wait()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            stderr = await errors
            if stderr:
                log.info("git http-backend: %s", stderr.decode("utf-8", "replace").strip())
    return returncode


class _BodyTooLargeError(Exception):
    pass


async def _feed(receive: Receive, sink: asyncio.StreamWriter, has_body: bool) -> None:
    """The client's body to http-backend's stdin, bounded; stdin closed at its end."""
    size = 0
    try:
        while has_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _BodyTooLargeError
            if chunk:
                sink.write(chunk)
                await sink.drain()
            if not message.get("more_body", False):
                return
    except (BrokenPipeError, ConnectionResetError):
        return  # git stopped reading: its status says why
    finally:
        with contextlib.suppress(OSError):
            sink.close()


async def _cgi_head(
    stdout: asyncio.StreamReader,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The CGI response head: its Status, its headers, and what followed it."""
    buffer = b""
    while b"\r\n\r\n" not in buffer and b"\n\n" not in buffer:
        data = await stdout.read(_CHUNK)
        if not data or len(buffer) > _MAX_HEAD:
            raise RuntimeError("git http-backend gave no CGI header")
        buffer += data
    crlf, lf = buffer.find(b"\r\n\r\n"), buffer.find(b"\n\n")
    if crlf != -1 and (lf == -1 or crlf < lf):
        head, rest = buffer[:crlf], buffer[crlf + 4 :]
    else:
        head, rest = buffer[:lf], buffer[lf + 2 :]
    status = 200
    headers: list[tuple[bytes, bytes]] = []
    for line in head.splitlines():
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"status":
            status = int(value.split()[0])
        elif name:
            headers.append((name, value))
    return status, headers, rest

"""Binding the server's ports before anything else starts.

Both sockets (HTTP, and git over SSH) are bound before the database is opened and before
anything says "listening": a port that is taken is told in one line naming the option
that changes it, and nothing has started that would have to be undone. The sockets are
only bound here; the servers listen on them (uvicorn and asyncssh take them as they are).
"""

from __future__ import annotations

import errno
import socket


class PortUnavailable(Exception):
    """A port cannot be bound; the message names the option that fixes it."""


def bind_port(
    host: str,
    port: int,
    *,
    what: str,
    fix: str,
    reuse_port: bool = False,
    joining: bool = False,
) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not listening yet).

    ``what`` names the service in the message ("HTTP", "git over SSH"), ``fix`` the
    option(s) that choose another port. ``reuse_port``: SO_REUSEPORT, so that the
    workers of `serve --workers` each listen on a socket of their own on this port;
    the port must be free, unless ``joining`` (a worker joining its supervisor's).
    """
    # uvicorn's rule: an address with a colon is IPv6.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if reuse_port and not joining:
        # SO_REUSEPORT would let this socket join another process's listeners on the
        # port (another iamd of the same user), splitting its traffic without a word:
        # a plain bind first proves the port free.
        bind_port(host, port, what=what, fix=fix).close()
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn and asyncio do: a restart need not wait for TIME_WAIT to clear.
        # Linux still refuses a port another socket listens on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortUnavailable(_explain(exc, host, port, what, fix)) from None
    sock.set_inheritable(True)
    return sock


def _explain(exc: OSError, host: str, port: int, what: str, fix: str) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen for {what} on {where}: the port is already in use; {fix}"
    if exc.errno == errno.EACCES:
        return (
            f"cannot listen for {what} on {where}: permission denied "
            f"(ports below 1024 need privileges); {fix}"
        )
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return (
            f"cannot listen for {what} on {where}: {host} is not an address of this "
            "machine; choose another with --host (IAMD_HOST)"
        )
    return f"cannot listen for {what} on {where}: {exc.strerror or exc}; {fix}"

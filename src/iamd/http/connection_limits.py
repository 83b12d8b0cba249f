"""What one HTTP connection may cost the server: sizes, timeouts and how many at once.

The sizes bound what a request head may make the server buffer before it answers 414 or
431; the timeouts bound how long a client that sends slowly (or not at all) holds a
connection; the connection limit stays below the process's file-descriptor limit, so a
flood of idle connections can never make the listener fail to accept (EMFILE).
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: The request target (path and query) of one request; a presigned URL with a session
#: token is a few KiB. Longer: 414.
MAX_URL_BYTES = 32 * 1024
#: All header names and values of one request together; the largest legitimate header is
#: an X-Amz-Security-Token (at most 16 KiB, `auth.session_tokens.MAX_TOKEN_CHARS`).
#: Larger: 431.
MAX_HEADER_BYTES = 32 * 1024
#: Header lines of one request (botocore sends about ten). More: 431.
MAX_HEADERS = 100
#: File descriptors kept out of the HTTP connection budget: the database, logs, the
#: worker threads' connections, the SSH listener.
_RESERVED_FDS = 64
#: File descriptors one git session may hold (its SSH connection, git's pipes).
_FDS_PER_GIT_SESSION = 8
#: Below this many connections the server is not usable; a smaller descriptor limit is
#: an operator's mistake, told at start-up.
MIN_CONNECTIONS = 16


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    #: Seconds a connection may take to send a whole request head, counted from the
    #: moment it opened or its previous response was sent. Then: 408, closed.
    header_timeout: float = 10.0
    #: Seconds the client may take to send a whole request body, counted from the end of
    #: its head. Then: 408, closed.
    body_timeout: float = 30.0
    #: Seconds an idle keep-alive connection stays open between requests.
    keep_alive_timeout: int = 5
    #: Connections open at once. A new one beyond it replaces the connection that has
    #: been waiting longest for its client (idle, or sending its head or body); requests
    #: the server is working on are never dropped.
    max_connections: int = 4096
    max_url_bytes: int = MAX_URL_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES
    max_headers: int = MAX_HEADERS

    @property
    def max_head_bytes(self) -> int:
        """Bytes of a request head buffered at most before it is refused (431)."""
        # Request line, header lines, and their separators.
        return self.max_url_bytes + self.max_header_bytes + 4 * self.max_headers + 64


def raise_open_file_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; the soft limit after.

    The soft limit is often 1,024 while the hard one is far higher: without this, a
    thousand idle connections would exhaust the descriptors of the whole process.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Linux refuses RLIM_INFINITY for descriptors (fs.nr_open caps it); 2^20 is its default.
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit from %d to %d", soft, target)
            return soft
        return target
    return soft


def connection_budget(
    wanted: int, open_file_limit: int, *, worker_threads: int, git_sessions: int
) -> int:
    """How many HTTP connections fit in the file-descriptor limit, at most `wanted`."""
    reserved = _RESERVED_FDS + worker_threads + _FDS_PER_GIT_SESSION * git_sessions
    return max(MIN_CONNECTIONS, min(wanted, open_file_limit - reserved))

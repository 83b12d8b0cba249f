"""The clone URLs iamd reports for a repository (cloneUrlHttp, cloneUrlSsh).

iamd reports its own addresses, not AWS's ``git-codecommit.REGION.amazonaws.com``: a
client that clones what GetRepository returns must reach iamd. The SSH URL uses the
``--ssh-port`` setting; the HTTP URL is iamd's API endpoint, where git's smart HTTP
will be served under ``/v1/repos/NAME`` as on AWS.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

# A server bound to every interface has no single address a client can use.
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - not a bind


def public_host(bind_host: str) -> str:
    """The host name to put in URLs for a server bound to ``bind_host``."""
    if bind_host in _WILDCARD_HOSTS:
        return socket.getfqdn()
    if ":" in bind_host and not bind_host.startswith("["):
        return f"[{bind_host}]"  # an IPv6 literal in a URL
    return bind_host


@dataclass(frozen=True, slots=True)
class CloneUrls:
    host: str = "127.0.0.1"
    http_port: int = 4580
    ssh_port: int = 4522
    # https when the API port serves TLS.
    http_scheme: str = "http"

    def http(self, name: str) -> str:
        return f"{self.http_scheme}://{self.host}:{self.http_port}/v1/repos/{name}"

    def ssh(self, name: str) -> str:
        return f"ssh://{self.host}:{self.ssh_port}/v1/repos/{name}"

"""What `iamd serve` says once it is ready: where it listens, and what to do next.

A newcomer who ran `make serve` sees, once, the endpoint, where the admin's access key
is, the one command that writes an AWS CLI profile for it, and how to use the profile.
The endpoint is also written to `<data-dir>/endpoint-url`, from which `iamd profile`
takes it, so a server started on another port needs no extra option there.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from pathlib import Path

from iamd.server.settings import DEFAULT_DATA_DIR, Settings

log = logging.getLogger("iamd")

_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 - mapped away


def local_endpoint(settings: Settings) -> str:
    """The URL a client on this machine reaches the HTTP port at."""
    host = _WILDCARDS.get(settings.host, settings.host)
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if settings.tls else "http"
    return f"{scheme}://{host}:{settings.port}"


def write_endpoint_file(settings: Settings) -> None:
    """Record the endpoint for `iamd profile`; written whole or not at all."""
    path = settings.endpoint_file
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(local_endpoint(settings) + "\n")
        os.replace(temporary, path)
    except OSError as exc:
        # Only a convenience for `iamd profile`; the server runs without it.
        log.warning("could not write %s: %s", path, exc.strerror or exc)


def announce_ready(settings: Settings) -> None:
    endpoint = local_endpoint(settings)
    write_endpoint_file(settings)
    log.info("iamd listening on %s (account %s)", endpoint, settings.account_id)
    command = [*_own_command(), "profile", "--name", "iamd"]
    if settings.data_dir.resolve() != DEFAULT_DATA_DIR.resolve():
        command += ["--data-dir", str(settings.data_dir)]
    if settings.tls_self_signed:
        # The profile must trust the generated certificate (ca_bundle).
        command += ["--ca-bundle", str(settings.data_dir / "tls-self-signed.crt")]
    if settings.bootstrap_credentials_file.exists():
        where = f"in {settings.bootstrap_credentials_file}"
    elif settings.bootstrap_access_key_id:
        where = "the one in IAMD_BOOTSTRAP_ACCESS_KEY_ID / IAMD_BOOTSTRAP_SECRET_ACCESS_KEY"
    else:
        # The file was removed after the first start: the profile needs the key given.
        where = "not on file any more (give it with --access-key-id/--secret-access-key)"
    log.info("next: the admin's access key is %s", where)
    log.info("next: write an AWS CLI profile for it: %s", shlex.join(command))
    log.info(
        "next: then `export AWS_PROFILE=iamd` and run `aws sts get-caller-identity` "
        "(without a profile: AWS_ENDPOINT_URL=%s with keys and a region of your own)",
        endpoint,
    )


def _own_command() -> list[str]:
    """How this `iamd` was started, as the user would type it again."""
    started = Path(sys.argv[0])
    if started.name == "iamd":
        return [_relative(started)]
    return [_relative(Path(sys.executable)), "-m", "iamd"]


def _relative(path: Path) -> str:
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

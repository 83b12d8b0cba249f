"""The SSH host key: an Ed25519 key generated at the first start into the data directory.

It is written once, atomically, with mode 0600, next to its public half (``.pub``,
for known_hosts files; 0600 too, like everything in the data directory), and reused
at every start, so clients that trusted it
keep trusting it. A key file that group or others can read is refused, like the master
key. Ed25519 alone: every OpenSSH since 6.5 and current git clients accept it, and it
costs nothing to generate.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import asyncssh

from iamd.auth.private_files import create_private_file, read_private_file

_MAX_KEY_FILE_BYTES = 16 * 1024


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The host key stored at ``path``, created first if there is none."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    key = asyncssh.generate_private_key("ssh-ed25519", comment="iamd host key")
    if create_private_file(path, key.export_private_key("openssh")):
        _write_public_half(path, key)
        return key
    # Another process sharing the data directory wrote one first: use it.
    return _read(path)


def _read(path: Path) -> asyncssh.SSHKey:
    data = read_private_file(path, "SSH host key file", _MAX_KEY_FILE_BYTES)
    try:
        key = asyncssh.import_private_key(data)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise ValueError(f"SSH host key file {path} does not hold an unencrypted key") from exc
    if not (path.with_name(path.name + ".pub")).exists():
        _write_public_half(path, key)
    return key


def _write_public_half(path: Path, key: asyncssh.SSHKey) -> None:
    public = path.with_name(path.name + ".pub")
    temporary = public.with_name(f".{public.name}.{os.getpid()}")
    try:
        temporary.write_bytes(key.export_public_key("openssh"))
        temporary.chmod(0o600)
        os.replace(temporary, public)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()

"""Files only iamd may read (the master key, the SSH host key): created atomically with
mode 0600, and refused when group or others can read them."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

__all__ = ["create_private_file", "read_private_file"]


def read_private_file(path: Path, description: str, max_bytes: int) -> bytes:
    """Up to ``max_bytes`` of ``path``; ValueError if it is not a regular 0600 file.

    Symbolic links are followed (Kubernetes mounts secrets as links); the permissions
    checked are those of the open descriptor, so the file checked is the file read.
    FileNotFoundError when it does not exist.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{description} {path} is not a regular file")
        if mode & 0o077:
            raise ValueError(
                f"{description} {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(mode):04o}); it must be 0600"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(max_bytes)
    finally:
        os.close(fd)


def create_private_file(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` atomically with mode 0600; False if it exists.

    The content is written and synced under a temporary name and then hard-linked into
    place, so no reader ever sees a half-written file, and an existing one is never
    replaced (two processes starting at once agree on the first one written).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # independent of the umask
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        _fsync_directory(path.parent)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

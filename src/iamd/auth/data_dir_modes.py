"""The data directory is iamd's alone: directory 0700, every file in it 0600.

It holds the argon2 hashes and the sealed secrets (the database), the master key that
opens them, the SSH host key, the bootstrap credentials and the git repositories. `iamd
serve` first sets the process umask to 077, so that every file and directory created
from then on (SQLite's database and its -wal and -shm files, git's objects, anything a
library writes) is private whatever mode it asks for; then it tightens what already
exists with looser modes, from an older iamd or a careless copy, and says so in the log.

Only what iamd itself keeps is tightened: the data directory, the files and directories
it names (never whatever else an operator keeps beside them), and the SQLite database
wherever `--database-url` puts it. The master key and the SSH host key are not mended
but refused when others can read them (`private_files.py`). Symbolic links are left
alone. A directory with the sticky bit, such as /tmp, or one that cannot be changed, is
only warned about.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PRIVATE_UMASK", "make_private", "restrict_umask"]

PRIVATE_UMASK = 0o077

log = logging.getLogger("iamd")


def restrict_umask() -> None:
    """From now on this process creates nothing that group or others may read."""
    os.umask(PRIVATE_UMASK)


def make_private(data_dir: Path, entries: Iterable[Path]) -> None:
    """Create ``data_dir`` 0700 if missing; tighten it and ``entries`` where they exist."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in (data_dir, *entries):
        _tighten(path)


def _tighten(path: Path) -> None:
    try:
        status = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(status.st_mode) or not (status.st_mode & 0o077):
        return
    mode = stat.S_IMODE(status.st_mode)
    is_dir = stat.S_ISDIR(status.st_mode)
    if is_dir and status.st_mode & stat.S_ISVTX:
        log.warning(
            "%s is a shared directory (mode %04o): keep iamd's data in a directory of its own",
            path,
            mode,
        )
        return
    # Files keep their owner's bits (an executable stays executable).
    wanted = 0o700 if is_dir else (mode & 0o700) or 0o600
    try:
        # lstat said it is no link; chmod cannot skip links on Linux.
        os.chmod(path, wanted)
    except OSError as exc:
        log.warning(
            "%s is readable by group or others (mode %04o) and cannot be changed: %s",
            path,
            mode,
            exc.strerror or exc,
        )
        return
    log.warning(
        "%s was mode %04o; it is now %04o (whoever could read it until now may have a copy)",
        path,
        mode,
        wanted,
    )

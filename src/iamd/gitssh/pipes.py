"""Running git for an SSH channel: both directions piped, with backpressure.

Data moves in 64 KiB chunks and each write waits for its reader (``drain``): a slow
client slows git down instead of filling memory, and the SSH window does the same the
other way. git's exit status goes back to the client. If the client goes away, git is
killed; a session cancelled at shutdown kills it too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import asyncssh

_CHUNK = 64 * 1024
# What writing to a channel whose client left raises.
CLIENT_GONE: tuple[type[Exception], ...] = (OSError, asyncssh.Error)


class ClientGone(Exception):
    """The SSH client disconnected while git ran."""


async def run_git(
    process: asyncssh.SSHServerProcess[bytes], argv: list[str], env: Mapping[str, str]
) -> int:
    """Run ``argv`` with the channel as its stdin, stdout and stderr; its exit status."""
    git = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
    )
    assert git.stdin is not None
    assert git.stdout is not None
    assert git.stderr is not None
    # Not awaited with the rest: git may finish before the client closes its side.
    feeding = asyncio.create_task(_feed(process.stdin, git.stdin))
    try:
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(_copy(git.stdout, process.stdout))
                group.create_task(_copy(git.stderr, process.stderr))
        except ExceptionGroup as failure:
            _, other = failure.split(CLIENT_GONE)
            if other is None:
                raise ClientGone from None
            raise
        returncode = await git.wait()
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError, *CLIENT_GONE):
            await feeding
        if git.returncode is None:
            git.kill()
            await git.wait()
    # A git killed by a signal reports 128 + its number, as a shell would.
    return returncode if returncode >= 0 else 128 - returncode


async def _feed(source: asyncssh.SSHReader[bytes], sink: asyncio.StreamWriter) -> None:
    """Client to git; git's stdin is closed at the client's EOF (or disconnect)."""
    try:
        while data := await source.read(_CHUNK):
            sink.write(data)
            await sink.drain()
    except (BrokenPipeError, ConnectionResetError):
        return  # git stopped reading: it is exiting, its status says why
    finally:
        with contextlib.suppress(OSError):
            sink.close()


async def _copy(source: asyncio.StreamReader, sink: asyncssh.SSHWriter[bytes]) -> None:
    """git to client, until git closes its side."""
    while data := await source.read(_CHUNK):
        sink.write(data)
        await sink.drain()

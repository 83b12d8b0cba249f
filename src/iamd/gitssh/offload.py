"""Where blocking work of the SSH front runs: database reads on the event loop with the
embedded database (they are nearly always cache hits, as for HTTP reads), everything
else — reads on PostgreSQL, writes, git subprocesses waited for synchronously — on the
server's worker threads, so the loop never waits on a slow query or a lock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")


class Offload:
    def __init__(self, executor: Executor, *, inline_reads: bool) -> None:
        self._executor = executor
        self._inline_reads = inline_reads

    async def read(self, work: Callable[[], T]) -> T:
        if self._inline_reads:
            return work()
        return await self.blocking(work)

    async def blocking(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

"""Access-log batches are written in whole lines of at most 4096 bytes per write: the
workers of `serve --workers` share one stderr, and POSIX keeps a pipe write whole only
up to PIPE_BUF, so a larger one could be interleaved with another worker's."""

from __future__ import annotations

import io
import json

from iamd.telemetry.access_log import AccessLog


class _Writes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_a_large_batch_is_written_in_whole_lines_of_at_most_4096_bytes() -> None:
    for json_lines in (False, True):
        stream = _Writes()
        log = AccessLog(stream, json_lines=json_lines)
        for n in range(500):
            # Non-ASCII names count in bytes: 3 bytes each in UTF-8.
            log.record(f"req-{n}", "127.0.0.1", "GetUser", f"user/ü€{n}", 200, "-", 1.5)
        log.flush()
        assert len(stream.writes) > 10
        for text in stream.writes:
            assert len(text.encode()) <= 4096
            assert text.endswith("\n")
        lines = stream.getvalue().splitlines()
        assert len(lines) == 500
        if json_lines:
            assert [json.loads(line)["request_id"] for line in lines] == [
                f"req-{n}" for n in range(500)
            ]
        else:
            assert all(f"req-{n} " in line for n, line in enumerate(lines))

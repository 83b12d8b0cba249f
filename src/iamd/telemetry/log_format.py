"""The server's log formats: text (the default) or one JSON object per line.

`--log-format json` suits log collectors (journald with a JSON parser, Loki, Elastic):
every line is an object with `time` (UTC, ISO 8601 with milliseconds), `level`,
`logger` and `message`, plus `exception` when a traceback goes with it. The access
log (`iamd.telemetry.access_log`) writes the same keys and adds its columns as fields.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOG_FORMATS = ("text", "json")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def iso_time(seconds: float) -> str:
    """``2026-12-03T08:23:01.123Z`` for a time.time() value."""
    whole = int(seconds)
    millis = int((seconds - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "time": iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, ensure_ascii=False)


def _uvicorn_by_its_name(record: logging.LogRecord) -> bool:
    # uvicorn logs its general lines (start, stop, protocol errors) as "uvicorn.error"
    # for historical reasons; operators read that as errors.
    if record.name == "uvicorn.error":
        record.name = "uvicorn"
    return True


def configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_uvicorn_by_its_name)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(_TEXT_FORMAT)
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)

"""Where a delegation request's notifications go: iamd's stand-in for the partner's SNS
topic (docs/delegation.md, "Notifications").

iamd serves no SNS, so each message for a topic is appended, one JSON object per line,
to `DIR/<topic ARN with ':' as '_'>.jsonl` in the notifications directory (the data
directory's `delegation-notifications/`), created 0700 with files 0600: the exchange
token is in the FINALIZED message, and nowhere else. Without a directory (a test's
in-process services) messages are dropped. A failed write is logged without the
message and does not fail the call that caused it, as a late SNS delivery would not.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def topic_file_name(topic_arn: str) -> str:
    return topic_arn.replace(":", "_") + ".jsonl"


class DelegationNotifications:
    def __init__(self, directory: Path | None) -> None:
        self._directory = directory
        self._lock = threading.Lock()

    def publish(self, topic_arn: str, message: dict[str, Any]) -> None:
        if self._directory is None:
            return
        line = json.dumps(message, separators=(",", ":"), sort_keys=True) + "\n"
        try:
            with self._lock:
                self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                path = self._directory / topic_file_name(topic_arn)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, line.encode("utf-8"))
                finally:
                    os.close(fd)
        except OSError as exc:
            # Never the message: it may hold the exchange token.
            log.warning(
                "could not deliver a delegation request notification to %s: %s",
                topic_arn,
                exc.strerror,
            )

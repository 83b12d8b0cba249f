"""What a rotation left pending: the old key waiting out its grace period.

Kept beside the credentials file (`credentials.iamd-rotation`, mode 0600) because it holds
the old secret until the old key is deleted: without it a rollback could not put the old
key back into the file. It is removed when the rotation finishes or is rolled back.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from iamd.tools.rotation.credentials_file import replace_file


@dataclass(frozen=True, slots=True)
class PendingRotation:
    profile: str
    user_name: str
    old_access_key_id: str
    old_secret_access_key: str
    new_access_key_id: str
    delete_after: datetime


class RotationState:
    def __init__(self, credentials_path: Path) -> None:
        self.path = credentials_path.with_name(credentials_path.name + ".iamd-rotation")

    def get(self, profile: str) -> PendingRotation | None:
        entry = self._load().get(profile)
        if entry is None:
            return None
        return PendingRotation(
            profile=profile,
            user_name=entry["user_name"],
            old_access_key_id=entry["old_access_key_id"],
            old_secret_access_key=entry["old_secret_access_key"],
            new_access_key_id=entry["new_access_key_id"],
            delete_after=datetime.fromisoformat(entry["delete_after"]),
        )

    def put(self, pending: PendingRotation) -> None:
        entries = self._load()
        entry = asdict(pending)
        del entry["profile"]
        entry["delete_after"] = pending.delete_after.isoformat()
        entries[pending.profile] = entry
        self._store(entries)

    def remove(self, profile: str) -> None:
        entries = self._load()
        if entries.pop(profile, None) is not None:
            self._store(entries)

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _store(self, entries: dict[str, dict[str, str]]) -> None:
        if not entries:
            self.path.unlink(missing_ok=True)
            return
        if not self.path.exists():
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(descriptor)
        replace_file(self.path, json.dumps(entries, indent=2) + "\n")

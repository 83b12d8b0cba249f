"""A CodeCommit repository, as iamd stores it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Repository:
    """A git repository; ``default_branch`` is None until the first push."""

    repository_id: str
    name: str
    description: str | None
    default_branch: str | None
    creation_date: datetime
    last_modified_date: datetime

"""One page of a List operation: its items and the marker that resumes after them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_marker: str | None

    @property
    def is_truncated(self) -> bool:
        return self.next_marker is not None

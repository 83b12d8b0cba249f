"""Tag rules shared by every taggable entity."""

from __future__ import annotations

from collections.abc import Sequence

from iamd.errors import InvalidInput, LimitExceeded
from iamd.model import Tag
from iamd.store.sql.tags import TagRepository


def tags_from_params(raw: Sequence[dict[str, str]] | None) -> tuple[Tag, ...]:
    if not raw:
        return ()
    tags = tuple(Tag(t["Key"], t["Value"]) for t in raw)
    keys = [t.key.lower() for t in tags]
    if len(set(keys)) != len(keys):
        raise InvalidInput(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive."
        )
    return tags


def check_tag_count(existing_keys: Sequence[str], new_tags: Sequence[Tag], limit: int) -> None:
    keys = {k.lower() for k in existing_keys} | {t.key.lower() for t in new_tags}
    if len(keys) > limit:
        raise LimitExceeded("The number of tags has reached the maximum limit.")


def add_tags(
    repository: TagRepository,
    owner_id: str,
    existing: Sequence[Tag],
    new_tags: Sequence[Tag],
    limit: int,
) -> None:
    """Tag{User,Role,Policy}: add or replace tags, within the per-resource limit."""
    check_tag_count([t.key for t in existing], new_tags, limit)
    repository.upsert(owner_id, new_tags)

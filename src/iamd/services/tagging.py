"""Tags of IAM entities (users, roles, managed policies, MFA devices), written once.

Every taggable kind follows the same rules: at most `tags_per_resource` distinct keys
(ignoring case), keys unique ignoring case within one request, Untag of a key that is not
there is no error, and List*Tags pages through the tags in key order. `TaggedKind`
holds what differs between kinds (how the entity is found, where its tags live, whether
it may be changed at all), and `ResourceTags` the three operations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from iamd.errors import InvalidInput, LimitExceeded
from iamd.model import Tag
from iamd.model.page import Page
from iamd.store.sql.paging import page_of_sequence
from iamd.store.sql.tags import TagRepository
from iamd.store.transactions import ALL_CREDENTIALS, CredentialImpact, Repositories, Transactions

E = TypeVar("E")


def require_distinct_keys(tags: Sequence[Tag]) -> None:
    keys = [t.key.lower() for t in tags]
    if len(set(keys)) != len(keys):
        raise InvalidInput(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive."
        )


def check_tag_count(existing_keys: Sequence[str], new_tags: Sequence[Tag], limit: int) -> None:
    keys = {k.lower() for k in existing_keys} | {t.key.lower() for t in new_tags}
    if len(keys) > limit:
        raise LimitExceeded("The number of tags has reached the maximum limit.")


def _always_changeable(_entity: object, _change: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class TaggedKind(Generic[E]):
    """One taggable kind of entity."""

    # The entity a request names, or NoSuchEntity: (repos, key, for_update).
    find: Callable[[Repositories, str, bool], E]
    tags_of: Callable[[E], Sequence[Tag]]
    owner_id: Callable[[E], str]
    repository: Callable[[Repositories], TagRepository]
    # Refuses a change ("tag" or "untag") the entity does not allow (AWS managed policies).
    check_changeable: Callable[[E, str], None] = _always_changeable
    # The cached credentials a tag change can alter: principal tags feed aws:PrincipalTag.
    credentials: CredentialImpact = ALL_CREDENTIALS


class ResourceTags(Generic[E]):
    """Tag, Untag and List*Tags of one kind of entity."""

    def __init__(self, tx: Transactions, kind: TaggedKind[E], limit: int) -> None:
        self._tx = tx
        self._kind = kind
        self._limit = limit

    def tag(self, key: str, tags: Sequence[Tag]) -> None:
        kind = self._kind
        with self._tx.write(credentials=kind.credentials) as repos:
            entity = kind.find(repos, key, True)
            kind.check_changeable(entity, "tag")
            check_tag_count([t.key for t in kind.tags_of(entity)], tags, self._limit)
            kind.repository(repos).upsert(kind.owner_id(entity), tags)

    def untag(self, key: str, keys: Sequence[str]) -> None:
        kind = self._kind
        with self._tx.write(credentials=kind.credentials) as repos:
            entity = kind.find(repos, key, True)
            kind.check_changeable(entity, "untag")
            kind.repository(repos).remove(kind.owner_id(entity), keys)

    def list_tags(self, key: str, marker: str | None, max_items: int) -> Page[Tag]:
        with self._tx.read() as repos:
            entity = self._kind.find(repos, key, False)
        return page_of_sequence(list(self._kind.tags_of(entity)), marker, max_items)

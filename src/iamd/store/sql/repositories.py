"""CodeCommit repositories and their tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import RepositoryNameExistsException
from iamd.model.repository import Repository
from iamd.store.schema import repositories, repository_tags


def _to_repository(row: Row[Any]) -> Repository:
    return Repository(
        repository_id=row.repository_id,
        name=row.name,
        description=row.description,
        default_branch=row.default_branch,
        creation_date=row.creation_date,
        last_modified_date=row.last_modified_date,
    )


class RepositoryRepository:
    """CodeCommit repositories of one account (names are unique per account)."""

    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def by_name(self, name: str) -> Repository | None:
        row = self._conn.execute(_BY_NAME, {"name": name, "account_id": self._account_id}).first()
        return _to_repository(row) if row else None

    def add(self, repository: Repository, tags: Mapping[str, str]) -> None:
        try:
            self._conn.execute(
                _INSERT,
                {
                    "repository_id": repository.repository_id,
                    "account_id": self._account_id,
                    "name": repository.name,
                    "description": repository.description,
                    "default_branch": repository.default_branch,
                    "creation_date": repository.creation_date,
                    "last_modified_date": repository.last_modified_date,
                },
            )
        except IntegrityError as exc:
            # A concurrent CreateRepository of the same name won (PostgreSQL writers do
            # not serialise on a lock here, SQLite's do).
            raise RepositoryNameExistsException.named(repository.name) from exc
        if tags:
            self._conn.execute(
                _INSERT_TAG,
                [
                    {"repository_id": repository.repository_id, "key": k, "value": v}
                    for k, v in tags.items()
                ],
            )

    def set_description(self, repository_id: str, description: str | None, now: datetime) -> None:
        self._conn.execute(
            _SET_DESCRIPTION,
            {"rid": repository_id, "new_description": description, "now": now},
        )

    def record_push(self, repository_id: str, default_branch: str | None, now: datetime) -> None:
        """A push changed the repository: its modification date, and its default branch
        when it had none (only then: a concurrent first push must not override it)."""
        self._conn.execute(_TOUCH, {"rid": repository_id, "now": now})
        if default_branch is not None:
            self._conn.execute(_SET_FIRST_BRANCH, {"rid": repository_id, "branch": default_branch})

    def delete(self, repository_id: str) -> None:
        self._conn.execute(_DELETE, {"rid": repository_id})

    def count(self) -> int:
        return int(self._conn.execute(_COUNT, {"account_id": self._account_id}).scalar_one())

    def listing(
        self, *, by_last_modified: bool, descending: bool, offset: int, limit: int
    ) -> list[Repository]:
        """One page of repositories in the requested order (the name breaks ties)."""
        name = repositories.c.name
        keys = [repositories.c.last_modified_date, name] if by_last_modified else [name]
        order = [key.desc() if descending else key.asc() for key in keys]
        statement = (
            select(repositories)
            .where(repositories.c.account_id == self._account_id)
            .order_by(*order)
            .offset(offset)
            .limit(limit)
        )
        return [_to_repository(row) for row in self._conn.execute(statement)]


# The statements, built once (see named_entities for why).
_BY_NAME = select(repositories).where(
    repositories.c.account_id == bindparam("account_id"), repositories.c.name == bindparam("name")
)
_INSERT = insert(repositories)
_INSERT_TAG = insert(repository_tags)
_SET_DESCRIPTION = (
    update(repositories)
    .where(repositories.c.repository_id == bindparam("rid"))
    .values(description=bindparam("new_description"), last_modified_date=bindparam("now"))
)
_TOUCH = (
    update(repositories)
    .where(repositories.c.repository_id == bindparam("rid"))
    .values(last_modified_date=bindparam("now"))
)
_SET_FIRST_BRANCH = (
    update(repositories)
    .where(
        repositories.c.repository_id == bindparam("rid"),
        repositories.c.default_branch.is_(None),
    )
    .values(default_branch=bindparam("branch"))
)
_DELETE = delete(repositories).where(repositories.c.repository_id == bindparam("rid"))
_COUNT = (
    select(func.count())
    .select_from(repositories)
    .where(repositories.c.account_id == bindparam("account_id"))
)

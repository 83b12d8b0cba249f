"""CodeCommit repositories: metadata in the database, a bare git repository on disk.

Each repository is a row (unique name) and a bare repository at
``<root>/<repository_id>.git``. The directory is named by the id, not the name, so a
name can be reused after a delete without meeting leftovers, and names never reach a
file path. CreateRepository runs ``git init --bare`` inside the write transaction: if
git fails, the row is rolled back; if the commit fails, the new directory is removed.
DeleteRepository removes the directory only after the row's delete has committed, so a
failed delete never loses the data of a repository that still exists.

Repositories are not SigV4 credentials: no write here changes a cached credential.
"""

from __future__ import annotations

import base64
import binascii
import logging
import shutil
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from iamd.clock import Clock
from iamd.errors import (
    InvalidContinuationTokenException,
    RepositoryDoesNotExistException,
    RepositoryNameExistsException,
)
from iamd.model.repository import Repository
from iamd.services.transactions import NO_CREDENTIALS, Transactions

log = logging.getLogger("iamd.repositories")

#: ListRepositories answers at most 1,000 repositories per page, as AWS does.
PAGE_SIZE = 1000
_TOKEN_PREFIX = "iamdrepos1:"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True, slots=True)
class RepositoryPage:
    items: list[Repository]
    next_token: str | None


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode("ascii")


def _decode_token(token: str | None) -> int:
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidContinuationTokenException() from None
    number = text.removeprefix(_TOKEN_PREFIX)
    if number == text or not number.isdigit():
        raise InvalidContinuationTokenException()
    return int(number)


class RepositoryService:
    def __init__(self, tx: Transactions, clock: Clock, root: Path) -> None:
        self._tx = tx
        self._clock = clock
        self._root = root

    def path_of(self, repository: Repository) -> Path:
        """Where the bare git repository of ``repository`` lives."""
        return self._root / f"{repository.repository_id}.git"

    def create(self, name: str, description: str | None, tags: Mapping[str, str]) -> Repository:
        now = self._clock.now()
        repository = Repository(
            repository_id=str(uuid.uuid4()),
            name=name,
            description=description,
            default_branch=None,
            creation_date=now,
            last_modified_date=now,
        )
        path = self.path_of(repository)
        try:
            with self._tx.write(credentials=NO_CREDENTIALS) as repos:
                if repos.repositories.by_name(name) is not None:
                    raise RepositoryNameExistsException.named(name)
                repos.repositories.add(repository, tags)
                self._init_bare(path)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return repository

    def get(self, name: str) -> Repository:
        with self._tx.read() as repos:
            repository = repos.repositories.by_name(name)
        if repository is None:
            raise RepositoryDoesNotExistException.named(name, self._tx.account_id)
        return repository

    def listing(
        self, token: str | None, *, by_last_modified: bool, descending: bool
    ) -> RepositoryPage:
        offset = _decode_token(token)
        with self._tx.read() as repos:
            rows = repos.repositories.listing(
                by_last_modified=by_last_modified,
                descending=descending,
                offset=offset,
                limit=PAGE_SIZE + 1,
            )
        if len(rows) > PAGE_SIZE:
            return RepositoryPage(rows[:PAGE_SIZE], _encode_token(offset + PAGE_SIZE))
        return RepositoryPage(rows, None)

    def update_description(self, name: str, description: str | None) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repository = repos.repositories.by_name(name)
            if repository is None:
                raise RepositoryDoesNotExistException.named(name, self._tx.account_id)
            repos.repositories.set_description(
                repository.repository_id, description, self._clock.now()
            )

    def delete(self, name: str) -> str | None:
        """Delete the repository; its id, or None when there was none (not an error)."""
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repository = repos.repositories.by_name(name)
            if repository is None:
                return None
            repos.repositories.delete(repository.repository_id)
        shutil.rmtree(self.path_of(repository), ignore_errors=True)
        return repository.repository_id

    def _init_bare(self, path: Path) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["git", "init", "--quiet", "--bare", str(path)],
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            log.error("git init --bare %s failed: %s", path, result.stderr.decode(errors="replace"))
            raise RuntimeError("git init --bare failed")

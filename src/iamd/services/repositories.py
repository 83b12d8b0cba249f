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
from iamd.store.sql.paging import offset_in
from iamd.store.transactions import NO_CREDENTIALS, Transactions

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
    offset = offset_in(text.removeprefix(_TOKEN_PREFIX))
    if not text.startswith(_TOKEN_PREFIX) or offset is None:
        raise InvalidContinuationTokenException()
    return offset


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
        repository = self.find(name)
        if repository is None:
            raise RepositoryDoesNotExistException.named(name, self._tx.account_id)
        return repository

    def find(self, name: str) -> Repository | None:
        with self._tx.read() as repos:
            return repos.repositories.by_name(name)

    def branches(self, repository: Repository) -> dict[str, str]:
        """The branches of the bare repository on disk, name to commit id."""
        result = subprocess.run(
            ["git", "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"],
            cwd=self.path_of(repository),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            log.error("git for-each-ref failed in %s", self.path_of(repository))
            raise RuntimeError("git for-each-ref failed")
        branches = {}
        for line in result.stdout.decode("utf-8", "replace").splitlines():
            commit, _, ref = line.partition(" ")
            branches[ref.removeprefix("refs/heads/")] = commit
        return branches

    def record_push(
        self, repository: Repository, before: Mapping[str, str], after: Mapping[str, str]
    ) -> None:
        """Note a push that moved branches from ``before`` to ``after``.

        The repository's lastModifiedDate becomes now. A repository without a default
        branch gets one, as on CodeCommit, where the first branch pushed becomes it: the
        branch HEAD already names if it was pushed (``git init``'s default), else
        ``main``, ``master`` or the first by name. HEAD then points at it, so clones
        check it out.
        """
        if dict(before) == dict(after):
            return
        branch = None
        if repository.default_branch is None and after:
            branch = self._first_branch(repository, after)
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            current = repos.repositories.by_name(repository.name)
            if current is None or current.repository_id != repository.repository_id:
                return  # deleted (or replaced) while the push ran
            repos.repositories.record_push(repository.repository_id, branch, self._clock.now())
            # Read back: a concurrent first push may have chosen the branch.
            stored = repos.repositories.by_name(repository.name)
            chosen = stored.default_branch if stored is not None else None
        if branch is not None and branch == chosen:
            self._point_head_at(repository, branch)

    def _point_head_at(self, repository: Repository, branch: str) -> None:
        if self._git(repository, "symbolic-ref", "HEAD", f"refs/heads/{branch}") is None:
            log.error("could not point HEAD at %s in %s", branch, self.path_of(repository))

    def _first_branch(self, repository: Repository, branches: Mapping[str, str]) -> str:
        head = self._git(repository, "symbolic-ref", "--short", "HEAD")
        for candidate in (head, "main", "master"):
            if candidate is not None and candidate in branches:
                return candidate
        return min(branches)

    def _git(self, repository: Repository, *args: str) -> str | None:
        result = subprocess.run(
            ["git", *args], cwd=self.path_of(repository), capture_output=True, check=False
        )
        if result.returncode != 0:
            return None
        return result.stdout.decode("utf-8", "replace").strip()

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

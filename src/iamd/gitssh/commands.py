"""The commands git sends over SSH, parsed: the only ones iamd runs.

git runs ``ssh HOST "git-upload-pack '/v1/repos/NAME'"`` to fetch and clone and
``git-receive-pack`` to push, the path quoted by its ``sq_quote`` (``'`` becomes
``'\\''``). Other clients write ``git upload-pack``, double quotes, no quotes, or the
``v1/repos/NAME`` of an scp-style URL. Anything else — a shell, another program, an
option, a second argument — is refused with a message the client shows.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from enum import StrEnum

# CodeCommit's repositoryName: 1-100 of letters, digits, '_', '.', '-'.
_REPOSITORY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_REPOSITORY_PATH = re.compile(r"/?v1/repos/(?P<name>[^/]*)/?")
# Commands longer than this are not git's: refuse them before tokenising.
MAX_COMMAND_LENGTH = 1024

# CodeCommit's answer to a plain `ssh HOST`, word for word: scripts test logins with it.
INTERACTIVE_SHELL_REFUSED = (
    "You have successfully authenticated over SSH. You can use Git to interact with "
    "AWS CodeCommit. Interactive shells are not supported."
)


class GitService(StrEnum):
    UPLOAD_PACK = "upload-pack"
    RECEIVE_PACK = "receive-pack"

    @property
    def action(self) -> str:
        """The IAM action CodeCommit authorizes for this service."""
        return "codecommit:GitPull" if self is GitService.UPLOAD_PACK else "codecommit:GitPush"


@dataclass(frozen=True, slots=True)
class GitCommand:
    service: GitService
    repository_name: str


class CommandRefused(ValueError):
    """A request iamd does not run; ``str()`` is the message for the client."""


def parse_git_command(command: str | None) -> GitCommand:
    """The git command in an SSH exec request; CommandRefused for anything else.

    ``None`` is a shell request (plain ``ssh HOST``): refused with CodeCommit's hint.
    """
    if command is None:
        raise CommandRefused(INTERACTIVE_SHELL_REFUSED)
    if len(command) > MAX_COMMAND_LENGTH:
        raise CommandRefused("Command too long: only git-upload-pack and git-receive-pack run.")
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if len(words) == 3 and words[0] == "git":
        words = [f"git-{words[1]}", words[2]]
    service = _service_of(words[0]) if len(words) == 2 else None
    if service is None:
        raise CommandRefused(
            f"Command not allowed: {_shown(command)}. Only git-upload-pack and "
            "git-receive-pack of /v1/repos/REPOSITORY run here."
        )
    return GitCommand(service, _repository_name(words[1]))


def _service_of(program: str) -> GitService | None:
    for service in GitService:
        if program == f"git-{service.value}":
            return service
    return None


def _repository_name(path: str) -> str:
    match = _REPOSITORY_PATH.fullmatch(path)
    if match is None or not _REPOSITORY_NAME.fullmatch(match["name"]):
        raise CommandRefused(
            f"Invalid repository path {_shown(path)}: use /v1/repos/REPOSITORY "
            "(letters, digits, '_', '.' and '-', at most 100)."
        )
    return match["name"]


def _shown(text: str, limit: int = 80) -> str:
    """Client text, quoted and cut short, with control characters escaped."""
    shortened = text if len(text) <= limit else text[:limit] + "..."
    return repr(shortened)

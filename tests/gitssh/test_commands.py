"""Which SSH exec requests git over SSH runs: git's own commands, in the forms clients send."""

from __future__ import annotations

import pytest

from iamd.gitssh.commands import (
    INTERACTIVE_SHELL_REFUSED,
    CommandRefused,
    GitCommand,
    GitService,
    parse_git_command,
)

PULL = GitService.UPLOAD_PACK
PUSH = GitService.RECEIVE_PACK


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # What git itself sends (sq_quote'd path).
        ("git-upload-pack '/v1/repos/MyDemoRepo'", GitCommand(PULL, "MyDemoRepo")),
        ("git-receive-pack '/v1/repos/MyDemoRepo'", GitCommand(PUSH, "MyDemoRepo")),
        # `git upload-pack` (two words), double quotes, no quotes.
        ("git upload-pack '/v1/repos/a.b_c-d'", GitCommand(PULL, "a.b_c-d")),
        ('git receive-pack "/v1/repos/repo"', GitCommand(PUSH, "repo")),
        ("git-upload-pack /v1/repos/repo", GitCommand(PULL, "repo")),
        # scp-style URLs (host:v1/repos/NAME) send a relative path; a trailing slash.
        ("git-upload-pack 'v1/repos/repo'", GitCommand(PULL, "repo")),
        ("git-upload-pack '/v1/repos/repo/'", GitCommand(PULL, "repo")),
        # The longest name CodeCommit allows.
        (f"git-upload-pack '/v1/repos/{'r' * 100}'", GitCommand(PULL, "r" * 100)),
    ],
)
def test_git_commands_are_recognised(command: str, expected: GitCommand) -> None:
    assert parse_git_command(command) == expected


def test_each_service_names_the_action_codecommit_authorizes() -> None:
    assert PULL.action == "codecommit:GitPull"
    assert PUSH.action == "codecommit:GitPush"


def test_a_shell_request_gets_codecommits_answer() -> None:
    with pytest.raises(CommandRefused) as refused:
        parse_git_command(None)
    assert str(refused.value) == INTERACTIVE_SHELL_REFUSED
    assert "Interactive shells are not supported" in str(refused.value)


@pytest.mark.parametrize(
    "command",
    [
        "ls",
        "sh -c 'git-upload-pack /v1/repos/repo'",
        "git-upload-pack '/v1/repos/repo'; rm -rf /",
        "git-upload-pack '/v1/repos/repo' extra",
        "git-upload-pack --strict '/v1/repos/repo'",
        "git-upload-archive '/v1/repos/repo'",
        "git daemon '/v1/repos/repo'",
        "git-upload-pack",
        "git-upload-pack 'unterminated",
        "",
        "x" * 5000,
    ],
)
def test_anything_else_is_refused(command: str) -> None:
    with pytest.raises(CommandRefused) as refused:
        parse_git_command(command)
    assert "git-upload-pack and git-receive-pack" in str(refused.value)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/repos/",
        "/v1/repos/../x",
        "/v1/repos/a/b",
        "/v1/repos/na me",
        "/v1/repos/caf\u00e9",
        f"/v1/repos/{'r' * 101}",
        "/srv/git/repo.git",
        "/v2/repos/repo",
        "~/repo",
    ],
)
def test_paths_other_than_a_repository_are_refused(path: str) -> None:
    with pytest.raises(CommandRefused) as refused:
        parse_git_command(f"git-receive-pack '{path}'")
    assert "Invalid repository path" in str(refused.value)
    assert "/v1/repos/REPOSITORY" in str(refused.value)


def test_a_refusal_shows_client_text_escaped_and_short() -> None:
    with pytest.raises(CommandRefused) as refused:
        parse_git_command("evil\x1b[2J" + "y" * 200)
    message = str(refused.value)
    assert "\x1b" not in message
    assert len(message) < 250

"""Editing one profile of an AWS shared credentials file without disturbing the rest.

`configparser` would drop comments and reorder nothing but rewrite everything; people
keep notes and other tools' keys in this file, so only the two key lines of one profile
are replaced, every other byte stays as it was. The new file is written beside the old
one with the same permissions, flushed to disk, then renamed over it: a crash leaves
either the old file or the new one, never half of each.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

_SECTION = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(?:[#;].*)?$")
_KEY_LINE = re.compile(r"^(\s*)(aws_access_key_id|aws_secret_access_key|aws_session_token)(\s*=)")


class CredentialsFileError(Exception):
    """The file cannot be read or does not hold the profile's static keys."""


@dataclass(frozen=True, slots=True)
class StaticKeys:
    access_key_id: str
    secret_access_key: str


def default_credentials_path() -> Path:
    configured = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(configured).expanduser() if configured else Path("~/.aws/credentials").expanduser()


def read_profile_keys(path: Path, profile: str) -> StaticKeys:
    lines = _read_lines(path)
    start, end = _profile_span(lines, profile, path)
    values: dict[str, str] = {}
    for line in lines[start:end]:
        match = _KEY_LINE.match(line)
        if match:
            values[match.group(2)] = line[match.end() :].strip()
    if "aws_access_key_id" not in values or "aws_secret_access_key" not in values:
        raise CredentialsFileError(
            f"profile [{profile}] in {path} has no aws_access_key_id and aws_secret_access_key"
        )
    if "aws_session_token" in values:
        raise CredentialsFileError(
            f"profile [{profile}] in {path} holds temporary credentials (aws_session_token); "
            "only long-term access keys can be rotated"
        )
    return StaticKeys(values["aws_access_key_id"], values["aws_secret_access_key"])


def write_profile_keys(path: Path, profile: str, keys: StaticKeys) -> None:
    """Replace the profile's two key lines, atomically, keeping mode and everything else."""
    lines = _read_lines(path)
    start, end = _profile_span(lines, profile, path)
    replacements = {
        "aws_access_key_id": keys.access_key_id,
        "aws_secret_access_key": keys.secret_access_key,
    }
    for index in range(start, end):
        match = _KEY_LINE.match(lines[index])
        if match and match.group(2) in replacements:
            newline = "\n" if lines[index].endswith("\n") else ""
            value = replacements[match.group(2)]
            lines[index] = f"{match.group(1)}{match.group(2)}{match.group(3)} {value}{newline}"
    replace_file(path, "".join(lines))


def replace_file(path: Path, content: str) -> None:
    mode = path.stat().st_mode & 0o7777
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", text=True)
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError as error:
        raise CredentialsFileError(f"cannot read {path}: {error.strerror}") from None


def _profile_span(lines: list[str], profile: str, path: Path) -> tuple[int, int]:
    start: int | None = None
    for index, line in enumerate(lines):
        match = _SECTION.match(line)
        if not match:
            continue
        if start is not None:
            return start, index
        if match.group(1) == profile:
            start = index + 1
    if start is None:
        raise CredentialsFileError(f"no profile [{profile}] in {path}")
    return start, len(lines)

"""Editing one profile of a shared credentials file keeps every other byte."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from iamd.tools.rotation.credentials_file import (
    CredentialsFileError,
    StaticKeys,
    read_profile_keys,
    write_profile_keys,
)

CONTENT = """\
; top comment
[default]
aws_access_key_id=AKIADEFAULT000000001
aws_secret_access_key=default-secret

[ dev ]   # the team's profile
aws_access_key_id = AKIADEV0000000000001
  aws_secret_access_key   =   dev-secret
region = eu-west-1

[temp]
aws_access_key_id = ASIATEMP000000000001
aws_secret_access_key = temp-secret
aws_session_token = token
"""


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    path = tmp_path / "credentials"
    path.write_text(CONTENT)
    path.chmod(0o640)
    return path


def test_reads_the_keys_of_one_profile(credentials: Path) -> None:
    assert read_profile_keys(credentials, "dev") == StaticKeys("AKIADEV0000000000001", "dev-secret")
    assert read_profile_keys(credentials, "default").access_key_id == "AKIADEFAULT000000001"


def test_writing_changes_only_the_two_key_lines(credentials: Path) -> None:
    write_profile_keys(credentials, "dev", StaticKeys("AKIANEW0000000000001", "new/secret+"))

    expected = CONTENT.replace(
        "aws_access_key_id = AKIADEV0000000000001", "aws_access_key_id = AKIANEW0000000000001"
    ).replace("  aws_secret_access_key   =   dev-secret", "  aws_secret_access_key   = new/secret+")
    assert credentials.read_text() == expected
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o640
    assert [p.name for p in credentials.parent.iterdir()] == ["credentials"]


def test_missing_profile_and_temporary_credentials_are_refused(credentials: Path) -> None:
    with pytest.raises(CredentialsFileError, match=r"no profile \[prod\]"):
        read_profile_keys(credentials, "prod")
    with pytest.raises(CredentialsFileError, match="aws_session_token"):
        read_profile_keys(credentials, "temp")
    with pytest.raises(CredentialsFileError, match="cannot read"):
        read_profile_keys(credentials.parent / "absent", "dev")

"""The SSH host key: generated once with mode 0600, then reused; refused if others can read it."""

from __future__ import annotations

import stat
from pathlib import Path

import asyncssh
import pytest

from iamd.gitssh.host_keys import load_or_create_host_key


def test_the_key_is_created_once_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "ssh_host_ed25519_key"
    first = load_or_create_host_key(path)
    assert first.algorithm == b"ssh-ed25519"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = path.with_name(path.name + ".pub")
    assert public.read_bytes() == first.export_public_key("openssh")
    stored = path.read_bytes()
    again = load_or_create_host_key(path)
    assert again.get_fingerprint("sha256") == first.get_fingerprint("sha256")
    assert path.read_bytes() == stored


def test_a_missing_public_half_is_written_again(tmp_path: Path) -> None:
    path = tmp_path / "ssh_host_ed25519_key"
    key = load_or_create_host_key(path)
    public = path.with_name(path.name + ".pub")
    public.unlink()
    load_or_create_host_key(path)
    assert asyncssh.import_public_key(public.read_bytes()).get_fingerprint(
        "sha256"
    ) == key.get_fingerprint("sha256")


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ssh_host_ed25519_key"
    load_or_create_host_key(path)
    path.chmod(0o644)
    with pytest.raises(ValueError, match="accessible by group or others"):
        load_or_create_host_key(path)


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ssh_host_ed25519_key"
    path.write_bytes(b"not a key\n")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="does not hold an unencrypted key"):
        load_or_create_host_key(path)

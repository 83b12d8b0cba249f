"""SecretBox: AES-GCM sealing of secret access keys, and where its master key comes from."""

from __future__ import annotations

import base64
import os
import pickle
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamd.auth.secret_box import SecretBox

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CONTEXT = b"access-key:AKIAIOSFODNN7EXAMPLE"


def test_round_trip() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(SECRET, CONTEXT)
    assert box.open(sealed, CONTEXT) == SECRET


@settings(max_examples=100)
@given(plaintext=st.text(), context=st.binary(max_size=64))
def test_round_trip_any_text(plaintext: str, context: bytes) -> None:
    box = SecretBox(KEY)
    assert box.open(box.seal(plaintext, context), context) == plaintext


def test_format_is_version_nonce_ciphertext_tag() -> None:
    sealed = SecretBox(KEY).seal(SECRET, CONTEXT)
    assert sealed[0] == 0x01
    assert len(sealed) == 1 + 12 + len(SECRET.encode()) + 16


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    sealed = SecretBox(KEY).seal(SECRET, CONTEXT)
    assert SECRET.encode() not in sealed
    assert SECRET[:8].encode() not in sealed
    assert base64.b64encode(SECRET.encode()) not in sealed


def test_each_seal_uses_a_fresh_nonce() -> None:
    box = SecretBox(KEY)
    assert box.seal(SECRET, CONTEXT) != box.seal(SECRET, CONTEXT)


def expect_cannot_decrypt(box: SecretBox, sealed: bytes, context: bytes) -> None:
    with pytest.raises(ValueError, match=r"^cannot decrypt secret$") as caught:
        box.open(sealed, context)
    # Nothing chained: the underlying cryptography error says which check failed.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_wrong_context_cannot_open() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(SECRET, CONTEXT)
    expect_cannot_decrypt(box, sealed, b"access-key:AKIAOTHERKEY00000000")
    expect_cannot_decrypt(box, sealed, b"")


def test_wrong_key_cannot_open() -> None:
    sealed = SecretBox(KEY).seal(SECRET, CONTEXT)
    expect_cannot_decrypt(SecretBox(OTHER_KEY), sealed, CONTEXT)


def test_any_tampered_byte_cannot_open() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(SECRET, CONTEXT)
    for index in range(len(sealed)):
        tampered = sealed[:index] + bytes([sealed[index] ^ 0x80]) + sealed[index + 1 :]
        expect_cannot_decrypt(box, tampered, CONTEXT)


@pytest.mark.parametrize("sealed", [b"", b"\x01", b"\x01" + b"\x00" * 27, b"\x02" + b"\x00" * 60])
def test_truncated_or_unknown_version_cannot_open(sealed: bytes) -> None:
    expect_cannot_decrypt(SecretBox(KEY), sealed, CONTEXT)


def test_key_is_never_shown() -> None:
    box = SecretBox(KEY)
    for text in (repr(box), str(box), f"{box}"):
        assert KEY.hex() not in text
        assert base64.b64encode(KEY).decode() not in text
        assert "hidden" in text
    with pytest.raises(TypeError):
        pickle.dumps(box)


@pytest.mark.parametrize("key", [b"", b"short", bytes(31), bytes(33)])
def test_master_key_must_be_32_bytes(key: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox(key)


# ---------------------------------------------------------------------------------------
# Master key from IAMD_MASTER_KEY or a key file.


@pytest.mark.parametrize(
    "encoded",
    [
        base64.b64encode(KEY).decode(),
        base64.urlsafe_b64encode(KEY).decode(),
        base64.urlsafe_b64encode(KEY).decode().rstrip("="),
        "  " + base64.b64encode(KEY).decode() + "\n",
    ],
)
def test_environment_key_in_either_base64_alphabet(encoded: str, tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    box = SecretBox.from_environment_or_file(encoded, key_file)
    assert SecretBox(KEY).open(box.seal(SECRET, CONTEXT), CONTEXT) == SECRET
    assert not key_file.exists()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64 at all!!",
        base64.b64encode(bytes(16)).decode(),
        base64.b64encode(bytes(33)).decode(),
        base64.b64encode(KEY).decode()[:-4] + "ÿÿÿÿ",
    ],
)
def test_invalid_environment_key_is_refused_without_echoing_it(value: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="IAMD_MASTER_KEY") as caught:
        SecretBox.from_environment_or_file(value, tmp_path / "master.key")
    if value:
        assert value not in str(caught.value)
    assert caught.value.__cause__ is None


def test_key_file_is_created_with_mode_0600_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "state" / "master.key"
    first = SecretBox.from_environment_or_file(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_bytes().strip(), validate=True)) == 32
    assert [p.name for p in key_file.parent.iterdir()] == ["master.key"]  # no temp left over
    second = SecretBox.from_environment_or_file(None, key_file)
    assert second.open(first.seal(SECRET, CONTEXT), CONTEXT) == SECRET


def test_key_file_mode_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        SecretBox.from_environment_or_file(None, tmp_path / "master.key")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600


def test_concurrent_creators_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    boxes: list[SecretBox] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        boxes.append(SecretBox.from_environment_or_file(None, key_file))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sealed = boxes[0].seal(SECRET, CONTEXT)
    assert all(box.open(sealed, CONTEXT) == SECRET for box in boxes)


def write_key_file(path: Path, content: bytes, mode: int) -> Path:
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_raw_32_byte_key_file(tmp_path: Path) -> None:
    key_file = write_key_file(tmp_path / "master.key", KEY, 0o600)
    box = SecretBox.from_environment_or_file(None, key_file)
    assert SecretBox(KEY).open(box.seal(SECRET, CONTEXT), CONTEXT) == SECRET


def test_base64_key_file(tmp_path: Path) -> None:
    key_file = write_key_file(tmp_path / "master.key", base64.b64encode(KEY) + b"\n", 0o400)
    box = SecretBox.from_environment_or_file(None, key_file)
    assert SecretBox(KEY).open(box.seal(SECRET, CONTEXT), CONTEXT) == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_key_file_readable_by_others_is_refused(mode: int, tmp_path: Path) -> None:
    key_file = write_key_file(tmp_path / "master.key", base64.b64encode(KEY), mode)
    with pytest.raises(ValueError, match="must be 0600") as caught:
        SecretBox.from_environment_or_file(None, key_file)
    assert base64.b64encode(KEY).decode() not in str(caught.value)


def test_environment_key_wins_over_a_bad_key_file(tmp_path: Path) -> None:
    key_file = write_key_file(tmp_path / "master.key", b"junk", 0o644)
    SecretBox.from_environment_or_file(base64.b64encode(KEY).decode(), key_file)


def test_garbage_key_file_is_refused(tmp_path: Path) -> None:
    key_file = write_key_file(tmp_path / "master.key", b"\xff" * 40, 0o600)
    with pytest.raises(ValueError, match="32 raw bytes or their base64"):
        SecretBox.from_environment_or_file(None, key_file)


def test_key_file_symlink_is_followed_and_its_target_checked(tmp_path: Path) -> None:
    # Kubernetes mounts secrets as symbolic links; what matters is the file they reach.
    target = write_key_file(tmp_path / "real.key", KEY, 0o600)
    link = tmp_path / "master.key"
    link.symlink_to(target)
    box = SecretBox.from_environment_or_file(None, link)
    assert SecretBox(KEY).open(box.seal(SECRET, CONTEXT), CONTEXT) == SECRET
    target.chmod(0o644)
    with pytest.raises(ValueError, match="must be 0600"):
        SecretBox.from_environment_or_file(None, link)

"""`iamd trail validate` on bad input: a clear message and a non-zero exit, never a
traceback (the directory checks themselves: tests/e2e/test_trail_files.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamd", "trail", "validate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_directory_without_digests_fails(tmp_path: Path) -> None:
    result = _validate(str(tmp_path))
    assert result.returncode == 1
    assert "No digest files found" in result.stdout
    assert "Traceback" not in result.stderr


def test_bad_times_are_usage_errors(tmp_path: Path) -> None:
    result = _validate(str(tmp_path), "--start-time", "yesterday")
    assert result.returncode == 2
    assert "is not an ISO-8601 time" in result.stderr
    result = _validate(
        str(tmp_path), "--start-time", "2026-12-02T00:00:00Z", "--end-time", "2026-12-01T00:00:00Z"
    )
    assert result.returncode == 2
    assert "--start-time must not be after --end-time" in result.stderr


def test_a_public_key_that_is_not_one_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    result = _validate(str(tmp_path), "--public-key", str(bad))
    assert result.returncode == 2
    assert "cannot read the public key" in result.stderr
    assert "Traceback" not in result.stderr

"""Issue 14 item 5: the audit trail delivered as CloudTrail log files, with signed
digests, and `iamd trail validate` naming every file added, removed or changed."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.support.servers import RunningServer, start_server

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
LOG_PATH = re.compile(
    rf"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/(\d{{4}})/(\d{{2}})/(\d{{2}})/"
    rf"{ACCOUNT}_CloudTrail_us-east-1_(\d{{4}})(\d{{2}})(\d{{2}})T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz"
)
# Small intervals: a batch per 0.3 s, a digest per second, events delivered 3 s old.
FAST = [
    "--audit-trail",
    "--trail-file-seconds",
    "0.3",
    "--trail-digest-seconds",
    "1",
    "--db-statement-timeout",
    "1",
]


def _serve(data: Path, trail: Path) -> RunningServer:
    return start_server(data, extra_args=[*FAST, "--trail-dir", str(trail)])


def _log_files(trail: Path) -> list[Path]:
    return sorted(trail.glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"))


def _records(trail: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in _log_files(trail):
        records += json.loads(gzip.decompress(path.read_bytes()))["Records"]
    return records


def _lookup_ids(server: RunningServer) -> set[str]:
    client = server.client("cloudtrail")
    ids: set[str] = set()
    for page in client.get_paginator("lookup_events").paginate():
        ids |= {e["EventId"] for e in page["Events"]}
    return ids


def _validate(trail: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamd", "trail", "validate", str(trail), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A trail directory written by two runs of a server; the event ids lookup-events
    listed before each stop."""
    base = tmp_path_factory.mktemp("trail-files")
    trail = base / "trail"
    server = _serve(base / "data", trail)
    try:
        iam = server.client("iam")
        for i in range(3):
            iam.create_user(UserName=f"files-user-{i}")
            iam.get_user(UserName=f"files-user-{i}")
        # Files appear while it runs, once the events are settle seconds old.
        deadline = time.monotonic() + 30
        while len(_records(trail)) < 6 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(_records(trail)) >= 6
        # Made just before the stop: only the shutdown's delivery can write it.
        iam.create_user(UserName="files-last-before-stop")
        time.sleep(1.5)  # the recorder's batch
        before = _lookup_ids(server)
    finally:
        assert server.stop() == 0
    server = _serve(base / "data", trail)
    try:
        server.client("iam").create_user(UserName="files-after-restart")
        time.sleep(1.5)
        after = _lookup_ids(server)
    finally:
        assert server.stop() == 0
    assert before <= after
    return trail, after


def test_files_have_cloudtrails_layout_and_hold_every_event_once(
    delivered: tuple[Path, set[str]],
) -> None:
    trail, looked_up = delivered
    files = _log_files(trail)
    for path in files:
        match = LOG_PATH.fullmatch(path.relative_to(trail).as_posix())
        assert match is not None, path
        # The date folders are the date in the name.
        assert match.group(1, 2, 3) == match.group(4, 5, 6)
    records = _records(trail)
    ids = [r["eventID"] for r in records]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    # Everything lookup-events listed, the events of the lookups themselves too.
    assert looked_up <= set(ids)
    names = {(r["eventName"], (r.get("requestParameters") or {}).get("userName")) for r in records}
    assert ("CreateUser", "files-last-before-stop") in names  # flushed at shutdown
    assert ("CreateUser", "files-after-restart") in names
    assert all(r["eventVersion"] == "1.11" and r["recipientAccountId"] == ACCOUNT for r in records)


def test_digests_are_chained_and_signed(delivered: tuple[Path, set[str]]) -> None:
    trail, _ = delivered
    digests = sorted(trail.glob(f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/*/*/*/*.json.gz"))
    assert len(digests) >= 2
    parsed = [json.loads(gzip.decompress(p.read_bytes())) for p in digests]
    parsed.sort(key=lambda d: d["digestEndTime"])
    assert parsed[0]["previousDigestSignature"] is None
    for earlier, later in itertools.pairwise(parsed):
        assert later["previousDigestS3Object"] == earlier["digestS3Object"]
        assert later["digestStartTime"] == earlier["digestEndTime"]
        assert later["digestSignatureAlgorithm"] == "SHA256withRSA"
    listed = {f["s3Object"] for d in parsed for f in d["logFiles"]}
    assert listed == {p.relative_to(trail).as_posix() for p in _log_files(trail)}
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["hashValue"]) for d in parsed for f in d["logFiles"])


def test_validate_passes_on_an_intact_directory(delivered: tuple[Path, set[str]]) -> None:
    trail, _ = delivered
    result = _validate(trail, "--verbose")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Results requested for " in result.stdout
    assert "INVALID" not in result.stdout
    logs = len(_log_files(trail))
    assert f"{logs}/{logs} log files valid" in result.stdout
    # Pinned to the trail's key, given on the command line.
    (key,) = (trail / "iamd-public-keys").glob("*.pem")
    assert _validate(trail, "--public-key", str(key)).returncode == 0


def _copy(trail: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(trail, copy)
    return copy


def test_one_changed_byte_of_a_log_file_is_named(
    delivered: tuple[Path, set[str]], tmp_path: Path
) -> None:
    copy = _copy(delivered[0], tmp_path)
    victim = _log_files(copy)[0]
    body = bytearray(gzip.decompress(victim.read_bytes()))
    body[body.index(b"CreateUser") if b"CreateUser" in body else 20] ^= 0x01
    victim.write_bytes(gzip.compress(bytes(body)))
    result = _validate(copy)
    assert result.returncode == 1
    key = victim.relative_to(copy).as_posix()
    assert f"Log file\t{key}\tINVALID: hash value doesn't match" in result.stdout


def test_a_changed_byte_of_the_compressed_file_is_named(
    delivered: tuple[Path, set[str]], tmp_path: Path
) -> None:
    copy = _copy(delivered[0], tmp_path)
    victim = _log_files(copy)[-1]
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    victim.write_bytes(bytes(raw))
    result = _validate(copy)
    assert result.returncode == 1
    assert f"Log file\t{victim.relative_to(copy).as_posix()}\tINVALID" in result.stdout


def test_a_removed_log_file_is_named(delivered: tuple[Path, set[str]], tmp_path: Path) -> None:
    copy = _copy(delivered[0], tmp_path)
    victim = _log_files(copy)[0]
    victim.unlink()
    result = _validate(copy)
    assert result.returncode == 1
    assert f"Log file\t{victim.relative_to(copy).as_posix()}\tINVALID: not found" in result.stdout


def test_an_added_log_file_is_named(delivered: tuple[Path, set[str]], tmp_path: Path) -> None:
    copy = _copy(delivered[0], tmp_path)
    model = _log_files(copy)[0]
    added = model.with_name(model.name[:-24] + "AAAAAAAAAAAAAAAA.json.gz")
    shutil.copy(model, added)
    result = _validate(copy)
    assert result.returncode == 1
    key = added.relative_to(copy).as_posix()
    assert f"Log file\t{key}\tINVALID: not listed in any digest file" in result.stdout


def test_a_tampered_digest_is_named(delivered: tuple[Path, set[str]], tmp_path: Path) -> None:
    copy = _copy(delivered[0], tmp_path)
    digests = sorted(copy.glob("AWSLogs/*/CloudTrail-Digest/*/*/*/*/*.json.gz"))
    victim = digests[0]
    digest = json.loads(gzip.decompress(victim.read_bytes()))
    digest["logFiles"] = digest["logFiles"][1:]  # hide a log file from validation
    victim.write_bytes(gzip.compress(json.dumps(digest).encode()))
    result = _validate(copy)
    assert result.returncode == 1
    key = victim.relative_to(copy).as_posix()
    assert f"Digest file\t{key}\tINVALID: signature verification failed" in result.stdout


def test_a_removed_digest_is_named(delivered: tuple[Path, set[str]], tmp_path: Path) -> None:
    copy = _copy(delivered[0], tmp_path)
    digests = sorted(copy.glob("AWSLogs/*/CloudTrail-Digest/*/*/*/*/*.json.gz"))
    victim = digests[0]
    victim.unlink()
    result = _validate(copy)
    assert result.returncode == 1
    assert (
        f"Digest file\t{victim.relative_to(copy).as_posix()}\tINVALID: not found" in result.stdout
    )


def test_an_unwritable_trail_dir_is_told_at_start_and_the_trail_still_works(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the trail directory should be")
    server = start_server(tmp_path / "data", extra_args=[*FAST, "--trail-dir", str(blocker)])
    try:
        server.client("iam").create_user(UserName="unwritable-trail")
        deadline = time.monotonic() + 10
        while not _lookup_ids(server) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _lookup_ids(server)
    finally:
        assert server.stop() == 0
    assert f"the trail directory {blocker} cannot be written" in server.log_text()
    assert "still recorded in the database" in server.log_text()


def test_after_kill_9_the_restart_delivers_what_was_not_delivered_once(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    server = _serve(tmp_path / "data", trail)
    server.client("iam").create_user(UserName="before-the-kill")
    time.sleep(1.5)  # the write's event is in its transaction; reads' in the next batch
    server.process.kill()
    server.process.wait()
    server = _serve(tmp_path / "data", trail)
    try:
        ids = _lookup_ids(server)
    finally:
        assert server.stop() == 0
    records = _records(trail)
    delivered = [r["eventID"] for r in records]
    assert len(delivered) == len(set(delivered))
    assert ids <= set(delivered)
    assert any(
        (r.get("requestParameters") or {}).get("userName") == "before-the-kill" for r in records
    )
    assert _validate(trail).returncode == 0


def test_two_postgresql_nodes_deliver_each_event_once(
    tmp_path: Path, fresh_postgres_url: str
) -> None:
    trail = tmp_path / "trail"
    env = {"IAMD_MASTER_KEY": "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="}
    args = [*FAST, "--trail-dir", str(trail)]
    node_a = start_server(
        tmp_path / "a", database_url=fresh_postgres_url, extra_env=env, extra_args=args
    )
    node_b = start_server(
        tmp_path / "b", database_url=fresh_postgres_url, extra_env=env, extra_args=args
    )
    try:
        for i in range(10):
            node = node_a if i % 2 else node_b
            node.client("iam").create_user(UserName=f"node-user-{i}")
        deadline = time.monotonic() + 30
        while len(_records(trail)) < 10 and time.monotonic() < deadline:
            time.sleep(0.3)
        ids = _lookup_ids(node_a)
        time.sleep(5)  # settle (3 s) and a round on both nodes
    finally:
        assert node_a.stop() == 0
        assert node_b.stop() == 0
    delivered = [r["eventID"] for r in _records(trail)]
    assert len(delivered) == len(set(delivered)), "an event was delivered by both nodes"
    assert ids <= set(delivered)
    # One signing key, made once, though both nodes started together.
    assert len(list((trail / "iamd-public-keys").glob("*.pem"))) == 1
    assert _validate(trail).returncode == 0


def test_a_committed_pending_file_is_placed_and_an_abandoned_one_deleted(
    delivered: tuple[Path, set[str]], tmp_path: Path
) -> None:
    """What a crash between the commit and the move leaves, or before the commit."""
    copy = _copy(delivered[0], tmp_path)
    committed = _log_files(copy)[0]
    pending = copy / ".iamd-pending"
    shutil.move(committed, pending / committed.name)
    abandoned = pending / committed.name.replace(committed.name[-24:-8], "B" * 16)
    abandoned.write_bytes(gzip.compress(b'{"Records":[]}'))
    old = time.time() - 3600
    os.utime(abandoned, (old, old))
    data = delivered[0].parent / "data"
    server = _serve(data, copy)
    assert server.stop() == 0
    assert committed.is_file()
    assert not abandoned.exists()
    assert _validate(copy).returncode == 0

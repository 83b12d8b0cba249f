"""CloudTrail's log file layout, names and digest signing string (docs/trail.md, "Log
files"), shared by the delivery (services/trail_files.py) and `iamd trail validate`.

Hashes are SHA-256 over a file's uncompressed JSON, and the signing string is
CloudTrail's: digestEndTime, "bucket/object", the digest's hex SHA-256 and the previous
digest's signature ("null" for the first), joined by newlines. A directory has no
bucket: `BUCKET` stands for the trail directory, and the object key is the path below it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

BUCKET = "iamd-trail-dir"
PENDING_DIR = ".iamd-pending"
PUBLIC_KEYS_DIR = "iamd-public-keys"
SIGNATURE_SUFFIX = ".sig"
ALGORITHM = "SHA256withRSA"

LOG_NAME = re.compile(
    r"(?P<account>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_"
    r"(?P<stamp>\d{8}T\d{4}Z)_(?P<unique>[A-Za-z0-9]{16})\.json\.gz"
)
DIGEST_NAME = re.compile(
    r"(?P<account>\d{12})_CloudTrail-Digest_(?P<region>[a-z0-9-]+)_iamd_"
    r"(?P=region)_(?P<stamp>\d{8}T\d{6}Z)\.json\.gz"
)


def iso(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def log_file_key(account: str, region: str, when: datetime, unique: str) -> str:
    """AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_STAMP_UNIQUE."""
    name = f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{unique}.json.gz"
    return f"AWSLogs/{account}/CloudTrail/{region}/{when:%Y/%m/%d}/{name}"


def digest_file_key(account: str, region: str, end: datetime) -> str:
    name = f"{account}_CloudTrail-Digest_{region}_iamd_{region}_{end:%Y%m%dT%H%M%SZ}.json.gz"
    return f"AWSLogs/{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/{name}"


def key_for_name(name: str) -> str | None:
    """The key a log or digest file of this name belongs at (None: not one of ours)."""
    log = LOG_NAME.fullmatch(name)
    if log is not None:
        when = datetime.strptime(log["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        return str(
            PurePosixPath(log_file_key(log["account"], log["region"], when, "x")).parent / name
        )
    digest = DIGEST_NAME.fullmatch(name)
    if digest is not None:
        end = digest_end(name)
        assert end is not None
        return str(
            PurePosixPath(digest_file_key(digest["account"], digest["region"], end)).parent / name
        )
    return None


def log_file_time(name: str) -> datetime | None:
    """When a log file was delivered, to the minute, from its name."""
    log = LOG_NAME.fullmatch(name)
    if log is None:
        return None
    return datetime.strptime(log["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


def digest_end(name: str) -> datetime | None:
    digest = DIGEST_NAME.fullmatch(name)
    if digest is None:
        return None
    return datetime.strptime(digest["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def string_to_sign(end_time: str, key: str, digest_sha256: str, previous: str | None) -> bytes:
    return f"{end_time}\n{BUCKET}/{key}\n{digest_sha256}\n{previous or 'null'}".encode()

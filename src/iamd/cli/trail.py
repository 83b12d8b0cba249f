"""`iamd trail validate DIR`: log file integrity validation, offline, as
`aws cloudtrail validate-logs` does it for a bucket (docs/trail.md, "Validation").

Every digest's signature is checked with the trail's public key, the chain of previous
digests is followed (hash and signature), every log file a digest lists must be there
with its hash, and every log file on disk must be listed by a digest, unless it was
delivered after the last one: its name says the minute it was delivered, which must be
after the last digest's end (CloudTrail cannot vouch for those either). A file named
within the last digest's minute is held to be a file that digest should have listed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from iamd.services import trail_layout as layout


@click.group()
def trail() -> None:
    """The audit trail's log files."""


@dataclass
class _Report:
    verbose: bool
    digests_valid: int = 0
    digests_invalid: int = 0
    logs_valid: int = 0
    logs_invalid: int = 0
    notes: list[str] = field(default_factory=list)

    def digest(self, key: str, problem: str | None) -> None:
        if problem is None:
            self.digests_valid += 1
            if self.verbose:
                click.echo(f"Digest file\t{key}\tvalid")
        else:
            self.digests_invalid += 1
            click.echo(f"Digest file\t{key}\tINVALID: {problem}")

    def log_file(self, key: str, problem: str | None) -> None:
        if problem is None:
            self.logs_valid += 1
            if self.verbose:
                click.echo(f"Log file\t{key}\tvalid")
        else:
            self.logs_invalid += 1
            click.echo(f"Log file\t{key}\tINVALID: {problem}")


def _when(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO-8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _load_keys(paths: tuple[Path, ...]) -> dict[str, rsa.RSAPublicKey]:
    keys: dict[str, rsa.RSAPublicKey] = {}
    for path in paths:
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"cannot read the public key {path}: {exc}") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise click.UsageError(f"{path} is not an RSA public key")
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        keys[hashlib.md5(der, usedforsecurity=False).hexdigest()] = key
    return keys


def _uncompressed(path: Path) -> bytes | None:
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error):
        return None


@trail.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--start-time", default=None, help="ISO-8601; default: the first digest.")
@click.option("--end-time", default=None, help="ISO-8601; default: now.")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The trail's public key (PEM), pinned; default: the keys in DIR/iamd-public-keys.",
)
@click.option("--verbose", is_flag=True, help="Name valid files too.")
def validate(
    directory: Path,
    start_time: str | None,
    end_time: str | None,
    public_keys: tuple[Path, ...],
    verbose: bool,
) -> None:
    """Validate the log files and digests under DIRECTORY (exit 1 on any failure)."""
    start = _when(start_time, datetime(1970, 1, 1, tzinfo=UTC))
    end = _when(end_time, datetime.now(UTC))
    if start > end:
        raise click.UsageError("--start-time must not be after --end-time")
    if not public_keys:
        public_keys = tuple(sorted((directory / layout.PUBLIC_KEYS_DIR).glob("*.pem")))
        click.echo(
            f"Using the public keys in {directory / layout.PUBLIC_KEYS_DIR} "
            "(pass --public-key to pin the trail's key)",
            err=True,
        )
    keys = _load_keys(public_keys)
    click.echo(f"Results requested for {start:%Y-%m-%dT%H:%M:%SZ} to {end:%Y-%m-%dT%H:%M:%SZ}")
    report = _Report(verbose)
    found = _validate(directory, keys, start, end, report)
    if found is None:
        click.echo("No digest files found")
    else:
        click.echo(f"Results found for {found[0]} to {found[1]}:")
    click.echo("")
    digests = report.digests_valid + report.digests_invalid
    logs = report.logs_valid + report.logs_invalid
    line = f"{report.digests_valid}/{digests} digest files valid"
    if report.digests_invalid:
        line += f", {report.digests_invalid}/{digests} digest files INVALID"
    click.echo(line)
    line = f"{report.logs_valid}/{logs} log files valid"
    if report.logs_invalid:
        line += f", {report.logs_invalid}/{logs} log files INVALID"
    click.echo(line)
    for note in report.notes:
        click.echo(note)
    if report.digests_invalid or report.logs_invalid or found is None:
        sys.exit(1)


def _validate(
    root: Path,
    keys: dict[str, rsa.RSAPublicKey],
    start: datetime,
    end: datetime,
    report: _Report,
) -> tuple[str, str] | None:
    listed: set[str] = set()
    last_end: dict[tuple[str, str], datetime] = {}
    times: list[str] = []
    chains: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
    for path in sorted(root.glob("AWSLogs/*/CloudTrail-Digest/*/*/*/*/*.json.gz")):
        key = path.relative_to(root).as_posix()
        when = layout.digest_end(path.name)
        if when is None:
            report.digest(key, "not a digest file name")
            continue
        account, region = path.relative_to(root).parts[1], path.relative_to(root).parts[3]
        chains.setdefault((account, region), []).append((when, key))
    for (account, region), links in chains.items():
        links.sort()
        last_end[(account, region)] = links[-1][0]
        seen_previous: set[str] = set()
        for when, key in links:
            body = _uncompressed(root / key)
            digest = _parse(body)
            if body is None or digest is None:
                report.digest(key, "invalid format")
                continue
            for f in digest.get("logFiles") or []:
                listed.add(str(f.get("s3Object")))
            if not start <= when <= end:
                continue
            times += [str(digest.get("digestStartTime")), str(digest.get("digestEndTime"))]
            problem = _digest_problem(root, key, body, digest, keys)
            previous = digest.get("previousDigestS3Object")
            if isinstance(previous, str) and previous not in seen_previous:
                seen_previous.add(previous)
                previous_problem = _previous_problem(root, previous, digest)
                if previous_problem is not None:
                    report.digest(previous, previous_problem)
            report.digest(key, problem)
            for f in digest.get("logFiles") or []:
                report.log_file(str(f.get("s3Object")), _log_problem(root, f))
    for path in sorted(root.glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz")):
        key = path.relative_to(root).as_posix()
        if key in listed:
            continue
        parts = path.relative_to(root).parts
        chain_end = last_end.get((parts[1], parts[3]))
        written = layout.log_file_time(path.name)
        if written is None:
            report.log_file(key, "not a log file name")
        elif chain_end is not None and written > chain_end:
            report.notes.append(f"Log file\t{key}\tnot yet covered by a digest")
        elif start <= written <= end:
            report.log_file(key, "not listed in any digest file")
    if not times:
        return None
    return min(times), max(times)


def _parse(body: bytes | None) -> dict[str, Any] | None:
    if body is None:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _signature(root: Path, key: str) -> str | None:
    try:
        return (root / (key + layout.SIGNATURE_SUFFIX)).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _digest_problem(
    root: Path, key: str, body: bytes, digest: dict[str, Any], keys: dict[str, rsa.RSAPublicKey]
) -> str | None:
    if digest.get("digestS3Object") != key:
        return "has been moved from its original location"
    signature = _signature(root, key)
    if signature is None:
        return "signature file not found"
    public = keys.get(str(digest.get("digestPublicKeyFingerprint")))
    if public is None:
        return "public key not found for fingerprint " + str(
            digest.get("digestPublicKeyFingerprint")
        )
    signed = layout.string_to_sign(
        str(digest.get("digestEndTime")),
        key,
        hashlib.sha256(body).hexdigest(),
        digest.get("previousDigestSignature"),
    )
    try:
        public.verify(bytes.fromhex(signature), signed, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return "signature verification failed"
    return None


def _previous_problem(root: Path, previous: str, digest: dict[str, Any]) -> str | None:
    body = _uncompressed(root / previous)
    if not (root / previous).is_file():
        return "not found"
    if body is None or hashlib.sha256(body).hexdigest() != digest.get("previousDigestHashValue"):
        return "hash value doesn't match"
    if _signature(root, previous) != digest.get("previousDigestSignature"):
        return "signature doesn't match the next digest's previousDigestSignature"
    return None


def _log_problem(root: Path, entry: dict[str, Any]) -> str | None:
    path = root / str(entry.get("s3Object"))
    if not path.is_file():
        return "not found"
    body = _uncompressed(path)
    if body is None or hashlib.sha256(body).hexdigest() != entry.get("hashValue"):
        return "hash value doesn't match"
    return None

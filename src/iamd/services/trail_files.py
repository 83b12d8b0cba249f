"""Log files as CloudTrail delivers them, with signed hourly digests (docs/trail.md).

A thread delivers the database trail to the trail directory every `file_seconds` and at
shutdown, and writes each (account, Region) chain's digest every `digest_seconds`.
Delivery is exactly-once across restarts and nodes: under the locked cursor row, a batch
is written to `.iamd-pending/`, its files are recorded and the cursor advanced in one
transaction, and only then are the files moved into place. A pending file that the
database knows is moved into place by the next round (or start); one it does not know
(the transaction never committed: its events are delivered again) is deleted once no
transaction can still be writing it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import Connection

from iamd.auth.secret_box import SecretBox
from iamd.services import trail_layout as layout
from iamd.store.database import Database
from iamd.store.sql import trail_delivery as store
from iamd.store.sql.trail import StoredEvent, events_after

log = logging.getLogger("iamd.trail")

_BATCH = 5_000
# A pending file the database does not know is deleted once this old: by then the
# transaction that wrote it (on this node or another sharing the directory) has ended,
# bounded by the statement and idle-in-transaction timeouts.
_ABANDONED_SECONDS = 600.0
_ALPHANUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def writable_trail_dir(directory: Path) -> str | None:
    """None when the directory can be written, else why not (for the start-up message)."""
    try:
        (directory / layout.PENDING_DIR).mkdir(parents=True, exist_ok=True)
        probe = directory / layout.PENDING_DIR / f"probe-{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"{exc.strerror or exc}"
    return None


class TrailFiles:
    """Delivers log files and digests from the database trail to a directory."""

    def __init__(
        self,
        database: Database,
        box: SecretBox,
        directory: Path,
        *,
        file_seconds: float,
        digest_seconds: float,
        settle_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = database
        self._box = box
        self._dir = directory
        self._pending = directory / layout.PENDING_DIR
        self._file_seconds = file_seconds
        self._digest_seconds = digest_seconds
        self._settle = settle_seconds
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.recover()
        self._ensure_key()
        self._thread = threading.Thread(target=self._run, name="iamd-trail-files", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread, then deliver everything recorded and digest it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        # This node's events are all in the database by now (the recorder closed first);
        # with SQLite there is no other node whose late events could still arrive.
        self._round(digest=True, settle=0.0 if self._db.is_sqlite else self._settle)

    def _run(self) -> None:
        next_digest = self._clock() + self._digest_seconds
        while not self._stop.wait(self._file_seconds):
            due = self._clock() >= next_digest
            self._round(digest=due, settle=self._settle)
            if due:
                next_digest = self._clock() + self._digest_seconds

    def _round(self, *, digest: bool, settle: float) -> None:
        try:
            with self._lock:
                self.recover()
                self.deliver(settle)
                if digest:
                    self.digest()
        except Exception:
            # The database trail keeps every event; the next round delivers them.
            log.exception("could not deliver the audit trail to %s", self._dir)

    # -- recovery and keys -------------------------------------------------------------

    def recover(self) -> None:
        """Move committed pending files into place, delete abandoned ones.

        Run at start and before every round: a file whose move failed after its commit
        is placed, and nodes sharing the directory may each do it.
        """
        if not self._pending.is_dir():
            return
        for pending in sorted(self._pending.iterdir()):
            if pending.name.endswith(layout.SIGNATURE_SUFFIX):
                continue
            key = layout.key_for_name(pending.name)
            if key is None:
                continue
            with self._db.read() as conn:
                known = self._committed(conn, pending.name, key)
            signature = pending.with_name(pending.name + layout.SIGNATURE_SUFFIX)
            if known:
                self._place(pending, key)
                if signature.exists():
                    self._place(signature, key + layout.SIGNATURE_SUFFIX)
            elif _age(pending, self._clock()) > _ABANDONED_SECONDS:
                pending.unlink(missing_ok=True)
                signature.unlink(missing_ok=True)

    @staticmethod
    def _committed(conn: Connection, name: str, key: str) -> bool:
        end = layout.digest_end(name)
        if end is None:
            return store.known_log_file(conn, key)
        match = layout.DIGEST_NAME.fullmatch(name)
        assert match is not None
        link = store.chain_link(conn, match["account"], match["region"])
        return link is not None and link.end_time >= int(end.timestamp() * 1_000_000)

    def _ensure_key(self) -> None:
        with self._db.write() as conn:
            store.claim_cursor(conn)  # nodes take turns: one key, made once
            if store.signing_key(conn) is None:
                private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                public_pem = (
                    private.public_key()
                    .public_bytes(
                        serialization.Encoding.PEM,
                        serialization.PublicFormat.SubjectPublicKeyInfo,
                    )
                    .decode()
                )
                fingerprint = _fingerprint(private.public_key())
                private_pem = private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode()
                sealed = self._box.seal(private_pem, f"trail-key:{fingerprint}".encode())
                store.save_signing_key(
                    conn, fingerprint, public_pem, sealed, _micros(self._clock())
                )
            keys = store.public_keys(conn)
        keys_dir = self._dir / layout.PUBLIC_KEYS_DIR
        keys_dir.mkdir(exist_ok=True)
        for fingerprint, pem in keys:
            path = keys_dir / f"{fingerprint}.pem"
            if not path.exists():
                _write_durably(path, pem.encode())

    def _private_key(self, conn: Connection) -> tuple[str, rsa.RSAPrivateKey]:
        found = store.signing_key(conn)
        if found is None:
            raise RuntimeError("the trail has no signing key")
        fingerprint, _pem, sealed = found
        pem = self._box.open(sealed, f"trail-key:{fingerprint}".encode())
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return fingerprint, key

    # -- log files ---------------------------------------------------------------------

    def deliver(self, settle: float) -> int:
        """Deliver the events at least `settle` seconds old; the number of files written.

        An event is inserted up to a batch interval after its time, or at the commit of
        the write that carried it: the cursor only passes times that late events can no
        longer take.
        """
        written = 0
        while True:
            placed: list[tuple[Path, str]] = []
            with self._db.write() as conn:
                cursor = store.claim_cursor(conn)
                events = events_after(conn, cursor, _micros(self._clock() - settle), _BATCH)
                if not events:
                    return written
                # As CloudTrail names them: by the time of delivery (which only grows), so
                # a file delivered after the last digest is told by its name.
                groups: dict[tuple[str, str], list[StoredEvent]] = {}
                for event in events:
                    groups.setdefault((event.account_id, event.region), []).append(event)
                now = self._clock()
                when = datetime.fromtimestamp(now, UTC)
                for (account, region), group in groups.items():
                    unique = "".join(secrets.choice(_ALPHANUM) for _ in range(16))
                    key = layout.log_file_key(account, region, when, unique)
                    body = ('{"Records":[' + ",".join(e.record for e in group) + "]}").encode()
                    pending = self._pending / Path(key).name
                    _write_durably(pending, gzip.compress(body, mtime=0))
                    placed.append((pending, key))
                    store.record_log_file(
                        conn,
                        key,
                        account,
                        region,
                        hashlib.sha256(body).hexdigest(),
                        group[0].event_time,
                        group[-1].event_time,
                        _micros(now),
                    )
                last = events[-1]
                store.advance_cursor(conn, last.event_time, last.event_id)
            for pending, key in placed:
                self._place(pending, key)
            written += len(placed)

    # -- digests -----------------------------------------------------------------------

    def digest(self) -> int:
        """Write each chain's digest of the files delivered since its last one."""
        written = 0
        placed: list[tuple[Path, str]] = []
        with self._db.write() as conn:
            store.claim_cursor(conn)
            fingerprint, private = self._private_key(conn)
            pending_files = store.undigested(conn)
            now = _micros(self._clock())
            for (account, region), files in pending_files.items():
                previous = store.chain_link(conn, account, region)
                # Digest names have whole seconds: a chain's next link is a second later.
                end_micros = now if previous is None else max(now, previous.end_time + 1_000_000)
                end_dt = datetime.fromtimestamp(end_micros // 1_000_000, UTC)
                start = previous.end_time if previous is not None else files[0].oldest_event_time
                key = layout.digest_file_key(account, region, end_dt)
                body = json.dumps(
                    {
                        "awsAccountId": account,
                        "digestStartTime": layout.iso(start),
                        "digestEndTime": layout.iso(end_micros),
                        "digestS3Bucket": layout.BUCKET,
                        "digestS3Object": key,
                        "digestPublicKeyFingerprint": fingerprint,
                        "digestSignatureAlgorithm": layout.ALGORITHM,
                        "newestEventTime": layout.iso(max(f.newest_event_time for f in files)),
                        "oldestEventTime": layout.iso(min(f.oldest_event_time for f in files)),
                        "previousDigestS3Bucket": layout.BUCKET if previous else None,
                        "previousDigestS3Object": previous.path if previous else None,
                        "previousDigestHashValue": previous.sha256 if previous else None,
                        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                        "previousDigestSignature": previous.signature if previous else None,
                        "logFiles": [
                            {
                                "s3Bucket": layout.BUCKET,
                                "s3Object": f.path,
                                "hashValue": f.sha256,
                                "hashAlgorithm": "SHA-256",
                                "newestEventTime": layout.iso(f.newest_event_time),
                                "oldestEventTime": layout.iso(f.oldest_event_time),
                            }
                            for f in files
                        ],
                    },
                    separators=(",", ":"),
                ).encode()
                sha = hashlib.sha256(body).hexdigest()
                signed = layout.string_to_sign(
                    layout.iso(end_micros), key, sha, previous.signature if previous else None
                )
                signature = private.sign(signed, padding.PKCS1v15(), hashes.SHA256()).hex()
                pending = self._pending / Path(key).name
                _write_durably(pending, gzip.compress(body, mtime=0))
                _write_durably(
                    pending.with_name(pending.name + layout.SIGNATURE_SUFFIX), signature.encode()
                )
                placed.append((pending, key))
                store.save_chain_link(
                    conn, account, region, store.ChainLink(end_micros, key, sha, signature)
                )
                store.mark_digested(conn, [f.path for f in files])
        for pending, key in placed:
            self._place(pending, key)
            self._place(
                pending.with_name(pending.name + layout.SIGNATURE_SUFFIX),
                key + layout.SIGNATURE_SUFFIX,
            )
            written += 1
        return written

    def _place(self, pending: Path, key: str) -> None:
        target = self._dir / key
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(pending, target)
        except FileNotFoundError:
            # Another node's recovery placed it first.
            if not target.exists():
                raise


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _fingerprint(public: rsa.RSAPublicKey) -> str:
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.md5(der, usedforsecurity=False).hexdigest()


def _micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())

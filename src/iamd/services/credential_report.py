"""The credential report: every user's credentials and their use, as AWS's 22-column CSV.

GenerateCredentialReport marks a generation as started in the database and builds the
report on a background thread with its own read transaction, so requests go on being
served; any node then serves the stored report. A report younger than four hours is
reused, as AWS does, and after four hours GetCredentialReport answers ReportExpired.
A generation left unfinished by a node that died is started again after a few minutes.
"""

from __future__ import annotations

import csv
import io
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Generic, Protocol, TypeVar

from iamd.clock import Clock
from iamd.errors import ReportExpired, ReportInProgress, ReportNotPresent, ServiceUnavailable
from iamd.model.arn import iam_arn
from iamd.services.last_used import LastUsedRecorder
from iamd.store.sql.credential_reports import (
    CredentialReportRepository,
    ReportCertificate,
    ReportKey,
    ReportUser,
    StoredReport,
)
from iamd.store.transactions import Transactions

log = logging.getLogger(__name__)


class _OfUser(Protocol):
    @property
    def user_id(self) -> str: ...


R = TypeVar("R", bound=_OfUser)

COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)
REPORT_LIFETIME = timedelta(hours=4)
# A generation still INPROGRESS after this long was abandoned by a node that stopped.
ABANDONED_AFTER = timedelta(minutes=5)
NOT_APPLICABLE = "N/A"
_NO_CERTIFICATE = ("false", NOT_APPLICABLE)
_NO_CERTIFICATES = _NO_CERTIFICATE * 2
_NO_KEY = ("false", NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE)
_NEVER_USED = (NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE)


@dataclass(frozen=True, slots=True)
class GenerationState:
    state: str  # STARTED | INPROGRESS | COMPLETE
    description: str | None


@dataclass(frozen=True, slots=True)
class Report:
    content: bytes
    generated_time: datetime


class CredentialReportService:
    def __init__(self, tx: Transactions, clock: Clock, last_used: LastUsedRecorder) -> None:
        self._tx = tx
        self._clock = clock
        self._last_used = last_used

    def generate(self) -> GenerationState:
        now = self._clock.now()
        with self._tx.read() as repos:
            current = _current_state(repos.credential_reports.get(), now)
        if current is not None:
            return current
        with self._report_writer() as reports:
            current = _current_state(reports.get(), now)  # another request may have won
            if current is not None:
                return current
            reports.start(now)
        threading.Thread(
            target=self._build_and_store, args=(now,), name="iamd-credential-report", daemon=True
        ).start()
        return GenerationState("STARTED", "No report exists. Starting a new report generation task")

    def get(self) -> Report:
        with self._tx.read() as repos:
            stored = repos.credential_reports.get(with_content=True)
        if stored is None:
            raise ReportNotPresent()
        if stored.state != "COMPLETE" or stored.content is None or stored.generated_time is None:
            raise ReportInProgress()
        if self._clock.now() - stored.generated_time >= REPORT_LIFETIME:
            raise ReportExpired()
        return Report(stored.content, stored.generated_time)

    def build(self) -> tuple[bytes, datetime]:
        """The report as of now (its rows read in one transaction) and when it was read."""
        try:
            self._last_used.flush()
        except ServiceUnavailable:
            pass  # logged once by the database; the report shows the uses written so far
        except Exception:
            # The report then shows the uses written so far; they are retried later.
            log.exception("could not write pending last-used dates before the report")
        with self._tx.read() as repos:
            generated_time = self._clock.now()
            account = repos.account.get()
            max_age = repos.credential_reports.max_password_age_days()
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(COLUMNS)
            root_created = account.create_date if account else generated_time
            writer.writerow(_root_row(self._tx.account_id, root_created))
            keys_by_user = _by_user(repos.credential_reports.keys())
            certificates_by_user = _by_user(repos.credential_reports.certificates())
            for user in repos.credential_reports.users():
                keys = keys_by_user.take(user.user_id)
                certificates = certificates_by_user.take(user.user_id)
                writer.writerow(_user_row(self._tx.account_id, user, keys, certificates, max_age))
        return buffer.getvalue().encode("utf-8"), generated_time

    def _build_and_store(self, started: datetime) -> None:
        try:
            with _short_gil_slices():
                content, generated_time = self.build()
            with self._report_writer() as reports:
                reports.complete(started, generated_time, content)
        except Exception:
            log.exception("credential report generation failed")
            try:
                with self._report_writer() as reports:
                    reports.abandon(started)
            except Exception:
                log.exception("could not clear the failed credential report generation")

    @contextmanager
    def _report_writer(self) -> Iterator[CredentialReportRepository]:
        """A write of the report row alone, serialised per account; no cache holds it."""
        with self._tx.write_uncached() as repos:
            repos.account.lock("credential_report")
            yield repos.credential_reports


# While a report is built, the builder thread holds the GIL for whole switch intervals
# (5 ms by default) and a request on the event loop waits for several of them: GetUser's
# p99 went from ~5 to ~33 ms during a 100,000-user report. 0.5 ms slices brought it to
# ~14 ms for 10-20% more build time (bench/credential_report.py, medians of 3).
_BUILD_SWITCH_INTERVAL = 0.0005


class _ShortGilSlices:
    """Shorter GIL slices while at least one report is being built, then the default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._builders = 0
        self._default = sys.getswitchinterval()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            self._builders += 1
            sys.setswitchinterval(_BUILD_SWITCH_INTERVAL)
        try:
            yield
        finally:
            with self._lock:
                self._builders -= 1
                if self._builders == 0:
                    sys.setswitchinterval(self._default)


_short_gil_slices = _ShortGilSlices()


def _current_state(stored: StoredReport | None, now: datetime) -> GenerationState | None:
    """What GenerateCredentialReport answers without starting anything, if it can."""
    if stored is None:
        return None
    if stored.state == "COMPLETE" and stored.generated_time is not None:
        if now - stored.generated_time < REPORT_LIFETIME:
            return GenerationState("COMPLETE", None)
        return None
    if now - stored.started < ABANDONED_AFTER:
        return GenerationState("INPROGRESS", None)
    return None


class _RowsByUser(Generic[R]):
    """Walks the key (or certificate) rows, in the users' order, alongside the user rows."""

    def __init__(self, groups: Iterator[tuple[str, list[R]]]) -> None:
        self._groups = groups
        self._current: tuple[str, list[R]] | None = next(groups, None)

    def take(self, user_id: str) -> list[R]:
        if self._current is not None and self._current[0] == user_id:
            keys = self._current[1]
            self._current = next(self._groups, None)
            return keys
        return []


def _by_user(rows: Iterator[R]) -> _RowsByUser[R]:
    return _RowsByUser(
        (user_id, list(group)) for user_id, group in groupby(rows, lambda r: r.user_id)
    )


def _timestamp(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _micros_timestamp(micros: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(micros // 1_000_000))


def _root_row(account_id: str, created: datetime) -> tuple[str, ...]:
    return (
        "<root_account>",
        f"arn:aws:iam::{account_id}:root",
        _timestamp(created),
        "not_supported",
        "no_information",
        "not_supported",
        "not_supported",
        "false",
        *_NO_KEY,
        *_NO_KEY,
        *_NO_CERTIFICATES,
    )


def _user_row(
    account_id: str,
    user: ReportUser,
    keys: list[ReportKey],
    certificates: list[ReportCertificate],
    max_password_age: int | None,
) -> tuple[str, ...]:
    changed = user.password_changed
    if changed is None:
        password = (NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE)
    else:
        last_used = user.password_last_used
        next_rotation = (
            _micros_timestamp(changed + max_password_age * 86_400_000_000)
            if max_password_age
            else NOT_APPLICABLE
        )
        password = (
            _micros_timestamp(last_used) if last_used is not None else "no_information",
            _micros_timestamp(changed),
            next_rotation,
        )
    return (
        user.name,
        iam_arn(account_id, "user", user.path, user.name),
        _micros_timestamp(user.create_date),
        "false" if changed is None else "true",
        *password,
        "true" if user.mfa_devices else "false",
        *_key_columns(keys[0] if keys else None),
        *_key_columns(keys[1] if len(keys) > 1 else None),
        *_certificate_columns(certificates[0] if certificates else None),
        *_certificate_columns(certificates[1] if len(certificates) > 1 else None),
    )


def _certificate_columns(certificate: ReportCertificate | None) -> tuple[str, ...]:
    if certificate is None:
        return _NO_CERTIFICATE
    active = "true" if certificate.status == "Active" else "false"
    return (active, _micros_timestamp(certificate.upload_date))


def _key_columns(key: ReportKey | None) -> tuple[str, ...]:
    if key is None:
        return _NO_KEY
    active = "true" if key.status == "Active" else "false"
    if key.last_used_date is None:
        return (active, _micros_timestamp(key.create_date), *_NEVER_USED)
    return (
        active,
        _micros_timestamp(key.create_date),
        _micros_timestamp(key.last_used_date),
        key.last_used_region or NOT_APPLICABLE,
        key.last_used_service or NOT_APPLICABLE,
    )

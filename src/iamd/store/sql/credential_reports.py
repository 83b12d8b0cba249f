"""The stored credential report, and the rows a report is built from.

The rows are read in a handful of set-wise queries ordered by user name (never one
query per user), so a report for 100,000 users costs seconds; the caller walks them
together, which keeps memory proportional to one user's keys.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Connection, delete, func, insert, select, type_coerce, update

from iamd.store.schema import (
    access_keys,
    credential_reports,
    login_profiles,
    mfa_devices,
    password_policy,
    signing_certificates,
    users,
)

# Rows arrive in batches rather than one fetch per row.
_STREAM = {"yield_per": 2000}


@dataclass(frozen=True, slots=True)
class StoredReport:
    state: str
    started: datetime
    generated_time: datetime | None
    content: bytes | None


class ReportUser(NamedTuple):
    """One user's row; timestamps are raw microseconds since the epoch (None: never)."""

    user_id: str
    name: str
    path: str
    create_date: int
    password_last_used: int | None
    password_changed: int | None  # None: no login profile
    mfa_devices: int | None  # None or 0: no MFA device enabled


class ReportKey(NamedTuple):
    user_id: str
    status: str
    create_date: int
    last_used_date: int | None
    last_used_region: str | None
    last_used_service: str | None


class ReportCertificate(NamedTuple):
    user_id: str
    status: str
    upload_date: int


def _micros(column: Any) -> Any:
    # The report formats timestamps itself: skipping the datetime conversion of every
    # timestamp column halves the time a report of 100,000 users takes.
    return type_coerce(column, BigInteger)


class CredentialReportRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id

    def get(self, *, with_content: bool = False) -> StoredReport | None:
        columns = [
            credential_reports.c.state,
            credential_reports.c.started,
            credential_reports.c.generated_time,
        ]
        if with_content:
            columns.append(credential_reports.c.content)
        row = self._conn.execute(
            select(*columns).where(credential_reports.c.account_id == self._account_id)
        ).first()
        if row is None:
            return None
        content = zlib.decompress(row.content) if with_content and row.content else None
        return StoredReport(row.state, row.started, row.generated_time, content)

    def start(self, when: datetime) -> None:
        """Mark a generation as started; the previous report, if any, is dropped."""
        self._conn.execute(
            delete(credential_reports).where(credential_reports.c.account_id == self._account_id)
        )
        self._conn.execute(
            insert(credential_reports).values(
                account_id=self._account_id,
                state="INPROGRESS",
                started=when,
                generated_time=None,
                content=None,
            )
        )

    def complete(self, started: datetime, generated_time: datetime, content: bytes) -> bool:
        """Store the report unless another generation replaced this one meanwhile."""
        result = self._conn.execute(
            update(credential_reports)
            .where(
                credential_reports.c.account_id == self._account_id,
                credential_reports.c.started == started,
                credential_reports.c.state == "INPROGRESS",
            )
            .values(
                state="COMPLETE",
                generated_time=generated_time,
                content=zlib.compress(content, 6),
            )
        )
        return result.rowcount == 1

    def abandon(self, started: datetime) -> None:
        self._conn.execute(
            delete(credential_reports).where(
                credential_reports.c.account_id == self._account_id,
                credential_reports.c.started == started,
            )
        )

    # -- the rows a report is built from ------------------------------------------------

    def max_password_age_days(self) -> int | None:
        value = self._conn.execute(
            select(password_policy.c.max_password_age).where(
                password_policy.c.account_id == self._account_id
            )
        ).scalar()
        return int(value) if value else None

    def users(self) -> Iterator[ReportUser]:
        mfa_users = (
            select(mfa_devices.c.user_id, func.count().label("devices"))
            .where(
                mfa_devices.c.user_id.is_not(None),
                mfa_devices.c.account_id == self._account_id,
            )
            .group_by(mfa_devices.c.user_id)
            .subquery()
        )
        query = (
            select(
                users.c.user_id,
                users.c.name,
                users.c.path,
                _micros(users.c.create_date),
                _micros(users.c.password_last_used),
                _micros(login_profiles.c.password_changed),
                mfa_users.c.devices,
            )
            .outerjoin(login_profiles, login_profiles.c.user_id == users.c.user_id)
            .outerjoin(mfa_users, mfa_users.c.user_id == users.c.user_id)
            .where(users.c.account_id == self._account_id)
            .order_by(users.c.name_lower)
        )
        for row in self._conn.execute(query, execution_options=_STREAM):
            yield ReportUser._make(row)

    def keys(self) -> Iterator[ReportKey]:
        """Every access key, in the users' order, each user's oldest key first."""
        query = (
            select(
                access_keys.c.user_id,
                access_keys.c.status,
                _micros(access_keys.c.create_date),
                _micros(access_keys.c.last_used_date),
                access_keys.c.last_used_region,
                access_keys.c.last_used_service,
            )
            .join(users, users.c.user_id == access_keys.c.user_id)
            .where(access_keys.c.account_id == self._account_id)
            .order_by(users.c.name_lower, access_keys.c.create_date, access_keys.c.access_key_id)
        )
        for row in self._conn.execute(query, execution_options=_STREAM):
            yield ReportKey._make(row)

    def certificates(self) -> Iterator[ReportCertificate]:
        """Every signing certificate, in the users' order, each user's oldest first."""
        t = signing_certificates
        query = (
            select(t.c.user_id, t.c.status, _micros(t.c.upload_date))
            .join(users, users.c.user_id == t.c.user_id)
            .where(t.c.account_id == self._account_id)
            .order_by(users.c.name_lower, t.c.upload_date, t.c.certificate_id)
        )
        for row in self._conn.execute(query, execution_options=_STREAM):
            yield ReportCertificate._make(row)

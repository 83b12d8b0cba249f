"""The credential report as a table (`/console/credential-report`): each user's
password, MFA and access keys, with active keys older than 90 days and active keys never
used marked, and a chart of the active keys' ages.

The report is GenerateCredentialReport and GetCredentialReport, run as the signed-in
user; its CSV is AWS's, read here with the csv module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from iamd.errors import AwsError, ReportExpired, ReportInProgress, ReportNotPresent
from iamd.http.console import pages
from iamd.http.console.as_user import AsUser, bar
from iamd.http.console.credentials_page import when
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession

REPORT_PAGE = f"{pages.PREFIX}/credential-report"
#: The guide's rule: keys not rotated or not used in 90 days should be looked at.
OLD_DAYS = 90
_AGE_BUCKETS = ((30, "under 30 days"), (90, "30 to 89 days"), (180, "90 to 179 days"))


class ReportPage:
    def __init__(self, pipeline: AwsPipeline) -> None:
        self._pipeline = pipeline

    def __call__(
        self,
        request: HttpRequest,
        session: ConsoleSession,
        credential: ResolvedCredential,
        fields: Mapping[str, str] | None,
        now: datetime,
    ) -> HttpResponse:
        call = AsUser(self._pipeline, request, credential, session)
        problem = done = denied = None
        status = 200
        if fields is not None:
            try:
                started = call("GenerateCredentialReport")
                done = started.get("Description") or "The report is being generated."
            except AwsError as error:
                problem, status = pages.refusal(error)
        report: dict[str, Any] | None = None
        waiting = None
        try:
            found = call("GetCredentialReport")
        except (ReportNotPresent, ReportExpired):
            waiting = "There is no current report: generate one."
        except ReportInProgress:
            waiting = "The report is being generated: reload this page in a moment."
        except AwsError as error:
            denied = error.message or error.code
        else:
            report = _table(bytes(found["Content"]).decode("utf-8"), now)
            report["generated"] = when(found.get("GeneratedTime"))
        return pages.render(
            status,
            "credential_report.html",
            title="Credential report",
            **bar(session),
            problem=problem,
            done=done,
            denied=denied,
            waiting=waiting,
            report=report,
            old_days=OLD_DAYS,
        )


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # N/A, not_supported, no_information


def _table(content: str, now: datetime) -> dict[str, Any]:
    rows = []
    ages: list[int] = []
    for line in csv.DictReader(io.StringIO(content)):
        keys = []
        for n in (1, 2):
            active = line.get(f"access_key_{n}_active") == "true"
            rotated = _parse(line.get(f"access_key_{n}_last_rotated", ""))
            used = _parse(line.get(f"access_key_{n}_last_used_date", ""))
            if not active and rotated is None:
                continue
            age = (now - rotated).days if rotated is not None else None
            if active and age is not None:
                ages.append(age)
            keys.append(
                {
                    "n": n,
                    "active": active,
                    "age": age,
                    "last_used": when(used) if used else "never",
                    "old": active and age is not None and age >= OLD_DAYS,
                    "unused": active and used is None,
                    "stale": active and used is not None and (now - used).days >= OLD_DAYS,
                }
            )
        rows.append(
            {
                "user": line.get("user", ""),
                "password": line.get("password_enabled", ""),
                "password_last_used": line.get("password_last_used", ""),
                "mfa": line.get("mfa_active", ""),
                "access_keys": keys,
            }
        )
    return {"rows": rows, "chart": _chart(ages), "active_keys": len(ages)}


def _chart(ages: list[int]) -> list[dict[str, Any]]:
    bars = []
    low = 0
    for high, label in _AGE_BUCKETS:
        bars.append({"label": label, "count": sum(low <= a < high for a in ages)})
        low = high
    bars.append({"label": f"{low} days or more", "count": sum(a >= low for a in ages)})
    for each in bars:
        each["max"] = max(1, len(ages))
    return bars

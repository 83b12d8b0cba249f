"""`iamd audit`: the guide's credential hygiene chores as one command.

Exit codes: 0 findings within --max-findings, 1 more findings than that, 2 usage or
other errors (endpoint unreachable, report unavailable...).
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import timedelta

import click

from iamd.tools.audit.checks import (
    CHECKS,
    AuditFinding,
    policy_findings,
    report_findings,
    unused_keys,
    unused_service_findings,
)
from iamd.tools.audit.collect import (
    AuditError,
    advised_entities,
    credential_report,
    customer_policies,
    deactivate,
    with_key_ids,
)
from iamd.tools.clients import Endpoint

_COLUMNS = {
    "check": "CHECK",
    "subject": "SUBJECT",
    "access_key_id": "ACCESS KEY",
    "detail": "DETAIL",
}


class _AuditFailed(click.ClickException):
    exit_code = 2


class _TooManyFindings(click.ClickException):
    exit_code = 1


@click.command()
@click.option("--profile", default=None, envvar="AWS_PROFILE", help="AWS profile to use.")
@click.option("--endpoint-url", default=None, help="IAM endpoint; default: the profile's.")
@click.option("--region", default=None)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    help="Age and disuse limit for access keys and granted services.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--max-findings",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Exit 1 when there are more findings than this.",
)
@click.option(
    "--deactivate-unused",
    type=click.IntRange(min=1),
    default=None,
    metavar="DAYS",
    help="Set Inactive the active access keys not used for DAYS days (or never, and older).",
)
@click.option(
    "--dry-run", is_flag=True, help="With --deactivate-unused: only say what it would do."
)
def audit(
    profile: str | None,
    endpoint_url: str | None,
    region: str | None,
    days: int,
    output_format: str,
    max_findings: int,
    deactivate_unused: int | None,
    dry_run: bool,
) -> None:
    """Find stale, unused and forgotten credentials and over-broad key policies.

    Checks: access keys older than --days, keys unused for --days (or never used and
    older), users with a password but no MFA, inactive keys left lying around, users
    with two active keys, customer managed or inline policies that grant key or
    SSH-key management on every user, and services users and roles may use but have
    not used for --days (the IAM access advisor).
    """
    iam = Endpoint(profile, endpoint_url, region).client("iam")
    try:
        # Ages are measured at the report's generation time, the server's clock.
        rows, now = credential_report(iam)
        # A report younger than 4 hours is reused (as AWS does): say how fresh this is.
        click.echo(f"credential report generated {now.isoformat(timespec='seconds')}", err=True)
        findings = list(report_findings(rows, now, timedelta(days=days)))
        findings += policy_findings(customer_policies(iam))
        findings += unused_service_findings(advised_entities(iam), timedelta(days=days))
        findings = with_key_ids(iam, findings)
        _print(findings, output_format)
        if deactivate_unused is not None:
            limit = timedelta(days=deactivate_unused)
            _deactivate(iam, with_key_ids(iam, list(unused_keys(rows, now, limit))), dry_run)
    except AuditError as error:
        raise _AuditFailed(str(error)) from None
    if len(findings) > max_findings:
        raise _TooManyFindings(
            f"{len(findings)} findings (more than --max-findings {max_findings})"
        )


def _deactivate(iam: object, findings: list[AuditFinding], dry_run: bool) -> None:
    for finding in findings:
        verb = "would deactivate" if dry_run else "deactivated"
        if not dry_run:
            deactivate(iam, finding)
        click.echo(
            f"{verb} {finding.access_key_id} of {finding.subject} ({finding.detail})", err=True
        )


def _print(findings: list[AuditFinding], output_format: str) -> None:
    records = [
        {
            "check": finding.check,
            "subject": finding.subject,
            "access_key_id": finding.access_key_id or "",
            "detail": finding.detail,
        }
        for finding in findings
    ]
    if output_format == "json":
        click.echo(json.dumps(records, indent=2))
    elif output_format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    elif not records:
        click.echo("No findings.")
    else:
        _table(records)


def _table(records: list[dict[str, str]]) -> None:
    headers = _COLUMNS
    widths = {
        column: max(len(title), *(len(record[column]) for record in records))
        for column, title in headers.items()
    }
    click.echo("  ".join(title.ljust(widths[column]) for column, title in headers.items()).rstrip())
    for record in records:
        click.echo("  ".join(record[column].ljust(widths[column]) for column in headers).rstrip())
    counts: dict[str, int] = {}
    for record in records:
        counts[record["check"]] = counts.get(record["check"], 0) + 1
    click.echo("")
    for check, count in counts.items():
        click.echo(f"{count:>4}  {check}: {CHECKS[check]}")

"""`iamd keys rotate`: rotate the access key of a profile, safely, in one command.

Exit codes: 0 done (or nothing to do), 1 a step failed (what was undone is printed),
2 usage error, 3 an earlier rotation of the profile is still in its grace period.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import click

from iamd.tools.rotation.credentials_file import CredentialsFileError, default_credentials_path
from iamd.tools.rotation.rotate import KeyRotation, RotationError, RotationOptions, RotationPending

_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


class _Duration(click.ParamType[timedelta]):
    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = _DURATION.match(str(value).strip())
        if match is None:
            self.fail(f"{value!r} is not a duration such as 0, 90m, 24h or 7d", param, ctx)
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class _PendingExit(click.ClickException):
    exit_code = 3


@click.group()
def keys() -> None:
    """Manage access keys."""


@keys.command()
@click.option("--profile", default="default", show_default=True, envvar="AWS_PROFILE")
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Default: $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.",
)
@click.option("--endpoint-url", default=None, help="IAM/STS endpoint; default: the profile's.")
@click.option("--region", default=None, help="Signing region; default: the profile's.")
@click.option(
    "--replace",
    metavar="KEY_ID",
    default=None,
    help="When the user already has two keys: the other key, deleted first to make room.",
)
@click.option(
    "--grace",
    type=_Duration(),
    default="7d",
    show_default=True,
    help="How long the old key stays Inactive before a later run deletes it (0: at once).",
)
@click.option(
    "--verify-command",
    default=None,
    help="A shell command that must succeed with the new key (run with AWS_PROFILE set).",
)
@click.option(
    "--verify-timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for the new key to work.",
)
@click.option(
    "--serial-number",
    default=None,
    help="MFA device ARN: manage keys with an MFA session (for policies that require MFA).",
)
@click.option("--token-code", default=None, help="The MFA device's current code.")
@click.option("--finish", is_flag=True, help="Delete the old key of a pending rotation now.")
@click.option(
    "--rollback",
    is_flag=True,
    help="Undo a pending rotation: reactivate and restore the old key, delete the new one.",
)
@click.option("--dry-run", is_flag=True, help="Print the steps without changing anything.")
def rotate(
    profile: str,
    credentials_file: Path | None,
    endpoint_url: str | None,
    region: str | None,
    replace: str | None,
    grace: timedelta,
    verify_command: str | None,
    verify_timeout: float,
    serial_number: str | None,
    token_code: str | None,
    finish: bool,
    rollback: bool,
    dry_run: bool,
) -> None:
    """Rotate the access key of PROFILE, as the guide says, without losing the working key.

    Creates a new key, writes it into the credentials file (other profiles untouched),
    verifies it works, sets the old key Inactive, and deletes it after --grace (the next
    run after that finishes it) or with --finish. Refuses when the user already has two
    keys unless --replace names the other one.
    """
    if finish and rollback:
        raise click.UsageError("--finish and --rollback exclude each other")
    if (serial_number is None) != (token_code is None):
        raise click.UsageError("--serial-number and --token-code go together")
    options = RotationOptions(
        profile=profile,
        credentials_path=credentials_file or default_credentials_path(),
        endpoint_url=endpoint_url,
        region=region,
        replace=replace,
        grace=grace,
        dry_run=dry_run,
        verify_command=verify_command,
        verify_timeout=verify_timeout,
        mfa_serial=serial_number,
        token_code=token_code,
    )
    rotation = KeyRotation(options, say=click.echo)
    try:
        if finish:
            rotation.finish()
        elif rollback:
            rotation.rollback()
        else:
            rotation.rotate()
    except RotationPending as error:
        raise _PendingExit(str(error)) from None
    except (RotationError, CredentialsFileError) as error:
        raise click.ClickException(str(error)) from None

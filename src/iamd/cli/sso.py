"""`iamd sso login` and `iamd sso logout`: the AWS CLI v2's login for boto3 and CLI v1
users (tools/sso_login.py). Exit codes: 0 done, 1 the login failed, 2 usage error."""

from __future__ import annotations

import webbrowser

import botocore.session
import click

from iamd.tools.sso_login import SsoLogin, SsoLoginError, sso_config, sso_logout


@click.group()
def sso() -> None:
    """Sign in to IAM Identity Center (iamd's or AWS's) for boto3 and the AWS CLI v1."""


@sso.command()
@click.option(
    "--profile",
    envvar="AWS_PROFILE",
    default="default",
    show_default=True,
    help="The profile with sso_session (or sso_start_url and sso_region).",
)
@click.option(
    "--use-device-code",
    is_flag=True,
    help="The device flow (a code to confirm on any device) instead of a browser redirect.",
)
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening a browser.")
def login(profile: str, use_device_code: bool, no_browser: bool) -> None:
    """Sign in and write the token cache that boto3's SSO credential provider reads."""
    session = botocore.session.Session(profile=profile)
    try:
        config = sso_config(session, profile)
        SsoLogin(session, config, click.echo, None if no_browser else webbrowser.open).run(
            use_device_code=use_device_code
        )
    except SsoLoginError as error:
        raise click.ClickException(str(error)) from None


@sso.command()
def logout() -> None:
    """Revoke and delete every cached SSO token (as `aws sso logout`)."""
    removed = sso_logout(botocore.session.Session())
    click.echo(f"Removed {removed} cached SSO token{'s' if removed != 1 else ''}.")

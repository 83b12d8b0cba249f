"""`iamd identity-center set-password`: an administrator gives an identity store user a
one-time password (printed once), to be replaced at the user's first sign-in.

AWS sets these passwords in its console; iamd has no console for it yet, so the
operator runs this on the server's machine, against its database.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from iamd.auth.passwords import PasswordHashing
from iamd.clock import SystemClock
from iamd.errors import AwsError
from iamd.server.settings import DEFAULT_DATA_DIR
from iamd.services.sso_portal import SsoPortalService
from iamd.services.sts import StsService
from iamd.services.throttle import Backoff, FailureLedger
from iamd.store.database import Database
from iamd.store.transactions import Transactions


@click.group("identity-center")
def identity_center() -> None:
    """IAM Identity Center administration that AWS does in its console."""


@identity_center.command("set-password")
@click.option("--identity-store-id", required=True, help="The store (d-0123456789).")
@click.option("--user-name", required=True, help="The identity store user's name.")
@click.option(
    "--data-dir",
    default=str(DEFAULT_DATA_DIR),
    show_default=True,
    envvar="IAMD_DATA_DIR",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option("--database-url", default=None, envvar="IAMD_DATABASE_URL")
def set_password(
    identity_store_id: str, user_name: str, data_dir: Path, database_url: str | None
) -> None:
    """Set a one-time password and print it (the user must change it at sign-in)."""
    url = database_url or f"sqlite:///{(data_dir / 'iamd.sqlite3').resolve()}"
    database = Database(url)
    try:
        portal = SsoPortalService(
            # The store is found by its id, in whatever account owns it.
            Transactions(database, "000000000000"),
            SystemClock(),
            PasswordHashing(),
            FailureLedger(Backoff()),
            sts_of=_no_sessions,
        )
        password = secrets.token_urlsafe(12)
        try:
            portal.set_password(identity_store_id, user_name, password, must_change=True)
        except AwsError as error:
            raise click.ClickException(error.message) from None
    finally:
        database.dispose()
    click.echo(password)


def _no_sessions(_account: str) -> StsService:
    raise RuntimeError("no sessions are issued here")

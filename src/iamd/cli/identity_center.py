"""`iamd identity-center ...`: what AWS does in its console for IAM Identity Center.
`set-password` gives an identity store user a one-time password (printed once), to be
replaced at the user's first sign-in; `set-mfa` sets the instance's MFA (every sign-in
or never, and what a user without a device meets); `list-mfa-devices` and
`delete-mfa-device` show and remove a user's authenticator apps (identitystore has no
MFA API). The operator runs these on the server's machine, against its database.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from iamd.auth.passwords import PasswordHashing
from iamd.clock import SystemClock
from iamd.errors import AwsError
from iamd.server.settings import DEFAULT_DATA_DIR
from iamd.services.sso_mfa import MODES, NO_DEVICE, SsoMfaAdmin
from iamd.services.sso_portal import SsoPortalService
from iamd.services.sts import StsService
from iamd.services.throttle import Backoff, FailureLedger
from iamd.store.database import Database
from iamd.store.transactions import Transactions


@click.group("identity-center")
def identity_center() -> None:
    """IAM Identity Center administration that AWS does in its console."""


_data_dir = click.option(
    "--data-dir",
    default=str(DEFAULT_DATA_DIR),
    show_default=True,
    envvar="IAMD_DATA_DIR",
    type=click.Path(file_okay=False, path_type=Path),
)
_database_url = click.option("--database-url", default=None, envvar="IAMD_DATABASE_URL")
_store = click.option("--identity-store-id", required=True, help="The store (d-0123456789).")
_user = click.option("--user-name", required=True, help="The identity store user's name.")


@contextmanager
def _database(data_dir: Path, database_url: str | None) -> Iterator[Database]:
    """The server's database; its errors and the service's as one line, no traceback."""
    path = (data_dir / "iamd.sqlite3").resolve()
    if database_url is None and not path.is_file():
        raise click.ClickException(
            f"No iamd database at {path}: pass the server's --data-dir or --database-url."
        )
    database = Database(database_url or f"sqlite:///{path}")
    try:
        yield database
    except AwsError as error:
        raise click.ClickException(error.message) from None
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"Cannot use the database ({type(error).__name__}); is it iamd's, and up to date?"
        ) from None
    finally:
        database.dispose()


def _mfa_admin(database: Database) -> SsoMfaAdmin:
    # Instances and stores are found by their ids, in whatever account owns them.
    return SsoMfaAdmin(Transactions(database, "000000000000"), SystemClock())


@identity_center.command("set-password")
@_store
@_user
@_data_dir
@_database_url
def set_password(
    identity_store_id: str, user_name: str, data_dir: Path, database_url: str | None
) -> None:
    """Set a one-time password and print it (the user must change it at sign-in)."""
    with _database(data_dir, database_url) as database:
        portal = SsoPortalService(
            # The store is found by its id, in whatever account owns it.
            Transactions(database, "000000000000"),
            SystemClock(),
            PasswordHashing(),
            FailureLedger(Backoff()),
            sts_of=_no_sessions,
        )
        password = secrets.token_urlsafe(12)
        portal.set_password(identity_store_id, user_name, password, must_change=True)
    click.echo(password)


@identity_center.command("set-mfa")
@click.option("--instance-arn", required=True, help="The instance (arn:aws:sso:::instance/...).")
@click.option(
    "--mode",
    required=True,
    type=click.Choice(MODES),
    help="always: a code at every sign-in; never: no MFA.",
)
@click.option(
    "--if-no-device",
    "no_device",
    default="register",
    show_default=True,
    type=click.Choice(NO_DEVICE),
    help="A user without a device registers one at sign-in, or cannot sign in.",
)
@_data_dir
@_database_url
def set_mfa(
    instance_arn: str, mode: str, no_device: str, data_dir: Path, database_url: str | None
) -> None:
    """Set the instance's MFA for its users' sign-ins."""
    with _database(data_dir, database_url) as database:
        settings = _mfa_admin(database).set_settings(instance_arn, mode, no_device)
    click.echo(f"MFA {settings.mode}; a user without a device: {settings.no_device}")


@identity_center.command("list-mfa-devices")
@_store
@_user
@_data_dir
@_database_url
def list_mfa_devices(
    identity_store_id: str, user_name: str, data_dir: Path, database_url: str | None
) -> None:
    """List the user's MFA devices (id, registration time, name), one a line."""
    with _database(data_dir, database_url) as database:
        devices = _mfa_admin(database).devices(identity_store_id, user_name)
    for device in devices:
        click.echo(f"{device.device_id}\t{device.registered.isoformat()}\t{device.name}")


@identity_center.command("delete-mfa-device")
@_store
@_user
@click.option("--device-id", required=True, help="An id list-mfa-devices shows.")
@_data_dir
@_database_url
def delete_mfa_device(
    identity_store_id: str, user_name: str, device_id: str, data_dir: Path, database_url: str | None
) -> None:
    """Delete one of the user's MFA devices (they register a new one at sign-in)."""
    with _database(data_dir, database_url) as database:
        _mfa_admin(database).delete_device(identity_store_id, user_name, device_id)


def _no_sessions(_account: str) -> StsService:
    raise RuntimeError("no sessions are issued here")

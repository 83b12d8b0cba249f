"""`iamd identity-center ...`: what AWS does in its console for IAM Identity Center, run
by the operator on the server's machine against its database. `set-password` gives an
identity store user a one-time password (printed once), to be replaced at the user's
first sign-in; `set-mfa` sets the instance's MFA (every sign-in or never, and what a user
without a device meets); `list-mfa-devices` and `delete-mfa-device` show and remove a
user's authenticator apps (identitystore has no MFA API); `scim-token create|list|delete`
manages the instance's SCIM access tokens (a token is printed once, when created);
`set-identity-source` makes the instance's users sign in at an external SAML 2.0
identity provider, or back at the built-in directory.
"""

from __future__ import annotations

import json
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
from iamd.services.external_idp import SP_METADATA_PATH, ExternalIdpService
from iamd.services.scim_tokens import ScimTokenService
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
_instance_arn = click.option(
    "--instance-arn", required=True, help="The instance (arn:aws:sso:::instance/ssoins-...)."
)


@contextmanager
def _database(data_dir: Path, database_url: str | None) -> Iterator[Database]:
    """The server's database; its errors and the service's as one line, no traceback
    (and no empty database made where there was none)."""
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
@_instance_arn
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


def _scim_tokens(database: Database) -> ScimTokenService:
    # The instance is found by its ARN, in whatever account owns it.
    return ScimTokenService(Transactions(database, "000000000000"), SystemClock())


@identity_center.group("scim-token")
def scim_token() -> None:
    """The SCIM access tokens an identity provider provisions the instance with."""


@scim_token.command("create")
@_instance_arn
@_data_dir
@_database_url
def scim_token_create(instance_arn: str, data_dir: Path, database_url: str | None) -> None:
    """Create a token (valid one year; at most two per instance) and print it once."""
    with _database(data_dir, database_url) as database:
        issued = _scim_tokens(database).create(instance_arn)
        tenant = _tenant_of(database, instance_arn)
    click.echo(
        json.dumps(
            {
                "TokenId": issued.token.token_id,
                "AccessToken": issued.secret,
                "CreatedAt": issued.token.created.isoformat(),
                "ExpiresAt": issued.token.expires.isoformat(),
                "ScimEndpointPath": f"/{tenant}/scim/v2/",
            },
            indent=2,
        )
    )


@scim_token.command("list")
@_instance_arn
@_data_dir
@_database_url
def scim_token_list(instance_arn: str, data_dir: Path, database_url: str | None) -> None:
    """List the instance's tokens (their ids and dates, never the tokens)."""
    with _database(data_dir, database_url) as database:
        tokens = _scim_tokens(database).tokens(instance_arn)
    listing = [
        {
            "TokenId": token.token_id,
            "CreatedAt": token.created.isoformat(),
            "ExpiresAt": token.expires.isoformat(),
        }
        for token in tokens
    ]
    click.echo(json.dumps({"Tokens": listing}, indent=2))


@scim_token.command("delete")
@_instance_arn
@click.option("--token-id", required=True, help="The token's id (from create or list).")
@_data_dir
@_database_url
def scim_token_delete(
    instance_arn: str, token_id: str, data_dir: Path, database_url: str | None
) -> None:
    """Delete a token: it stops working at once."""
    with _database(data_dir, database_url) as database:
        _scim_tokens(database).delete(instance_arn, token_id)


def _tenant_of(database: Database, instance_arn: str) -> str:
    with Transactions(database, "000000000000").read() as repos:
        instance = repos.identity_center.instance(instance_arn)
    return instance.identity_store_id if instance is not None else ""


@identity_center.command("set-identity-source")
@_instance_arn
@click.option(
    "--saml-metadata",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The external identity provider's SAML 2.0 metadata (an XML file).",
)
@click.option("--directory", is_flag=True, help="Back to the built-in directory (passwords).")
@_data_dir
@_database_url
def set_identity_source(
    instance_arn: str,
    saml_metadata: Path | None,
    directory: bool,
    data_dir: Path,
    database_url: str | None,
) -> None:
    """Where the instance's users sign in: an external SAML IdP, or the directory."""
    if (saml_metadata is None) == (not directory):
        raise click.UsageError("Give exactly one of --saml-metadata FILE and --directory.")
    with _database(data_dir, database_url) as database:
        # The service provider's URLs are not needed to store the provider.
        external = ExternalIdpService(
            Transactions(database, "000000000000"), SystemClock(), public_url=""
        )
        if saml_metadata is None:
            external.use_directory(instance_arn)
            click.echo(json.dumps({"IdentitySource": "IDENTITY_CENTER_DIRECTORY"}, indent=2))
            return
        source = external.set_source(instance_arn, saml_metadata.read_text())
        tenant = _tenant_of(database, instance_arn)
    click.echo(
        json.dumps(
            {
                "IdentitySource": "EXTERNAL_SAML_IDP",
                "IdpEntityId": source.idp_entity_id,
                "IdpSsoUrl": source.idp_sso_url,
                "ServiceProviderMetadataPath": f"{SP_METADATA_PATH}?identity_store_id={tenant}",
            },
            indent=2,
        )
    )

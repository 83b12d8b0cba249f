"""`iamd backup` and `iamd restore`: one archive with the database and its master key.

See `iamd.server.backup` for what the archive holds and how consistency and the
master key are checked; docs/deployment.md for schedules and a restore drill.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from iamd.server.backup import BackupError, create_backup, restore_backup
from iamd.server.settings import DEFAULT_DATA_DIR

_DATA_DIR = click.option(
    "--data-dir",
    default=str(DEFAULT_DATA_DIR),
    show_default=True,
    envvar="IAMD_DATA_DIR",
    type=click.Path(file_okay=False, path_type=Path),
)
_DATABASE_URL = click.option(
    "--database-url",
    default=None,
    envvar="IAMD_DATABASE_URL",
    help="The PostgreSQL database (pg_dump / pg_restore must be installed).",
)


class _Refused(click.ClickException):
    exit_code = 2


@click.command()
@_DATA_DIR
@_DATABASE_URL
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (a new file, mode 0600), e.g. iamd-$(date +%F).tar.gz.",
)
@click.option(
    "--without-master-key",
    is_flag=True,
    default=False,
    help="Leave master.key out (keep it elsewhere); restore then needs IAMD_MASTER_KEY.",
)
def backup(
    data_dir: Path, database_url: str | None, output: Path, without_master_key: bool
) -> None:
    """Write a consistent backup while iamd keeps serving."""
    try:
        summary = create_backup(
            data_dir,
            database_url,
            output,
            master_key_env=os.environ.get("IAMD_MASTER_KEY"),
            include_master_key=not without_master_key,
        )
    except BackupError as exc:
        raise _Refused(str(exc)) from None
    key = "with the master key" if summary.master_key_included else "WITHOUT the master key"
    click.echo(
        f"wrote {summary.path} ({summary.database}, {summary.repositories} repositories, "
        f"{key}); the master key in place opens it"
    )


@click.command()
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@_DATA_DIR
@_DATABASE_URL
def restore(archive: Path, data_dir: Path, database_url: str | None) -> None:
    """Restore a backup into an empty data directory (and empty database), iamd stopped."""
    try:
        summary = restore_backup(
            archive, data_dir, database_url, master_key_env=os.environ.get("IAMD_MASTER_KEY")
        )
    except BackupError as exc:
        raise _Refused(str(exc)) from None
    click.echo(
        f"restored the {summary.database} backup of {summary.created} into {summary.data_dir} "
        f"(master key from {summary.master_key_from}); start iamd serve with the same options"
    )

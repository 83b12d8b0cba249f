"""`iamd backup` of a serving node, `iamd restore` into a fresh data directory.

The restored server must serve what the backup held and nothing written after it: the
old access keys sign requests, the git repository clones over SSH with its commits,
and a master key that does not open the backup is refused before anything is written.
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.support.gitssh import GitHome
from tests.support.postgres import create_database
from tests.support.servers import RunningServer, start_server

pytestmark = pytest.mark.slow

GIT_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":'
    '["codecommit:GitPull","codecommit:GitPush","iam:GetUser"],"Resource":"*"}]}'
)


def _iamd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    return subprocess.run(
        [sys.executable, "-m", "iamd", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _point_home_at(home: GitHome, server: RunningServer, key_id: str) -> None:
    """The developer's machine, now talking to the restored server (same host key)."""
    host_key = (server.data_dir / "ssh_host_ed25519_key.pub").read_text().split()
    home.known_hosts.write_text(f"[127.0.0.1]:{server.ssh_port} {host_key[0]} {host_key[1]}\n")
    home.server = server
    home.configure(key_id)


def test_a_restore_serves_the_old_keys_and_repositories(tmp_path: Path) -> None:
    original = start_server(tmp_path / "original")
    try:
        admin = original.client()
        admin.create_user(UserName="erin")
        admin.put_user_policy(UserName="erin", PolicyName="git", PolicyDocument=GIT_POLICY)
        key = admin.create_access_key(UserName="erin")["AccessKey"]
        home = GitHome(tmp_path / "erin", original)
        ssh_key_id = admin.upload_ssh_public_key(
            UserName="erin", SSHPublicKeyBody=home.public_key.read_text()
        )["SSHPublicKey"]["SSHPublicKeyId"]
        home.configure(ssh_key_id)
        url = original.client("codecommit").create_repository(repositoryName="kept")[
            "repositoryMetadata"
        ]["cloneUrlSsh"]
        cloned = home.git("clone", url, "work")
        assert cloned.returncode == 0, cloned.stderr
        commit = home.commit(home.home / "work", "README.md", "kept across a restore\n")
        pushed = home.git("push", "origin", "HEAD:main", cwd=home.home / "work")
        assert pushed.returncode == 0, pushed.stderr

        archive = tmp_path / "backups" / "iamd.tar.gz"
        made = _iamd("backup", "--data-dir", str(original.data_dir), "--output", str(archive))
        assert made.returncode == 0, made.stderr
        assert "with the master key" in made.stdout
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        with tarfile.open(archive) as contents:
            names = set(contents.getnames())
        assert {"manifest.json", "database/iamd.sqlite3", "data/master.key"} <= names
        # Written after the backup: the restore must not have it.
        admin.create_user(UserName="after-the-backup")
    finally:
        assert original.stop() == 0

    fresh = tmp_path / "restored"
    restored_run = _iamd("restore", str(archive), "--data-dir", str(fresh))
    assert restored_run.returncode == 0, restored_run.stderr
    restored = start_server(fresh, bootstrap_key=False)
    try:
        erin = restored.client(key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
        assert erin.get_user()["User"]["UserName"] == "erin"
        assert restored.client().get_user()["User"]["UserName"] == "admin"
        with pytest.raises(ClientError) as missing:
            restored.client().get_user(UserName="after-the-backup")
        assert missing.value.response["Error"]["Code"] == "NoSuchEntity"

        _point_home_at(home, restored, ssh_key_id)
        moved_url = url.replace(f":{original.ssh_port}/", f":{restored.ssh_port}/")
        again = home.git("clone", moved_url, "again")
        assert again.returncode == 0, again.stderr
        assert home.git("rev-parse", "HEAD", cwd=home.home / "again").stdout.strip() == commit
        assert (home.home / "again" / "README.md").read_text() == "kept across a restore\n"
    finally:
        restored.stop()


def test_restore_refuses_a_master_key_that_does_not_open_the_backup(tmp_path: Path) -> None:
    original = start_server(tmp_path / "original")
    try:
        original.client().create_user(UserName="frank")
        original_key = (original.data_dir / "master.key").read_text().strip()
        archive = tmp_path / "no-key.tar.gz"
        made = _iamd(
            "backup",
            "--data-dir",
            str(original.data_dir),
            "--output",
            str(archive),
            "--without-master-key",
        )
        assert made.returncode == 0, made.stderr
        assert "WITHOUT the master key" in made.stdout
        with tarfile.open(archive) as contents:
            assert "data/master.key" not in contents.getnames()
    finally:
        original.stop()

    target = tmp_path / "target"
    no_key = _iamd("restore", str(archive), "--data-dir", str(target))
    assert no_key.returncode == 2
    assert "holds no master key" in no_key.stderr

    wrong = base64.b64encode(os.urandom(32)).decode()
    refused = _iamd(
        "restore", str(archive), "--data-dir", str(target), env={"IAMD_MASTER_KEY": wrong}
    )
    assert refused.returncode == 2
    assert "does not open this backup" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in target.iterdir()) == []

    accepted = _iamd(
        "restore", str(archive), "--data-dir", str(target), env={"IAMD_MASTER_KEY": original_key}
    )
    assert accepted.returncode == 0, accepted.stderr
    assert not (target / "master.key").exists()
    restored = start_server(target, extra_env={"IAMD_MASTER_KEY": original_key})
    try:
        assert restored.client().get_user(UserName="frank")["User"]["UserName"] == "frank"
    finally:
        restored.stop()

    # A data directory that already holds a database is never overwritten.
    again = _iamd(
        "restore", str(archive), "--data-dir", str(target), env={"IAMD_MASTER_KEY": original_key}
    )
    assert again.returncode == 2
    assert "restore into an empty data directory" in again.stderr


def test_backup_refuses_a_master_key_that_does_not_open_the_database(tmp_path: Path) -> None:
    original = start_server(tmp_path / "original")
    original.stop()
    wrong = base64.b64encode(os.urandom(32)).decode()
    made = _iamd(
        "backup",
        "--data-dir",
        str(original.data_dir),
        "--output",
        str(tmp_path / "bad.tar.gz"),
        env={"IAMD_MASTER_KEY": wrong},
    )
    assert made.returncode == 2
    assert "does not open the secrets" in made.stderr
    assert not (tmp_path / "bad.tar.gz").exists()


@pytest.mark.postgres
def test_postgresql_backup_restores_into_a_new_database(
    tmp_path: Path, postgres_url: str, unique: str
) -> None:
    source_url = create_database(postgres_url, f"{unique}_src")
    target_url = create_database(postgres_url, f"{unique}_dst")
    original = start_server(tmp_path / "node", database_url=source_url)
    try:
        admin = original.client()
        admin.create_user(UserName="gina")
        admin.put_user_policy(UserName="gina", PolicyName="git", PolicyDocument=GIT_POLICY)
        key = admin.create_access_key(UserName="gina")["AccessKey"]
        archive = tmp_path / "pg.tar.gz"
        made = _iamd(
            "backup",
            "--data-dir",
            str(original.data_dir),
            "--database-url",
            source_url,
            "--output",
            str(archive),
        )
        assert made.returncode == 0, made.stderr
        assert "(postgresql," in made.stdout
        admin.create_user(UserName="after-the-pg-backup")
    finally:
        original.stop()

    fresh = tmp_path / "new-node"
    restored_run = _iamd(
        "restore", str(archive), "--data-dir", str(fresh), "--database-url", target_url
    )
    assert restored_run.returncode == 0, restored_run.stderr
    # Restoring again into the now-populated database is refused.
    again = _iamd(
        "restore", str(archive), "--data-dir", str(tmp_path / "x"), "--database-url", target_url
    )
    assert again.returncode == 2
    assert "not empty" in again.stderr
    restored = start_server(fresh, database_url=target_url, bootstrap_key=False)
    try:
        gina = restored.client(key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
        assert gina.get_user()["User"]["UserName"] == "gina"
        with pytest.raises(ClientError):
            restored.client().get_user(UserName="after-the-pg-backup")
    finally:
        restored.stop()

"""The guide's "SSH Public Key Upload for CodeCommit" section, verbatim, with the AWS CLI.

The admin puts the guide's combined policy on the group Developers with jdoe and alice
in it. jdoe, with his own access key and a home directory holding a key made by the real
`ssh-keygen`, runs the guide's two commands exactly as written (`file://~/.ssh/id_rsa.pub`
included), and cannot upload a key for alice.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.e2e.test_guide_policy_enforcement import guide_developers
from tests.support.awscli import AwsCli
from tests.support.servers import RunningServer

pytestmark = pytest.mark.slow


def _home_with_key(home: Path) -> Path:
    """A home directory whose ~/.ssh/id_rsa is a fresh 2048-bit key from ssh-keygen."""
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(ssh / "id_rsa")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return ssh / "id_rsa.pub"


def _md5_fingerprint(public_key: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "md5", "-f", str(public_key)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return out.split()[1].removeprefix("MD5:")


def test_users_upload_and_list_their_own_ssh_keys(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    admin = guide_developers(fresh_server, tmp_path)
    key = admin.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]

    jdoe = AwsCli(fresh_server, key["AccessKeyId"], key["SecretAccessKey"], tmp_path)
    public_key = _home_with_key(tmp_path / "home")
    jdoe.env["HOME"] = str(tmp_path / "home")

    # The guide's commands, as written.
    uploaded = jdoe.run(
        "iam",
        "upload-ssh-public-key",
        "--user-name",
        "jdoe",
        "--ssh-public-key-body",
        "file://~/.ssh/id_rsa.pub",
    ).json()["SSHPublicKey"]
    assert uploaded["UserName"] == "jdoe"
    assert uploaded["SSHPublicKeyId"].startswith("APKA")
    assert uploaded["Status"] == "Active"
    assert uploaded["Fingerprint"] == _md5_fingerprint(public_key)
    assert uploaded["SSHPublicKeyBody"] == " ".join(public_key.read_text().split()[:2])

    listed = jdoe.run("iam", "list-ssh-public-keys", "--user-name", "jdoe").json()
    assert [k["SSHPublicKeyId"] for k in listed["SSHPublicKeys"]] == [uploaded["SSHPublicKeyId"]]
    assert listed["SSHPublicKeys"][0]["Status"] == "Active"

    # The policy's ${aws:username} keeps jdoe to his own user.
    denied = jdoe.run(
        "iam",
        "upload-ssh-public-key",
        "--user-name",
        "alice",
        "--ssh-public-key-body",
        "file://~/.ssh/id_rsa.pub",
        check=False,
    )
    assert denied.returncode != 0
    assert "AccessDenied" in denied.stderr
    assert "is not authorized to perform: iam:UploadSSHPublicKey" in denied.stderr
    alice_keys = admin.run("iam", "list-ssh-public-keys", "--user-name", "alice").json()
    assert alice_keys["SSHPublicKeys"] == []

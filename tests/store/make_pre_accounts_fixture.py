"""Make the database fixture of the release before accounts (migration head 0008).

Run once, with the code of that release, from the repository's root:

    .venv/bin/python -m tests.store.make_pre_accounts_fixture

It starts a real server, fills it through boto3 with one of everything (users with access
keys, a group, a customer managed policy attached, a role with a trust policy, a virtual
MFA device enabled for a user, a login profile, an SSH public key, a CodeCommit
repository, an account alias, tags), stops it, and writes the SQLite database, its
master key and the facts a test checks after upgrading (`expected.json`, with the access
keys' secrets) to `tests/store/fixtures/pre_accounts/`. The committed files are what
`tests/server/test_upgrade_pre_accounts.py` upgrades; never regenerate them with newer
code, or the test stops testing an upgrade.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.servers import start_server
from tests.support.totp import code_at

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "pre_accounts"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}],
}


def _ssh_public_key(directory: Path) -> str:
    key = directory / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=60
    )
    return key.with_suffix(".pub").read_text().strip()


def _fill(iam: Any, codecommit: Any, ssh_key: str) -> dict[str, Any]:
    iam.create_account_alias(AccountAlias="pre-accounts-alias")
    keys: dict[str, dict[str, str]] = {}
    for name in ("alice", "bob"):
        iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "team", "Value": name}])
        key = iam.create_access_key(UserName=name)["AccessKey"]
        keys[name] = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="alice")
    iam.add_user_to_group(GroupName="readers", UserName="bob")
    policy = iam.create_policy(
        PolicyName="ReadIam",
        PolicyDocument=json.dumps(POLICY),
        Tags=[{"Key": "kind", "Value": "read"}],
    )["Policy"]
    iam.attach_group_policy(GroupName="readers", PolicyArn=policy["Arn"])
    iam.put_user_policy(
        UserName="bob",
        PolicyName="bob-inline",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "codecommit:*", "Resource": "*"}],
            }
        ),
    )
    role = iam.create_role(
        RoleName="Deployer",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Tags=[{"Key": "stage", "Value": "prod"}],
    )["Role"]
    iam.attach_role_policy(
        RoleName="Deployer", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = time.time()
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=code_at(seed, now - 30),
        AuthenticationCode2=code_at(seed, now),
    )
    iam.create_login_profile(UserName="alice", Password="Pre-accounts-Passw0rd!")
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True)
    ssh = iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody=ssh_key)["SSHPublicKey"]
    repository = codecommit.create_repository(
        repositoryName="pre-accounts-repo",
        repositoryDescription="made before accounts",
        tags={"owner": "bob"},
    )["repositoryMetadata"]
    return {
        "account_id": "123456789012",
        "alias": "pre-accounts-alias",
        "keys": keys,
        "user_paths": {"alice": "/team/", "bob": "/team/"},
        "group": "readers",
        "policy_arn": policy["Arn"],
        "role_arn": role["Arn"],
        "role_id": role["RoleId"],
        "mfa_serial": device["SerialNumber"],
        "mfa_seed": seed,
        "password": "Pre-accounts-Passw0rd!",
        "ssh_public_key_id": ssh["SSHPublicKeyId"],
        "ssh_fingerprint": ssh["Fingerprint"],
        "repository_name": repository["repositoryName"],
        "repository_id": repository["repositoryId"],
        "repository_arn": repository["Arn"],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        ssh_key = _ssh_public_key(Path(scratch))
        server = start_server(data)
        try:
            facts = _fill(server.client("iam"), server.client("codecommit"), ssh_key)
        finally:
            assert server.stop() == 0, server.log_text()
        FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
        # As SQL text (the repository tracks no database files), WAL included.
        source = sqlite3.connect(data / "iamd.sqlite3")
        (FIXTURE_DIR / "iamd.sql").write_text("\n".join(source.iterdump()) + "\n")
        source.close()
        shutil.copyfile(data / "master.key", FIXTURE_DIR / "master.key")
        (FIXTURE_DIR / "expected.json").write_text(json.dumps(facts, indent=2) + "\n")


if __name__ == "__main__":
    main()

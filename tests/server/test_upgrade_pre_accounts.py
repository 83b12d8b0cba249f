"""A database of the release before accounts upgrades in place and keeps everything.

The fixture (`tests/store/fixtures/pre_accounts/`, made by
`tests/store/make_pre_accounts_fixture.py` with that release's code through a real
server) is copied, the current server starts on it (running migration 0009), and boto3
checks every entity, and that the access keys issued then still sign requests.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.servers import RunningServer, start_server
from tests.support.sign_in import sign_in

FIXTURE = Path(__file__).parent.parent / "store" / "fixtures" / "pre_accounts"
FACTS: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text())


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = tmp_path_factory.mktemp("pre-accounts")
    # Kept as SQL text, not as a database file: the same rows, bytes for bytes.
    with sqlite3.connect(data / "iamd.sqlite3") as database:
        database.executescript((FIXTURE / "iamd.sql").read_text())
    shutil.copyfile(FIXTURE / "master.key", data / "master.key")
    (data / "master.key").chmod(0o600)
    running = start_server(data)
    yield running
    running.stop()


def _client(server: RunningServer, user: str, service: str = "iam") -> Any:
    key = FACTS["keys"][user]
    return server.client(service, key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_old_keys_still_sign_requests(upgraded: RunningServer) -> None:
    for user in ("alice", "bob"):
        sts = _client(upgraded, user, "sts")
        identity = sts.get_caller_identity()
        assert identity["Account"] == FACTS["account_id"]
        assert identity["Arn"] == f"arn:aws:iam::{FACTS['account_id']}:user/team/{user}"
    # alice reads through the group's customer managed policy.
    assert _client(upgraded, "alice").get_user(UserName="bob")["User"]["Path"] == "/team/"


def test_every_entity_is_there(upgraded: RunningServer) -> None:
    iam = upgraded.client("iam")
    account = FACTS["account_id"]
    assert iam.list_account_aliases()["AccountAliases"] == [FACTS["alias"]]
    users = {u["UserName"]: u for u in iam.list_users()["Users"]}
    assert {"alice", "bob"} <= set(users)
    for name in ("alice", "bob"):
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in keys] == [FACTS["keys"][name]["AccessKeyId"]]
        assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "team", "Value": name}]
    members = iam.get_group(GroupName=FACTS["group"])["Users"]
    assert sorted(m["UserName"] for m in members) == ["alice", "bob"]
    attached = iam.list_attached_group_policies(GroupName=FACTS["group"])["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [FACTS["policy_arn"]]
    policy = iam.get_policy(PolicyArn=FACTS["policy_arn"])["Policy"]
    assert policy["AttachmentCount"] == 1
    assert policy["Tags"] == [{"Key": "kind", "Value": "read"}]
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == ["bob-inline"]
    role = iam.get_role(RoleName="Deployer")["Role"]
    assert role["Arn"] == FACTS["role_arn"]
    assert role["RoleId"] == FACTS["role_id"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{account}:root"
    }
    assert iam.list_role_tags(RoleName="Deployer")["Tags"] == [{"Key": "stage", "Value": "prod"}]
    role_policies = iam.list_attached_role_policies(RoleName="Deployer")["AttachedPolicies"]
    assert [p["PolicyName"] for p in role_policies] == ["AdministratorAccess"]
    admin = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    # The bootstrap Administrators group and the role.
    assert admin["AttachmentCount"] == 2
    devices = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [FACTS["mfa_serial"]]
    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["UserName"] == "alice"
    assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 12
    ssh = iam.get_ssh_public_key(
        UserName="bob", SSHPublicKeyId=FACTS["ssh_public_key_id"], Encoding="SSH"
    )["SSHPublicKey"]
    assert ssh["Fingerprint"] == FACTS["ssh_fingerprint"]
    codecommit = upgraded.client("codecommit")
    repository = codecommit.get_repository(repositoryName=FACTS["repository_name"])
    assert repository["repositoryMetadata"]["repositoryId"] == FACTS["repository_id"]
    assert repository["repositoryMetadata"]["Arn"] == FACTS["repository_arn"]
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] == 3  # the bootstrap admin, alice, bob
    assert summary["Roles"] == 1
    assert summary["Policies"] == 1


def test_names_stay_unique_ignoring_case_after_the_upgrade(upgraded: RunningServer) -> None:
    iam = upgraded.client("iam")
    with pytest.raises(ClientError) as refused:
        iam.create_user(UserName="ALICE")
    assert refused.value.response["Error"]["Code"] == "EntityAlreadyExists"


def test_the_old_password_signs_in_with_the_alias_or_the_id(upgraded: RunningServer) -> None:
    for account in (FACTS["alias"], FACTS["account_id"]):
        assert sign_in(upgraded, account, "alice", FACTS["password"]) == (200, "signed_in")
    assert sign_in(upgraded, "999999999999", "alice", FACTS["password"])[1] == (
        "invalid_credentials"
    )

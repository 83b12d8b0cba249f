"""Two accounts in one server, through boto3: the management account reaches a new
account only through the role provisioned there, each account has its own users and
keys, and a key of one account never sees or changes the other's entities.

The second account is made before the server starts, by the real accounts service on
the server's own database (the Organizations API, which makes accounts over the wire,
is tested on its own).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.gitssh import GitHome
from tests.support.servers import RunningServer, start_server
from tests.support.sign_in import sign_in

from iamd.auth.secret_box import SecretBox
from iamd.clock import SystemClock
from iamd.ids import RandomIds
from iamd.model.quotas import Quotas
from iamd.services.container import Services
from iamd.store.database import Database

MANAGEMENT = "123456789012"
ROLE = "OrganizationAccountAccessRole"


def provision_account(data_dir: Path, name: str, email: str) -> str:
    """A new account with its access role, written by the services into the database of
    a stopped server in `data_dir`; its id."""
    database = Database(f"sqlite:///{data_dir / 'iamd.sqlite3'}")
    try:
        services = Services.build(
            database=database,
            account_id=MANAGEMENT,
            clock=SystemClock(),
            ids=RandomIds(),
            quotas=Quotas(),
            # Nothing sealed is written: the role and its attachment only.
            secret_box=SecretBox(os.urandom(32)),
            last_used_flush_seconds=3600,
        )
        account_id = services.accounts.create(name, email).account_id
        services.accounts.provision_access_role(account_id, ROLE, MANAGEMENT)
        return account_id
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    data = tmp_path_factory.mktemp("accounts")
    first = start_server(data)  # bootstraps the management account
    assert first.stop() == 0
    new_account = provision_account(data, "Dev", "dev@example.com")
    running = start_server(data)
    yield running, new_account
    running.stop()


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _session(server: RunningServer, account: str, service: str = "iam") -> Any:
    sts = server.client("sts")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="admin"
    )["Credentials"]
    return server.client(
        service,
        key_id=credentials["AccessKeyId"],
        secret=credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
    )


def test_the_management_admin_assumes_the_role_of_the_new_account(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, new_account = two_accounts
    identity = _session(server, new_account, "sts").get_caller_identity()
    assert identity["Account"] == new_account
    assert identity["Arn"] == f"arn:aws:sts::{new_account}:assumed-role/{ROLE}/admin"
    # The session manages IAM there, with the guide's commands.
    iam = _session(server, new_account)
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == [ROLE]
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Users"], summary["Roles"]) == (0, 1)


def test_a_role_of_a_made_up_account_is_refused_like_a_missing_role(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, _new = two_accounts
    sts = server.client("sts")
    for arn in (f"arn:aws:iam::999999999999:role/{ROLE}", f"arn:aws:iam::{MANAGEMENT}:role/Nope"):
        with pytest.raises(ClientError) as refused:
            sts.assume_role(RoleArn=arn, RoleSessionName="xx")
        assert _code(refused) == "AccessDenied"
        assert refused.value.response["Error"]["Message"] == (
            f"User: arn:aws:iam::{MANAGEMENT}:user/admin is not authorized to perform: "
            f"sts:AssumeRole on resource: {arn}"
        )


def test_the_same_user_name_in_both_accounts_each_with_its_own_keys(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, new_account = two_accounts
    mine = server.client("iam")
    theirs = _session(server, new_account)
    keys = {}
    for account, iam in ((MANAGEMENT, mine), (new_account, theirs)):
        user = iam.create_user(UserName="jdoe")["User"]
        assert user["Arn"] == f"arn:aws:iam::{account}:user/jdoe"
        iam.put_user_policy(
            UserName="jdoe",
            PolicyName="all",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
                }
            ),
        )
        keys[account] = iam.create_access_key(UserName="jdoe")["AccessKey"]
    for account, key in keys.items():
        client = server.client("sts", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
        identity = client.get_caller_identity()
        assert (identity["Account"], identity["Arn"]) == (
            account,
            f"arn:aws:iam::{account}:user/jdoe",
        )
    # Each account lists only its own jdoe's key.
    for account, iam in ((MANAGEMENT, mine), (new_account, theirs)):
        listed = iam.list_access_keys(UserName="jdoe")["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in listed] == [keys[account]["AccessKeyId"]]


def test_a_key_of_one_account_cannot_reach_the_other_accounts_entities(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, new_account = two_accounts
    theirs = _session(server, new_account)
    theirs.create_user(UserName="only-in-dev")
    policy_arn = theirs.create_policy(
        PolicyName="DevOnly",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    mine = server.client("iam")
    # By name: there is no such entity in the caller's account.
    with pytest.raises(ClientError) as missing:
        mine.get_user(UserName="only-in-dev")
    assert _code(missing) == "NoSuchEntity"
    with pytest.raises(ClientError) as missing:
        theirs.get_user(UserName="admin")
    assert _code(missing) == "NoSuchEntity"
    # By ARN: another account's resource, which no policy of the caller can grant.
    for call, kwargs in (
        (mine.get_policy, {"PolicyArn": policy_arn}),
        (mine.delete_policy, {"PolicyArn": policy_arn}),
    ):
        with pytest.raises(ClientError) as denied:
            call(**kwargs)
        assert _code(denied) == "AccessDenied", kwargs
    # Attaching is authorized on one's own user; the policy is then not found there.
    with pytest.raises(ClientError) as missing:
        mine.attach_user_policy(UserName="admin", PolicyArn=policy_arn)
    assert _code(missing) == "NoSuchEntity"
    assert theirs.get_policy(PolicyArn=policy_arn)["Policy"]["AttachmentCount"] == 0
    names = [u["UserName"] for u in mine.list_users()["Users"]]
    assert "only-in-dev" not in names
    # AWS's managed policies are shared; their attachment counts are each account's.
    admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert theirs.get_policy(PolicyArn=admin_policy)["Policy"]["AttachmentCount"] == 1


def test_aliases_are_per_account_and_unique_across_accounts(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, new_account = two_accounts
    theirs = _session(server, new_account)
    theirs.create_account_alias(AccountAlias="dev-team-alias")
    assert theirs.list_account_aliases()["AccountAliases"] == ["dev-team-alias"]
    mine = server.client("iam")
    assert mine.list_account_aliases()["AccountAliases"] == []
    with pytest.raises(ClientError) as taken:
        mine.create_account_alias(AccountAlias="dev-team-alias")
    assert _code(taken) == "EntityAlreadyExists"
    theirs.delete_account_alias(AccountAlias="dev-team-alias")


def test_git_over_ssh_serves_the_repositories_of_the_keys_account(
    two_accounts: tuple[RunningServer, str], tmp_path: Path
) -> None:
    server, new_account = two_accounts
    clients = {MANAGEMENT: (server.client("iam"), server.client("codecommit"))}
    clients[new_account] = (
        _session(server, new_account),
        _session(server, new_account, "codecommit"),
    )
    homes = {}
    for account, (iam, codecommit) in clients.items():
        created = codecommit.create_repository(
            repositoryName="shared-name", repositoryDescription=f"of {account}"
        )["repositoryMetadata"]
        assert created["Arn"] == f"arn:aws:codecommit:us-east-1:{account}:shared-name"
        assert created["accountId"] == account
        iam.create_user(UserName="git-dev")
        iam.put_user_policy(
            UserName="git-dev",
            PolicyName="git",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["codecommit:GitPull", "codecommit:GitPush"],
                            "Resource": f"arn:aws:codecommit:us-east-1:{account}:shared-name",
                        }
                    ],
                }
            ),
        )
        home = GitHome(tmp_path / account, server)
        key = iam.upload_ssh_public_key(
            UserName="git-dev", SSHPublicKeyBody=home.public_key.read_text()
        )["SSHPublicKey"]
        home.configure(key["SSHPublicKeyId"])
        homes[account] = (home, created["cloneUrlSsh"])
    # Each pushes a file naming its account; each clone sees only its account's.
    for account, (home, url) in homes.items():
        assert home.git("clone", url, "work").returncode == 0
        work = home.home / "work"
        home.commit(work, "ACCOUNT", account)
        pushed = home.git("push", "origin", "HEAD:main", cwd=work)
        assert pushed.returncode == 0, pushed.stderr
    for account, (home, url) in homes.items():
        again = home.git("clone", url, "again")
        assert again.returncode == 0, again.stderr
        assert (home.home / "again" / "ACCOUNT").read_text() == account


def test_get_access_key_info_names_the_keys_account(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, new_account = two_accounts
    theirs = _session(server, new_account)
    theirs.create_user(UserName="info-user")
    key = theirs.create_access_key(UserName="info-user")["AccessKey"]["AccessKeyId"]
    assert server.client("sts").get_access_key_info(AccessKeyId=key)["Account"] == new_account


def test_password_sign_in_names_the_account_by_id_or_alias(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, new_account = two_accounts
    theirs = _session(server, new_account)
    theirs.create_user(UserName="console-user")
    theirs.create_login_profile(UserName="console-user", Password="Dev-account-Passw0rd!")
    theirs.create_account_alias(AccountAlias="dev-console")
    try:
        for account in (new_account, "dev-console"):
            assert sign_in(server, account, "console-user", "Dev-account-Passw0rd!") == (
                200,
                "signed_in",
            )
        # The management account has no such user.
        refused = sign_in(server, MANAGEMENT, "console-user", "Dev-account-Passw0rd!")
        assert refused[1] == "invalid_credentials"
    finally:
        theirs.delete_account_alias(AccountAlias="dev-console")


def test_trust_policies_name_principals_of_other_accounts_that_exist(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, new_account = two_accounts
    theirs = _session(server, new_account)

    def trusting(principal: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": principal},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )

    theirs.create_role(
        RoleName="TrustsAdmin",
        AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{MANAGEMENT}:user/admin"),
    )
    with pytest.raises(ClientError) as invalid:
        theirs.create_role(
            RoleName="TrustsNobody",
            AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{MANAGEMENT}:user/nobody"),
        )
    assert _code(invalid) == "MalformedPolicyDocument"
    # An account iamd does not serve cannot be checked: taken as given.
    theirs.create_role(
        RoleName="TrustsElsewhere",
        AssumeRolePolicyDocument=trusting("arn:aws:iam::999999999999:user/someone"),
    )
    # The management account's admin assumes the role that trusts it by ARN (its
    # identity policy allows sts:AssumeRole on any resource).
    credentials = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{new_account}:role/TrustsAdmin", RoleSessionName="by-arn"
    )["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")


def test_the_password_policy_and_its_self_service_grant_are_each_accounts(
    two_accounts: tuple[RunningServer, str],
) -> None:
    server, new_account = two_accounts
    theirs = _session(server, new_account)
    mine = server.client("iam")
    theirs.update_account_password_policy(MinimumPasswordLength=20, AllowUsersToChangePassword=True)
    try:
        assert theirs.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 20
        with pytest.raises(ClientError) as missing:
            mine.get_account_password_policy()
        assert _code(missing) == "NoSuchEntity"
        # A user with no policy of its own: the grant is its account's.
        keys = {}
        for account, iam in ((MANAGEMENT, mine), (new_account, theirs)):
            iam.create_user(UserName="no-policy")
            keys[account] = iam.create_access_key(UserName="no-policy")["AccessKey"]

        def as_user(account: str) -> Any:
            key = keys[account]
            return server.client("iam", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])

        policy = as_user(new_account).get_account_password_policy()["PasswordPolicy"]
        assert policy["AllowUsersToChangePassword"] is True
        with pytest.raises(ClientError) as denied:
            as_user(MANAGEMENT).get_account_password_policy()
        assert _code(denied) == "AccessDenied"
    finally:
        theirs.delete_account_password_policy()

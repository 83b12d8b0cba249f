"""An Identity Center user with a permission set in the server's own account, and the
profile configuration docs/identity-center.md gives for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import RunningServer

LIST_USERS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}],
    }
)


@dataclass(frozen=True)
class SsoUser:
    account: str
    store: str
    one_time_password: str
    user_id: str

    @property
    def start_url(self) -> str:
        return f"https://{self.store}.awsapps.com/start"


def provision_sso_user(server: RunningServer) -> SsoUser:
    """`jdoe` in group Engineers, assigned permission set UserReaders (iam:ListUsers),
    with a one-time password set by `iamd identity-center set-password`."""
    admin = server.client("sso-admin")
    instance = admin.create_instance(Name="Corp")["InstanceArn"]
    store = admin.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    ids = server.client("identitystore")
    user = ids.create_user(IdentityStoreId=store, UserName="jdoe", DisplayName="J Doe")["UserId"]
    group = ids.create_group(IdentityStoreId=store, DisplayName="Engineers")["GroupId"]
    ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})
    account = server.client("sts").get_caller_identity()["Account"]
    ps = admin.create_permission_set(InstanceArn=instance, Name="UserReaders")["PermissionSet"][
        "PermissionSetArn"
    ]
    admin.put_inline_policy_to_permission_set(
        InstanceArn=instance, PermissionSetArn=ps, InlinePolicy=LIST_USERS
    )
    admin.create_account_assignment(
        InstanceArn=instance,
        TargetId=account,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=ps,
        PrincipalType="GROUP",
        PrincipalId=group,
    )
    one_time = set_one_time_password(server, store, "jdoe")
    return SsoUser(account, store, one_time, user)


def set_one_time_password(server: RunningServer, store: str, user_name: str) -> str:
    """The one-time password `iamd identity-center set-password` prints for the user."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "iamd", "identity-center", "set-password"),
            *("--identity-store-id", store, "--user-name", user_name),
            *("--data-dir", str(server.data_dir)),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


def sso_session_profile(user: SsoUser, name: str = "corp") -> str:
    """The `[profile NAME]` and `[sso-session NAME]` sections of docs/identity-center.md."""
    return (
        f"[profile {name}]\n"
        f"sso_session = {name}\n"
        f"sso_account_id = {user.account}\n"
        "sso_role_name = UserReaders\n"
        "region = us-east-1\n"
        "\n"
        f"[sso-session {name}]\n"
        f"sso_start_url = {user.start_url}\n"
        "sso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )


def sso_client_env(
    home: Path, config: Path, endpoint: str, *, with_python: bool = False
) -> dict[str, str]:
    """A client's environment with nothing but configuration pointing it at iamd: its
    own home, config file and no credentials file; `with_python` puts this Python's
    `iamd` and boto3 on the PATH (else only the system's, as for the AWS CLI v2)."""
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin" if with_python else "/usr/bin:/bin"
    return {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_ENDPOINT_URL": endpoint,
        "PATH": path,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }

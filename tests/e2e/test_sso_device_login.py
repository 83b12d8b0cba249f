"""An Identity Center user signs in with the device flow, and boto3's own SSO credential
provider takes it from there: real server, real sso-oidc and sso clients, the device
page driven over HTTP as a browser would post it (cookie, CSRF token, forms)."""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support.servers import RunningServer, start_server

LIST_USERS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}],
    }
)
_UNSIGNED = Config(signature_version=UNSIGNED, retries={"max_attempts": 1, "mode": "standard"})


@dataclass(frozen=True)
class Directory:
    server: RunningServer
    account: str
    store: str
    instance: str
    user: str
    permission_set: str

    @property
    def start_url(self) -> str:
        return f"https://{self.store}.awsapps.com/start"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    server = start_server(tmp_path_factory.mktemp("iamd-sso"))
    try:
        admin = server.client("sso-admin")
        instance = admin.create_instance(Name="Corp")["InstanceArn"]
        store = admin.describe_instance(InstanceArn=instance)["IdentityStoreId"]
        ids = server.client("identitystore")
        user = ids.create_user(IdentityStoreId=store, UserName="jdoe", DisplayName="J Doe")[
            "UserId"
        ]
        account = server.client("sts").get_caller_identity()["Account"]
        ps = admin.create_permission_set(
            InstanceArn=instance, Name="UserReaders", SessionDuration="PT2H"
        )["PermissionSet"]["PermissionSetArn"]
        admin.put_inline_policy_to_permission_set(
            InstanceArn=instance, PermissionSetArn=ps, InlinePolicy=LIST_USERS
        )
        status = admin.create_account_assignment(
            InstanceArn=instance,
            TargetId=account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=ps,
            PrincipalType="USER",
            PrincipalId=user,
        )["AccountAssignmentCreationStatus"]
        assert status["Status"] == "SUCCEEDED"
        yield Directory(server, account, store, instance, user, ps)
    finally:
        server.stop()


def _set_password(directory: Directory) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "iamd",
            "identity-center",
            "set-password",
            "--identity-store-id",
            directory.store,
            "--user-name",
            "jdoe",
            "--data-dir",
            str(directory.server.data_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


class Browser:
    """What a browser does on the device page: keep its cookies, post its forms."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> tuple[int, str, dict[str, str]]:
        return self._send(urllib.request.Request(url))  # noqa: S310 - the test's own server

    def post(self, url: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> tuple[int, str, dict[str, str]]:
        try:
            with self._opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def _code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_device_login_then_boto3_uses_the_sso_profile(directory: Directory, tmp_path: Path) -> None:
    endpoint = directory.server.endpoint
    oidc = boto3.client(
        "sso-oidc", endpoint_url=endpoint, region_name="us-east-1", config=_UNSIGNED
    )
    sso = boto3.client("sso", endpoint_url=endpoint, region_name="us-east-1", config=_UNSIGNED)
    one_time = _set_password(directory)

    registration = oidc.register_client(clientName="botocore-client-test", clientType="public")
    device = oidc.start_device_authorization(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        startUrl=directory.start_url,
    )
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", device["userCode"])
    poll = {
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "grantType": "urn:ietf:params:oauth:grant-type:device_code",
        "deviceCode": device["deviceCode"],
    }
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        oidc.create_token(**poll)
    with pytest.raises(oidc.exceptions.SlowDownException):
        oidc.create_token(**poll)

    # The user opens the page, signs in with the one-time password, replaces it, allows.
    browser = Browser()
    status, page, headers = browser.get(device["verificationUriComplete"])
    assert status == 200
    assert device["userCode"] in page
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    form = {"user_code": device["userCode"], "username": "jdoe", "decision": "allow"}
    forged = browser.post(device["verificationUri"], {**form, "password": one_time, "csrf": "x"})
    assert forged[0] == 403
    page = forged[1]  # each form comes with a new CSRF token (and cookie)
    status, page, _ = browser.post(
        device["verificationUri"], {**form, "password": "wrong-password", "csrf": _csrf(page)}
    )
    assert status == 401
    assert one_time not in page
    status, page, _ = browser.post(
        device["verificationUri"], {**form, "password": one_time, "csrf": _csrf(page)}
    )
    assert (status, "new_password" in page) == (403, True)
    # A new password the rules refuse: the page says so and asks again (not an API error).
    status, page, headers = browser.post(
        device["verificationUri"],
        {**form, "password": one_time, "new_password": one_time, "csrf": _csrf(page)},
    )
    assert status == 400
    assert headers["content-type"].startswith("text/html")
    assert "The new password must differ from the one-time password." in page
    assert 'name="new_password"' in page
    status, page, _ = browser.post(
        device["verificationUri"],
        {**form, "password": one_time, "new_password": "Correct-Horse-42", "csrf": _csrf(page)},
    )
    assert status == 200
    assert "botocore-client-test" in page

    tokens = oidc.create_token(**poll)
    assert tokens["tokenType"] == "Bearer"
    with pytest.raises(ClientError) as reused:
        oidc.create_token(**poll)
    assert _code_of(reused.value) == "InvalidGrantException"

    accounts = sso.list_accounts(accessToken=tokens["accessToken"])["accountList"]
    assert [a["accountId"] for a in accounts] == [directory.account]
    roles = sso.list_account_roles(accessToken=tokens["accessToken"], accountId=directory.account)[
        "roleList"
    ]
    assert roles == [{"roleName": "UserReaders", "accountId": directory.account}]
    credentials = sso.get_role_credentials(
        accessToken=tokens["accessToken"], accountId=directory.account, roleName="UserReaders"
    )["roleCredentials"]
    expires = datetime.fromtimestamp(credentials["expiration"] / 1000, UTC)
    assert timedelta(hours=1, minutes=55) < expires - datetime.now(UTC) <= timedelta(hours=2)
    with pytest.raises(ClientError) as not_assigned:
        sso.get_role_credentials(
            accessToken=tokens["accessToken"], accountId=directory.account, roleName="Admins"
        )
    assert _code_of(not_assigned.value) == "ForbiddenException"

    # boto3's own SSO provider, from the token cache `aws sso login` would have written.
    config = tmp_path / "config"
    config.write_text(
        "[profile corp]\n"
        "sso_session = corp\n"
        f"sso_account_id = {directory.account}\n"
        "sso_role_name = UserReaders\n"
        "region = us-east-1\n"
        "[sso-session corp]\n"
        f"sso_start_url = {directory.start_url}\n"
        "sso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )
    cache = tmp_path / "home" / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    registration_expires = datetime.fromtimestamp(registration["clientSecretExpiresAt"], UTC)
    (cache / f"{hashlib.sha1(b'corp').hexdigest()}.json").write_text(  # noqa: S324 - botocore's key
        json.dumps(
            {
                "startUrl": directory.start_url,
                "region": "us-east-1",
                "accessToken": tokens["accessToken"],
                "expiresAt": (datetime.now(UTC) + timedelta(hours=8)).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "refreshToken": tokens["refreshToken"],
                "clientId": registration["clientId"],
                "clientSecret": registration["clientSecret"],
                "registrationExpiresAt": registration_expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    )
    env = {
        "HOME": str(tmp_path / "home"),
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_ENDPOINT_URL": endpoint,
        "PATH": "/usr/bin:/bin",
    }
    script = (
        "import boto3, json\n"
        "s = boto3.Session(profile_name='corp')\n"
        "who = s.client('sts').get_caller_identity()['Arn']\n"
        "users = [u['UserName'] for u in s.client('iam').list_users()['Users']]\n"
        "try:\n"
        "    s.client('iam').create_user(UserName='nope')\n"
        "    denied = ''\n"
        "except Exception as e:\n"
        "    denied = e.response['Error']['Code']\n"
        "print(json.dumps([who, users, denied]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    who, users, denied = json.loads(done.stdout)
    assert re.fullmatch(
        rf"arn:aws:sts::{directory.account}:assumed-role/AWSReservedSSO_UserReaders_[0-9a-f]{{16}}/jdoe",
        who,
    )
    assert "admin" in users
    assert denied == "AccessDenied"

    # A refresh rotates the refresh token; the old one used again revokes the family.
    refreshed = oidc.create_token(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        grantType="refresh_token",
        refreshToken=tokens["refreshToken"],
    )
    assert refreshed["refreshToken"] != tokens["refreshToken"]
    assert sso.list_accounts(accessToken=refreshed["accessToken"])["accountList"]
    with pytest.raises(ClientError) as replayed:
        oidc.create_token(
            clientId=registration["clientId"],
            clientSecret=registration["clientSecret"],
            grantType="refresh_token",
            refreshToken=tokens["refreshToken"],
        )
    assert _code_of(replayed.value) == "InvalidGrantException"
    with pytest.raises(ClientError) as revoked:
        sso.list_accounts(accessToken=refreshed["accessToken"])
    assert _code_of(revoked.value) == "UnauthorizedException"


def test_logout_revokes_and_a_removed_assignment_stops_credentials(directory: Directory) -> None:
    endpoint = directory.server.endpoint
    oidc = boto3.client(
        "sso-oidc", endpoint_url=endpoint, region_name="us-east-1", config=_UNSIGNED
    )
    sso = boto3.client("sso", endpoint_url=endpoint, region_name="us-east-1", config=_UNSIGNED)
    one_time = _set_password(directory)
    registration = oidc.register_client(clientName="second", clientType="public")
    device = oidc.start_device_authorization(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        startUrl=directory.start_url,
    )
    browser = Browser()
    _, page, _ = browser.get(device["verificationUriComplete"])
    fields = {
        "user_code": device["userCode"],
        "username": "jdoe",
        "password": one_time,
        "new_password": "Another-Horse-43",
        "decision": "allow",
        "csrf": _csrf(page),
    }
    assert browser.post(device["verificationUri"], fields)[0] == 200
    tokens = oidc.create_token(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        grantType="urn:ietf:params:oauth:grant-type:device_code",
        deviceCode=device["deviceCode"],
    )
    access = tokens["accessToken"]
    assert sso.get_role_credentials(
        accessToken=access, accountId=directory.account, roleName="UserReaders"
    )["roleCredentials"]["accessKeyId"].startswith("ASIA")

    admin = directory.server.client("sso-admin")
    assignment = {
        "InstanceArn": directory.instance,
        "TargetId": directory.account,
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": directory.permission_set,
        "PrincipalType": "USER",
        "PrincipalId": directory.user,
    }
    admin.delete_account_assignment(**assignment)
    try:
        with pytest.raises(ClientError) as removed:
            sso.get_role_credentials(
                accessToken=access, accountId=directory.account, roleName="UserReaders"
            )
        assert _code_of(removed.value) == "ForbiddenException"
        assert sso.list_accounts(accessToken=access)["accountList"] == []
    finally:
        admin.create_account_assignment(**assignment)

    # A page token is bound to its list: one made up is refused.
    with pytest.raises(ClientError) as bad_token:
        sso.list_accounts(accessToken=access, nextToken="not-a-token")
    assert _code_of(bad_token.value) == "InvalidRequestException"

    sso.logout(accessToken=access)
    with pytest.raises(ClientError) as after:
        sso.list_accounts(accessToken=access)
    assert _code_of(after.value) == "UnauthorizedException"
    with pytest.raises(ClientError) as bogus:
        oidc.start_device_authorization(
            clientId=registration["clientId"],
            clientSecret="not-the-secret",
            startUrl=directory.start_url,
        )
    assert _code_of(bogus.value) == "InvalidClientException"

"""`iamd sso login` / `iamd sso logout` for boto3 and the AWS CLI v1: both flows against
a real server, the browser part done by Playwright on Debian's Chromium; then boto3's
own SSO credential provider, its token refresh and the CLI v1 take the cache from there.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support.browser import chromium
from tests.support.identity_center import (
    SsoUser,
    provision_sso_user,
    set_one_time_password,
    sso_client_env,
    sso_session_profile,
)
from tests.support.live_command import LiveCommand
from tests.support.servers import RunningServer, start_server
from tests.support.sso_sign_in import sign_in_on_page

# One server for the module; each test signs in as a user of its own, so the tests hold
# in any order and on any worker.
pytestmark = pytest.mark.slow

NEW_PASSWORD = "Correct-Horse-42"
_SIGN_IN_SIDE = {"CreateToken", "ListAccounts", "ListAccountRoles", "GetRoleCredentials", "Logout"}
_ROLE_ARN = r"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_UserReaders_[0-9a-f]{{16}}/jdoe"


@dataclass(frozen=True)
class Setup:
    server: RunningServer
    user: SsoUser
    home: Path
    env: dict[str, str]

    @property
    def cache(self) -> Path:
        return self.home / ".aws" / "sso" / "cache"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    home = tmp_path_factory.mktemp("iamd-sso-home")
    server = start_server(tmp_path_factory.mktemp("iamd-sso-login"), extra_args=["--audit-trail"])
    try:
        user = provision_sso_user(server)
        config = home / "config"
        config.write_text(
            sso_session_profile(user)
            # A legacy profile: the start URL in the profile itself (device flow only).
            + "\n[profile legacy]\n"
            f"sso_start_url = {user.start_url}\n"
            "sso_region = us-east-1\n"
            f"sso_account_id = {user.account}\n"
            "sso_role_name = UserReaders\n"
            "region = us-east-1\n"
            "\n[profile plain]\nregion = us-east-1\n"
        )
        env = sso_client_env(home, config, server.endpoint, with_python=True)
        yield Setup(server, user, home, env)
    finally:
        server.stop()


def _iamd(setup: Setup, *args: str) -> LiveCommand:
    return LiveCommand([sys.executable, "-m", "iamd", "sso", *args], setup.env)


def _boto3_caller(setup: Setup, profile: str) -> subprocess.CompletedProcess[str]:
    """A separate process with nothing but the configuration, as a user's script runs."""
    script = (
        "import boto3, json, sys\n"
        "s = boto3.Session(profile_name=sys.argv[1])\n"
        "who = s.client('sts').get_caller_identity()['Arn']\n"
        "users = [u['UserName'] for u in s.client('iam').list_users()['Users']]\n"
        "print(json.dumps([who, users]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, profile],
        env=setup.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _cached_token(setup: Setup, key: str) -> dict[str, str]:
    path = setup.cache / f"{hashlib.sha1(key.encode()).hexdigest()}.json"  # noqa: S324 - botocore's
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    token: dict[str, str] = json.loads(path.read_text())
    return token


def test_login_with_both_flows_then_boto3_refresh_cli_v1_and_logout(setup: Setup) -> None:
    account = setup.user.account
    with chromium() as browser:
        # The default flow: authorization code with PKCE to a loopback listener.
        login = _iamd(setup, "login", "--profile", "corp", "--no-browser")
        url = login.wait_for(r"(http://\S+/authorize\?\S+)").group(1)
        assert "code_challenge_method=S256" in url
        assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
        sign_in_on_page(browser, url, "jdoe", setup.user.one_time_password, NEW_PASSWORD)
        page = browser.pages[-1]
        assert "botocore-client-corp" in page.content()
        page.get_by_role("button", name="Allow access").click()
        page.wait_for_load_state()
        assert "Request approved" in page.content()
        code, output = login.finish()
        assert code == 0, output
        assert f"Successfully logged into Start URL: {setup.user.start_url}" in output

        token = _cached_token(setup, "corp")
        assert token["startUrl"] == setup.user.start_url
        assert {"accessToken", "refreshToken", "clientId", "clientSecret"} <= token.keys()
        # No secret on the terminal.
        for secret in (token["accessToken"], token["refreshToken"], token["clientSecret"]):
            assert secret not in output

        done = _boto3_caller(setup, "corp")
        assert done.returncode == 0, done.stderr
        who, users = json.loads(done.stdout)
        assert re.fullmatch(_ROLE_ARN.format(account=account), who)
        assert "admin" in users

        # boto3 refreshes a token about to expire with the refresh token the login cached.
        path = setup.cache / f"{hashlib.sha1(b'corp').hexdigest()}.json"  # noqa: S324
        path.write_text(json.dumps({**token, "expiresAt": "2020-01-01T00:00:00Z"}))
        done = _boto3_caller(setup, "corp")
        assert done.returncode == 0, done.stderr
        refreshed = _cached_token(setup, "corp")
        assert refreshed["accessToken"] != token["accessToken"]
        assert refreshed["refreshToken"] != token["refreshToken"]

        # The CLI v1 has no login command; it reads the same cache.
        v1 = subprocess.run(
            [str(Path(sys.executable).parent / "aws"), "sts", "get-caller-identity"],
            env={**setup.env, "AWS_PROFILE": "corp"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert v1.returncode == 0, v1.stderr
        assert re.fullmatch(_ROLE_ARN.format(account=account), json.loads(v1.stdout)["Arn"])

        # The device flow, with a legacy profile (the CLI v2 gives it no other).
        login = _iamd(setup, "login", "--profile", "legacy", "--no-browser")
        device_url = login.wait_for(r"(http://\S+/device\?user_code=[A-Z-]+)").group(1)
        sign_in_on_page(browser, device_url, "jdoe", NEW_PASSWORD)
        assert "Request approved" in browser.pages[-1].content()
        code, output = login.finish()
        assert code == 0, output
        legacy = _cached_token(setup, setup.user.start_url)
        assert "refreshToken" not in legacy  # botocore refreshes sso-session tokens only
        done = _boto3_caller(setup, "legacy")
        assert done.returncode == 0, done.stderr

    # A role that is not assigned: refused, and the refusal is in the trail.
    sso = boto3.client(
        "sso",
        endpoint_url=setup.server.endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )
    with pytest.raises(ClientError) as forbidden:
        sso.get_role_credentials(
            accessToken=refreshed["accessToken"], accountId=account, roleName="Admins"
        )
    assert forbidden.value.response["Error"]["Code"] == "ForbiddenException"

    logout = _iamd(setup, "logout")
    code, output = logout.finish()
    assert (code, output.strip()) == (0, "Removed 2 cached SSO tokens.")
    assert not any("accessToken" in f.read_text() for f in setup.cache.glob("*.json"))
    done = _boto3_caller(setup, "corp")
    assert done.returncode != 0
    assert "Token for corp does not exist" in done.stderr
    # Revoked at iamd too, not only removed from the disk.
    with pytest.raises(ClientError) as revoked:
        sso.list_accounts(accessToken=refreshed["accessToken"])
    assert revoked.value.response["Error"]["Code"] == "UnauthorizedException"

    _assert_the_trail_has_the_sign_ins(setup, [token, refreshed, legacy])


def _assert_the_trail_has_the_sign_ins(setup: Setup, tokens: list[dict[str, str]]) -> None:
    """Token issues and refreshes, role credentials, the refusal and the logouts, each on
    behalf of the Identity Center user, with no token or credential in any record."""
    trail = setup.server.client("cloudtrail")
    records = [
        json.loads(event["CloudTrailEvent"])
        for source in ("sso.amazonaws.com", "sso-oauth.amazonaws.com")
        for page in trail.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": source}]
        )
        for event in page["Events"]
        # sso-admin's calls (the administrator's) share the portal's event source; the
        # device flow's polls before the approval (authorization_pending) name no user.
        if event["EventName"] in _SIGN_IN_SIDE
        and not (
            event["EventName"] == "CreateToken"
            and json.loads(event["CloudTrailEvent"]).get("errorCode")
            in ("AuthorizationPendingException", "SlowDownException")
        )
    ]
    names = sorted(record["eventName"] for record in records)
    # Tokens: the authorization code, boto3's refresh, the device flow; role credentials
    # for boto3 before and after the refresh, the CLI v1 and the legacy profile.
    assert names.count("CreateToken") == 3, names
    assert names.count("GetRoleCredentials") >= 4, names
    assert names.count("Logout") == 2, names
    store_arn = f"arn:aws:identitystore::{setup.user.account}:identitystore/{setup.user.store}"
    for record in records:
        identity = record["userIdentity"]
        assert identity["type"] == "IdentityCenterUser"
        assert identity["onBehalfOf"] == {
            "userId": setup.user.user_id,
            "identityStoreArn": store_arn,
        }
        assert record["recipientAccountId"] == setup.user.account
        if record["eventName"] == "CreateToken":
            assert record["responseElements"] == {
                "accessToken": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "tokenType": "Bearer",
                "expiresIn": 28800,
                "refreshToken": "HIDDEN_DUE_TO_SECURITY_REASONS",
            }
        else:
            assert record["responseElements"] is None
    grants = sorted(
        r["requestParameters"]["grantType"] for r in records if r["eventName"] == "CreateToken"
    )
    assert grants == [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    refused = [r for r in records if r.get("errorCode") == "ForbiddenException"]
    assert [r["requestParameters"] for r in refused] == [
        {"accountId": setup.user.account, "roleName": "Admins"}
    ]
    # One sign-in is one credential: its refresh keeps the id, the device flow has its own.
    assert len({r["userIdentity"]["credentialId"] for r in records}) == 2
    # The sign-in pages' password checks: the one-time password (right, but to be
    # replaced), the new one, and the device flow's.
    sign_ins = [
        json.loads(event["CloudTrailEvent"])
        for event in trail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventSource", "AttributeValue": "signin.amazonaws.com"}
            ]
        )["Events"]
    ]
    outcomes = sorted((r["eventName"], r["serviceEventDetails"][r["eventName"]]) for r in sign_ins)
    assert outcomes == [
        ("CredentialVerification", "Success"),
        ("CredentialVerification", "Success"),
        ("CredentialVerification", "Success"),
        ("UserAuthentication", "Success"),
        ("UserAuthentication", "Success"),
    ]
    for record in sign_ins:
        assert record["eventType"] == "AwsServiceEvent"
        assert record["userIdentity"]["onBehalfOf"]["userId"] == setup.user.user_id
        assert record["userIdentity"]["userName"] == "jdoe"
    logins = {
        r["additionalEventData"]["LoginTo"].rsplit("/", 1)[-1]
        for r in sign_ins
        if r["eventName"] == "UserAuthentication"
    }
    assert logins == {"authorize", "device"}
    text = json.dumps(sign_ins)
    assert NEW_PASSWORD not in text
    assert setup.user.one_time_password not in text
    by_user = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "jdoe"}]
    )["Events"]
    assert {e["EventName"] for e in by_user} >= {"CreateToken", "GetRoleCredentials", "Logout"}
    text = json.dumps(records)
    for token in tokens:
        for secret in (token["accessToken"], token.get("refreshToken"), token.get("clientSecret")):
            if secret:
                assert secret not in text


def test_a_denied_request_and_profiles_that_cannot_log_in(setup: Setup) -> None:
    store = setup.user.store
    setup.server.client("identitystore").create_user(
        IdentityStoreId=store, UserName="asmith", DisplayName="A Smith"
    )
    one_time = set_one_time_password(setup.server, store, "asmith")
    with chromium() as browser:
        login = _iamd(setup, "login", "--profile", "corp", "--no-browser", "--use-device-code")
        device_url = login.wait_for(r"(http://\S+/device\?user_code=[A-Z-]+)").group(1)
        page = browser.new_page()
        page.goto(device_url)
        # A name that is no user (a password typed in the wrong box), then a wrong password.
        for name, password in (("Correct-Horse-43", "x"), ("asmith", "not-the-password")):
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", password)
            page.get_by_role("button", name="Allow").click()
            page.wait_for_load_state()
            assert "Incorrect user name or password." in page.content()
        page.fill("input[name=username]", "asmith")
        page.fill("input[name=password]", one_time)
        page.get_by_role("button", name="Allow").click()
        page.wait_for_selector("input[name=new_password]")
        page.fill("input[name=username]", "asmith")
        page.fill("input[name=password]", one_time)
        page.fill("input[name=new_password]", NEW_PASSWORD)
        page.get_by_role("button", name="Deny").click()
        page.wait_for_load_state()
        code, output = login.finish()
    assert code == 1, output
    assert "Error: The request was denied at the sign-in page." in output
    failures = [
        json.loads(event["CloudTrailEvent"])
        for event in setup.server.client("cloudtrail").lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "CredentialVerification"}
            ]
        )["Events"]
        if '"Failure"' in event["CloudTrailEvent"]
    ]
    names = sorted(r["userIdentity"]["userName"] for r in failures)
    # An unknown name is masked, as for a console sign-in; a known one is named.
    assert names == ["HIDDEN_DUE_TO_SECURITY_REASONS", "asmith"]
    assert "Correct-Horse-43" not in json.dumps(failures)

    code, output = _iamd(setup, "login", "--profile", "plain", "--no-browser").finish()
    assert code == 1
    assert "Missing the following required SSO configuration values: sso_start_url" in output
    code, output = _iamd(setup, "login", "--profile", "nobody", "--no-browser").finish()
    assert code == 1
    assert "The config profile (nobody) could not be found" in output

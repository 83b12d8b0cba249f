"""The AWS access portal page (`/start`) in Debian's Chromium driven by Playwright, on an
instance that requires MFA: the user names the start URL, signs in (one-time password
replaced, authenticator app registered from the page), sees both accounts assigned to
their group with their roles, takes a role's credentials from the page and uses them
with boto3 (GetCallerIdentity shows the AWSReservedSSO role), loses an account when its
assignment is removed, and signs out, after which the session cookie opens nothing. The
cookie's attributes, the page's CSP, a post without its CSRF token and the audit trail
are checked on the way."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page
from tests.support.browser import chromium
from tests.support.identity_center import SsoUser, provision_sso_user
from tests.support.organizations import new_account
from tests.support.servers import RunningServer, start_server
from tests.support.sso_mfa import current_code, qr_text, require_mfa, secret_of_uri

pytestmark = pytest.mark.slow

NEW_PASSWORD = "Correct-Horse-42"
ADMIN = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@dataclass(frozen=True)
class Setup:
    server: RunningServer
    user: SsoUser
    instance: str
    other_account: str
    admins: str
    group: str


def _new_account(server: RunningServer) -> str:
    organizations = server.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    return new_account(organizations, "prod@example.com", "production")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    server = start_server(tmp_path_factory.mktemp("iamd-portal"), extra_args=["--audit-trail"])
    try:
        user = provision_sso_user(server)
        instance = require_mfa(server)
        other = _new_account(server)
        admin = server.client("sso-admin")
        admins = admin.create_permission_set(InstanceArn=instance, Name="Admins")["PermissionSet"][
            "PermissionSetArn"
        ]
        admin.put_inline_policy_to_permission_set(
            InstanceArn=instance, PermissionSetArn=admins, InlinePolicy=ADMIN
        )
        group = server.client("identitystore").get_group_id(
            IdentityStoreId=user.store,
            AlternateIdentifier={
                "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "Engineers"}
            },
        )["GroupId"]
        status = admin.create_account_assignment(
            InstanceArn=instance,
            TargetId=other,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=admins,
            PrincipalType="GROUP",
            PrincipalId=group,
        )["AccountAssignmentCreationStatus"]
        assert status["Status"] == "SUCCEEDED", status
        yield Setup(server, user, instance, other, admins, group)
    finally:
        server.stop()


def _register_mfa(page: Page) -> None:
    rendered = qr_text(page.locator("img").screenshot())
    page.get_by_text("Show secret key").click()
    seed = page.locator("#mfa-secret").inner_text()
    assert secret_of_uri(rendered) == seed
    page.fill("input[name=code]", current_code(seed))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()


def _exports(text: str) -> dict[str, str]:
    return dict(re.findall(r'^export (AWS_[A-Z_]+)="([^"]+)"$', text, re.MULTILINE))


def _get_with_cookie(url: str, cookie: str) -> str:
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - own server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(response.read().decode())


def _post_with_cookie(url: str, cookie: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        url, data=body, headers={"Cookie": cookie}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_portal_sign_in_accounts_credentials_sign_out(setup: Setup) -> None:
    portal = f"{setup.server.endpoint}/start"
    with chromium() as browser:
        page = browser.new_page()
        answer = page.goto(portal)
        assert answer is not None
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "default-src 'none'" in policy
        assert "script-src" not in policy
        assert answer.headers["x-frame-options"] == "DENY"

        # The start URL names the instance; then the sign-in, as a person does it.
        page.fill("input[name=store]", setup.user.start_url)
        page.get_by_role("button", name="Continue").click()
        page.fill("input[name=username]", "jdoe")
        page.fill("input[name=password]", setup.user.one_time_password)
        page.get_by_role("button", name="Sign in").click()
        page.fill("input[name=username]", "jdoe")
        page.fill("input[name=password]", setup.user.one_time_password)
        page.fill("input[name=new_password]", NEW_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        _register_mfa(page)

        assert page.get_by_role("heading", name="AWS access portal").count() == 1
        assert "jdoe" in page.content()
        sections = page.locator("section.account")
        assert sections.count() == 2
        own = page.get_by_role("region", name=f"Account {setup.user.account}")
        other = page.get_by_role("region", name=f"Account {setup.other_account}")
        assert own.locator(".role").all_inner_texts() == ["UserReaders"]
        assert other.locator(".role").all_inner_texts() == ["Admins"]
        assert "production" in other.inner_text()
        assert "prod@example.com" in other.inner_text()

        cookies = {c["name"]: c for c in browser.cookies()}
        session = cookies["iamd_sso_portal"]
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Strict"
        assert session["path"] == "/start"
        session_cookie = f"iamd_sso_portal={session['value']}"

        # A role's credentials, ready to copy, and usable at once.
        own.get_by_role("button", name=re.compile("Access keys")).click()
        page.wait_for_load_state()
        exported = _exports(page.locator("#bash").inner_text())
        assert set(exported) == {
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        }
        powershell = page.locator("#powershell").inner_text()
        assert f'$Env:AWS_ACCESS_KEY_ID="{exported["AWS_ACCESS_KEY_ID"]}"' in powershell
        profile = page.locator("#credentials-file").inner_text()
        assert profile.startswith(f"[{setup.user.account}_UserReaders]\n")
        assert f"aws_session_token={exported['AWS_SESSION_TOKEN']}" in profile
        sts = boto3.client(
            "sts",
            endpoint_url=setup.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=exported["AWS_SESSION_TOKEN"],
        )
        assert re.fullmatch(
            rf"arn:aws:sts::{setup.user.account}:assumed-role/"
            r"AWSReservedSSO_UserReaders_[0-9a-f]{16}/jdoe",
            sts.get_caller_identity()["Arn"],
        )

        # A post without its CSRF token gets no credentials.
        status, body = _post_with_cookie(
            portal,
            session_cookie,
            f"step=credentials&account_id={setup.user.account}&role_name=UserReaders".encode(),
        )
        assert status == 403
        assert "AWS_SECRET_ACCESS_KEY" not in body

        # A removed assignment: the account is gone from the page.
        setup.server.client("sso-admin").delete_account_assignment(
            InstanceArn=setup.instance,
            TargetId=setup.other_account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=setup.admins,
            PrincipalType="GROUP",
            PrincipalId=setup.group,
        )
        page.goto(portal)
        assert page.locator("section.account").count() == 1
        assert setup.other_account not in page.content()

        # Sign-out: the session is gone, and its cookie opens nothing any more.
        assert "UserReaders" in _get_with_cookie(portal, session_cookie)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()
        assert "You are signed out" in page.content()
        assert "iamd_sso_portal" not in {c["name"] for c in browser.cookies()}
        after = _get_with_cookie(portal, session_cookie)
        assert "UserReaders" not in after
        assert "Start URL or identity store id" in after
        page.goto(portal)
        assert page.locator("section.account").count() == 0

    events = _portal_events(setup)
    issued = [e for e in events if e["eventName"] == "GetRoleCredentials"]
    assert len(issued) == 1
    assert issued[0]["userIdentity"]["type"] == "IdentityCenterUser"
    assert issued[0]["requestParameters"] == {
        "accountId": setup.user.account,
        "roleName": "UserReaders",
    }
    assert exported["AWS_SECRET_ACCESS_KEY"] not in json.dumps(events)
    assert "Logout" in {e["eventName"] for e in events}


def _portal_events(setup: Setup) -> list[dict[str, Any]]:
    trail = setup.server.client("cloudtrail")
    return [
        json.loads(event["CloudTrailEvent"])
        for event in trail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventSource", "AttributeValue": "sso.amazonaws.com"}
            ]
        )["Events"]
    ]

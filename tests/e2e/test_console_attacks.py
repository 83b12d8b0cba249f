"""The web console against bad input and attacks, in Debian's Chromium against a real
iamd process: each gets a clear message on the page, changes nothing, and runs no
script. Also: the MFA condition of the guide's policy, the forced password change, the
password policy on the page, the session's idle timeout and its cookie over TLS."""

from __future__ import annotations

import http.cookiejar
import re
import ssl
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, FilePayload
from tests.e2e.test_console import (
    ACCOUNT,
    ARTIFACTS,
    GUIDE_COMBINED,
    PASSWORD,
    SELF_MFA,
    Console,
    _scripts_ran,
    _settled_now,
    _shot,
    _sign_in,
    _user,
)
from tests.support.browser import chromium
from tests.support.certificates import issue
from tests.support.clock import ServerClock
from tests.support.servers import start_server
from tests.support.totp import code_at

pytestmark = pytest.mark.slow

# No digit: as a new password it breaks the policy (RequireNumbers).
SCRIPT = "<script>window.__iamd_pwned=true</script>"
MFA_FOR_KEYS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ManageOwnAccessKeysWithMFA",
            "Effect": "Allow",
            "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey"],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        },
        {
            "Sid": "ListOwnSSHKeysWithinHalfAnHourOfMFA",
            "Effect": "Allow",
            "Action": "iam:ListSSHPublicKeys",
            "Resource": "arn:aws:iam::*:user/${aws:username}",
            "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "1800"}},
        },
        {
            "Sid": "ListOwnAccessKeys",
            "Effect": "Allow",
            "Action": ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
    ],
}


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> ServerClock:
    return ServerClock(tmp_path_factory.mktemp("console-clock") / "clock")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, clock: ServerClock) -> Iterator[Console]:
    clock.set_offset(0)
    server = start_server(
        tmp_path_factory.mktemp("iamd-console-attacks"),
        extra_args=["--audit-trail"],
        test_clock_file=clock.path,
    )
    try:
        iam = server.client("iam")
        iam.update_account_password_policy(
            MinimumPasswordLength=14, RequireNumbers=True, AllowUsersToChangePassword=True
        )
        for name in ("adoe", "bdoe", "cdoe", "ddoe", "edoe", "idoe", "ndoe"):
            _user(iam, name, ("SelfManage", GUIDE_COMBINED), ("SelfManageMFA", SELF_MFA))
        _user(iam, "mdoe", ("SelfManageMFA", SELF_MFA), ("KeysWithMFA", MFA_FOR_KEYS))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield Console(server)
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[BrowserContext]:
    with chromium() as context:
        yield context


def _assign_mfa(console: Console, user: str, clock: ServerClock) -> str:
    """A virtual MFA device enabled for `user` by the administrator; its seed."""
    iam = console.server.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    seed = str(device["Base32StringSeed"].decode())
    now = _settled_now() + clock.offset
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=code_at(seed, now - 60),
        AuthenticationCode2=code_at(seed, now - 30),
    )
    return seed


def _keys(console: Console, user: str) -> list[str]:
    listed = console.server.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return [key["AccessKeyId"] for key in listed]


def test_wrong_password_and_script_in_the_sign_in_form(
    console: Console, browser: BrowserContext
) -> None:
    page = browser.new_page()
    _sign_in(page, console, "adoe", "Not-the-passw0rd")
    assert (
        "Your authentication information is incorrect." in page.locator("[role=alert]").inner_text()
    )
    assert "iamd-console" not in {c["name"] for c in browser.cookies()}
    _shot(page, "10-wrong-password")
    page.goto(console.url)
    page.get_by_label("Account ID (12 digits) or account alias").fill(ACCOUNT)
    page.get_by_label("IAM user name").fill('"><' + SCRIPT[1:])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "Enter the account ID or alias" in page.locator("[role=alert]").inner_text()
    # Shown back as typed, as text, never as markup.
    assert page.get_by_label("IAM user name").input_value() == '"><' + SCRIPT[1:]
    assert _scripts_ran(page) is None


def test_wrong_mfa_code_then_the_mfa_condition_of_the_guide(
    console: Console, browser: BrowserContext, clock: ServerClock
) -> None:
    seed = _assign_mfa(console, "mdoe", clock)
    page = browser.new_page()
    _sign_in(page, console, "mdoe")
    code = page.get_by_label("MFA code from your authenticator app")
    now = _settled_now() + clock.offset
    wrong = next(
        c
        for c in ("000000", "111111", "222222")
        if c not in {code_at(seed, now + d) for d in (-30, 0, 30)}
    )
    code.fill(wrong)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()
    assert "The MFA code is not valid." in page.locator("[role=alert]").inner_text()
    assert "iamd-console" not in {c["name"] for c in browser.cookies()}
    _shot(page, "11-wrong-mfa-code")
    page.get_by_label("MFA code from your authenticator app").fill(
        code_at(seed, _settled_now() + clock.offset)
    )
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()
    assert page.url == console.page_url
    page.get_by_role("button", name="Create access key").click()
    page.wait_for_load_state()
    assert page.locator("#new-access-key-id").inner_text() in _keys(console, "mdoe")
    # aws:MultiFactorAuthAge grows with the session: allowed now, refused half an hour on.
    assert "No SSH public keys." in page.locator("#ssh-keys").inner_text()
    clock.set_offset(clock.offset + 1801)
    try:
        page.goto(console.page_url)
        assert "iam:ListSSHPublicKeys" in page.locator("#ssh-keys .denied").inner_text()
    finally:
        clock.set_offset(0)

    # Signed in without MFA (the device removed by the administrator), the same policy
    # refuses the key.
    iam = console.server.client("iam")
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/mdoe"
    iam.deactivate_mfa_device(UserName="mdoe", SerialNumber=serial)
    other = browser.new_page()
    browser.clear_cookies()
    _sign_in(other, console, "mdoe")
    assert other.url == console.page_url
    before = _keys(console, "mdoe")
    other.get_by_role("button", name="Create access key").click()
    other.wait_for_load_state()
    problem = other.locator("#problem").inner_text()
    assert (
        f"User: arn:aws:iam::{ACCOUNT}:user/mdoe is not authorized to perform: "
        "iam:CreateAccessKey" in problem
    )
    assert _keys(console, "mdoe") == before
    _shot(other, "12-mfa-required-for-keys")


def test_tampered_cookie_and_missing_csrf_change_nothing(
    console: Console, browser: BrowserContext
) -> None:
    page = browser.new_page()
    _sign_in(page, console, "bdoe")
    # A form posted without its token (as another site's page would): refused.
    answer = page.request.post(console.page_url, form={"action": "create-access-key"})
    assert answer.status == 403
    assert "The form expired or did not come from this page." in answer.text()
    assert _keys(console, "bdoe") == []
    # The session cookie, changed: no session.
    cookie = next(c for c in browser.cookies() if c["name"] == "iamd-console")
    value = cookie["value"]
    cookie["value"] = ("A" if value[0] != "A" else "B") + value[1:]
    browser.add_cookies([cookie])  # type: ignore[list-item]
    page.goto(console.page_url)
    assert "Your session has ended. Sign in again." in page.locator("[role=alert]").inner_text()
    _shot(page, "13-session-ended")


def test_bad_uploads_and_script_in_text_fields(console: Console, browser: BrowserContext) -> None:
    page = browser.new_page()
    _sign_in(page, console, "cdoe")
    page.locator("#key_text").fill("this is not an SSH public key " + SCRIPT)
    page.get_by_role("button", name="Upload SSH public key").click()
    page.wait_for_load_state()
    problem = page.locator("#problem").inner_text()
    assert "public key" in problem.lower()
    assert console.server.client("iam").list_ssh_public_keys(UserName="cdoe")["SSHPublicKeys"] == []
    assert _scripts_ran(page) is None
    _shot(page, "14-not-a-key")

    page.set_input_files(
        "#key_file",
        files=FilePayload(
            name="huge.pub", mimeType="text/plain", buffer=b"ssh-ed25519 " + b"A" * 200_000
        ),
    )
    page.get_by_role("button", name="Upload SSH public key").click()
    page.wait_for_load_state()
    assert "The form is too large" in page.locator("[role=alert]").inner_text()
    assert console.server.client("iam").list_ssh_public_keys(UserName="cdoe")["SSHPublicKeys"] == []

    page.goto(console.page_url)
    page.locator("#old_password").fill(PASSWORD)
    page.locator("#new_password").fill(SCRIPT)
    page.locator("#confirm_password").fill(SCRIPT)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    assert "At least 14 characters." in page.locator("#password-rules").inner_text()
    assert "password" in page.locator("#problem").inner_text().lower()
    assert _scripts_ran(page) is None
    # The old password still signs in.
    browser.clear_cookies()
    _sign_in(page, console, "cdoe")
    assert page.url == console.page_url


def test_password_change_on_the_page_and_forced_at_sign_in(
    console: Console, browser: BrowserContext
) -> None:
    page = browser.new_page()
    _sign_in(page, console, "edoe")
    page.locator("#old_password").fill(PASSWORD)
    page.locator("#new_password").fill("Another-Passw0rd-1")
    page.locator("#confirm_password").fill("Another-Passw0rd-2")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    assert "The new passwords do not match." in page.locator("#problem").inner_text()
    page.locator("#old_password").fill(PASSWORD)
    page.locator("#new_password").fill("Another-Passw0rd-1")
    page.locator("#confirm_password").fill("Another-Passw0rd-1")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    assert "Your password was changed." in page.locator("#done").inner_text()

    iam = console.server.client("iam")
    iam.update_login_profile(UserName="edoe", Password=PASSWORD, PasswordResetRequired=True)
    browser.clear_cookies()
    _sign_in(page, console, "edoe")
    assert "You must change your password" in page.locator("[role=alert]").inner_text()
    _shot(page, "15-forced-password-change")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("short-1")
    page.get_by_label("Retype new password").fill("short-1")
    page.get_by_role("button", name="Confirm password change").click()
    page.wait_for_load_state()
    assert (
        "does not meet the account's password policy" in page.locator("[role=alert]").inner_text()
    )
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("Brand-New-Passw0rd")
    page.get_by_label("Retype new password").fill("Brand-New-Passw0rd")
    page.get_by_role("button", name="Confirm password change").click()
    page.wait_for_load_state()
    assert page.url == console.page_url
    assert iam.get_login_profile(UserName="edoe")["LoginProfile"]["PasswordResetRequired"] is False


def test_a_deleted_user_a_deleted_password_and_an_idle_session_are_signed_out(
    console: Console, browser: BrowserContext, clock: ServerClock
) -> None:
    page = browser.new_page()
    _sign_in(page, console, "ddoe")
    iam = console.server.client("iam")
    iam.delete_login_profile(UserName="ddoe")
    for name in ("SelfManage", "SelfManageMFA"):
        iam.delete_user_policy(UserName="ddoe", PolicyName=name)
    iam.delete_user(UserName="ddoe")
    page.goto(console.page_url)
    assert "Your session has ended. Sign in again." in page.locator("[role=alert]").inner_text()

    # Console access removed (the password deleted): the session ends too.
    browser.clear_cookies()
    _sign_in(page, console, "ndoe")
    assert page.url == console.page_url
    iam.delete_login_profile(UserName="ndoe")
    page.goto(console.page_url)
    assert "Your session has ended. Sign in again." in page.locator("[role=alert]").inner_text()

    other = browser.new_page()
    browser.clear_cookies()
    _sign_in(other, console, "idoe")
    assert other.url == console.page_url
    clock.set_offset(clock.offset + 3601)
    try:
        other.goto(console.page_url)
        assert "Your session has ended." in other.locator("[role=alert]").inner_text()
    finally:
        clock.set_offset(0)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_the_session_cookie_over_tls(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", tls=True)
    try:
        iam = server.client("iam")
        _user(iam, "tdoe", ("SelfManage", GUIDE_COMBINED))
        assert server.ca_bundle is not None
        context = ssl.create_default_context(cafile=str(server.ca_bundle))
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(jar),
            _NoRedirect(),
        )
        with opener.open(f"{server.endpoint}/console", timeout=30) as answer:
            page = answer.read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "account": ACCOUNT, "username": "tdoe", "password": PASSWORD}

        request = urllib.request.Request(  # noqa: S310 - the test's own server
            f"{server.endpoint}/console/signin",
            data=urllib.parse.urlencode(form).encode(),
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as redirected:
            opener.open(request, timeout=30)
        assert redirected.value.code == 303
        cookie = redirected.value.headers["Set-Cookie"]
        assert cookie.startswith("__Host-iamd-console=")
        assert "; Path=/; HttpOnly; SameSite=Strict; Secure" in cookie
        assert PASSWORD not in server.log_text()
    finally:
        server.stop()


def test_the_credential_report_marks_old_and_unused_keys(
    console: Console, browser: BrowserContext, clock: ServerClock
) -> None:
    iam = console.server.client("iam")
    iam.create_login_profile(UserName="admin", Password=PASSWORD, PasswordResetRequired=False)
    iam.create_user(UserName="olddoe")
    old_key = iam.create_access_key(UserName="olddoe")["AccessKey"]
    clock.set_offset(100 * 86400)
    try:
        page = browser.new_page()
        _sign_in(page, console, "admin")
        # A key made now (signed requests would be outside the clock skew window).
        page.get_by_role("button", name="Create access key").click()
        page.wait_for_load_state()
        page.get_by_role("link", name="Credential report").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Generate report").click()
        page.wait_for_load_state()
        for _ in range(50):
            if page.locator("#report").count():
                break
            page.wait_for_timeout(200)
            page.goto(f"{console.url}/credential-report")
        old = page.locator("#report-olddoe").inner_text()
        assert "Key 1: active, 100 days old, last used never" in old
        assert "(older than 90 days)" in old
        assert "(never used)" in old
        admin = page.locator("#report-admin").inner_text()
        assert "Key 2: active, 0 days old, last used never (never used)" in admin
        assert "Key 1: active, 100 days old, last used 2026-" in admin
        ages = page.locator("#key-ages").inner_text()
        assert "under 30 days" in ages
        assert "90 to 179 days" in ages
        _shot(page, "16-credential-report")
        assert old_key["AccessKeyId"] not in page.content()
    finally:
        clock.set_offset(0)
    # Without the report's actions, AccessDenied in its place.
    other = browser.new_page()
    browser.clear_cookies()
    _sign_in(other, console, "adoe")
    other.goto(f"{console.url}/credential-report")
    assert "iam:GetCredentialReport" in other.locator("#report-denied").inner_text()


def test_a_session_outlives_a_restart_and_ends_at_sign_out(tmp_path: Path) -> None:
    first = start_server(tmp_path / "data")
    try:
        _user(first.client("iam"), "rdoe", ("SelfManage", GUIDE_COMBINED))
        with chromium() as context:
            page = context.new_page()
            _sign_in(page, Console(first), "rdoe")
            assert page.url == Console(first).page_url
            first.stop()
            # Sessions are rows of the database: the next process (here on another port;
            # cookies do not name a port) knows them.
            second = start_server(tmp_path / "data")
            try:
                page.goto(Console(second).page_url)
                assert "rdoe @ 123456789012" in page.locator("header").inner_text()
                cookie = next(c for c in context.cookies() if c["name"] == "iamd-console")
                page.get_by_role("button", name="Sign out").click()
                page.wait_for_load_state()
                context.add_cookies([cookie])  # type: ignore[list-item]
                page.goto(Console(second).page_url)
                assert "Your session has ended." in page.locator("[role=alert]").inner_text()
            finally:
                second.stop()
    finally:
        first.stop()


SELF_GIT_AND_CERTIFICATES: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:CreateServiceSpecificCredential",
                "iam:ListServiceSpecificCredentials",
                "iam:ResetServiceSpecificCredential",
                "iam:UpdateServiceSpecificCredential",
                "iam:DeleteServiceSpecificCredential",
                "iam:UploadSigningCertificate",
                "iam:ListSigningCertificates",
                "iam:UpdateSigningCertificate",
                "iam:DeleteSigningCertificate",
            ],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
        {"Effect": "Allow", "Action": "codecommit:GitPull", "Resource": "*"},
    ],
}


def test_https_git_credentials_and_signing_certificates(
    console: Console, browser: BrowserContext, tmp_path: Path
) -> None:
    _user(console.server.client("iam"), "gdoe", ("SelfGit", SELF_GIT_AND_CERTIFICATES))
    url = console.server.client("codecommit").create_repository(repositoryName="https-repo")[
        "repositoryMetadata"
    ]["cloneUrlHttp"]
    page = browser.new_page()
    _sign_in(page, console, "gdoe")
    page.get_by_role("button", name="Generate credentials").click()
    page.wait_for_load_state()
    user = page.locator("#git-user-name").inner_text()
    password = page.locator("#git-password").inner_text()
    assert user.startswith("gdoe-at-")
    env = {"HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    with_password = url.replace(
        "http://",
        f"http://{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}@",
    )
    cloned = subprocess.run(
        ["git", "clone", with_password, "work"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert cloned.returncode == 0, cloned.stderr
    page.goto(console.page_url)
    assert password not in page.content()
    section = page.locator("#git-credentials")
    section.get_by_role("button", name="Reset password").click()
    page.wait_for_load_state()
    assert page.locator("#git-password").inner_text() != password
    page.locator("#git-credentials").get_by_role("button", name=re.compile("^Deactivate")).click()
    page.wait_for_load_state()
    assert "Inactive" in page.locator("#git-credentials").inner_text()
    page.locator("#git-credentials").get_by_role("button", name=re.compile("^Delete")).click()
    page.wait_for_load_state()
    assert "No HTTPS Git credentials." in page.locator("#git-credentials").inner_text()

    page.locator("#certificate").fill(
        "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----"
    )
    page.get_by_role("button", name="Upload certificate").click()
    page.wait_for_load_state()
    assert page.locator("#problem").inner_text()
    assert "No signing certificates." in page.locator("#certificates").inner_text()
    page.locator("#certificate").fill(issue("gdoe").pem)
    page.get_by_role("button", name="Upload certificate").click()
    page.wait_for_load_state()
    assert "Signing certificate" in page.locator("#done").inner_text()
    _shot(page, "17-git-credentials-and-certificates")
    page.locator("#certificates").get_by_role("button", name=re.compile("^Deactivate")).click()
    page.wait_for_load_state()
    assert "Inactive" in page.locator("#certificates").inner_text()
    page.locator("#certificates").get_by_role("button", name=re.compile("^Delete")).click()
    page.wait_for_load_state()
    assert "No signing certificates." in page.locator("#certificates").inner_text()


def test_signing_in_with_the_account_alias_and_an_expired_password(
    console: Console, browser: BrowserContext, clock: ServerClock
) -> None:
    iam = console.server.client("iam")
    _user(iam, "xdoe", ("SelfManage", GUIDE_COMBINED))
    iam.create_account_alias(AccountAlias="console-corp")
    try:
        page = browser.new_page()
        page.goto(console.url)
        page.get_by_label("Account ID (12 digits) or account alias").fill("console-corp")
        page.get_by_label("IAM user name").fill("xdoe")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        with page.expect_navigation(url=console.page_url):
            page.get_by_role("button", name="Sign in").click()
        browser.clear_cookies()

        iam.update_account_password_policy(
            MinimumPasswordLength=14,
            RequireNumbers=True,
            AllowUsersToChangePassword=True,
            MaxPasswordAge=1,
        )
        clock.set_offset(2 * 86400)
        try:
            _sign_in(page, console, "xdoe")
            assert "Your password has expired." in page.locator("[role=alert]").inner_text()
            page.get_by_label("Current password").fill(PASSWORD)
            page.get_by_label("New password", exact=True).fill("Renewed-Passw0rd-1")
            page.get_by_label("Retype new password").fill("Renewed-Passw0rd-1")
            with page.expect_navigation(url=console.page_url):
                page.get_by_role("button", name="Confirm password change").click()
        finally:
            clock.set_offset(0)
            iam.update_account_password_policy(
                MinimumPasswordLength=14, RequireNumbers=True, AllowUsersToChangePassword=True
            )
    finally:
        iam.delete_account_alias(AccountAlias="console-corp")

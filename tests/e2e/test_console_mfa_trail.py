"""A console sign-in that stops at the MFA step, in the audit trail as CloudTrail has it:
the right password of a user with an MFA device is a `CheckMfa` event (Success,
MfaType "Virtual MFA"), and the `ConsoleLogin` comes only with the code (a wrong code is
a Failure with MFAUsed "Yes"). A sign-in abandoned at the code leaves its CheckMfa and no
ConsoleLogin. Driven in Chromium by Playwright; read back with boto3's cloudtrail."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.support.browser import chromium
from tests.support.servers import RunningServer, start_server
from tests.support.totp import code_at
from tests.support.trail_store import assert_no_secret_stored

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
PASSWORD = "Console-Passw0rd!"


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("iamd-console-mfa"), extra_args=["--audit-trail"]
    )
    try:
        yield running
    finally:
        running.stop()


def _settled_now() -> float:
    """Now, at least five seconds from the next 30-second TOTP step."""
    now = time.time()
    if now % 30 > 25:
        time.sleep(30 - now % 30 + 0.5)
        now = time.time()
    return now


def _sign_in(page: Page, server: RunningServer, password: str) -> None:
    page.goto(f"{server.endpoint}/console")
    page.get_by_label("Account ID (12 digits) or account alias").fill(ACCOUNT)
    page.get_by_label("IAM user name").fill("jdoe")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _events(server: RunningServer, name: str) -> list[dict[str, Any]]:
    trail = server.client("cloudtrail")
    found = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]
    )["Events"]
    # LookupEvents answers newest first (by time, then by the time-ordered event id).
    return [json.loads(e["CloudTrailEvent"]) for e in reversed(found)]


def test_a_sign_in_left_at_the_mfa_step_is_a_check_mfa_only(server: RunningServer) -> None:
    iam = server.client("iam")
    user_id = iam.create_user(UserName="jdoe")["User"]["UserId"]
    iam.create_login_profile(UserName="jdoe", Password=PASSWORD, PasswordResetRequired=False)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="jdoe")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = _settled_now()
    iam.enable_mfa_device(
        UserName="jdoe",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=code_at(seed, now - 60),
        AuthenticationCode2=code_at(seed, now - 30),
    )

    with chromium() as browser:
        # A wrong password: a ConsoleLogin Failure, no MFA check.
        page = browser.new_page()
        _sign_in(page, server, "not-the-password-1")
        assert "MFA code" not in page.content()
        # The right password, then the code is never given: the page is left.
        _sign_in(page, server, PASSWORD)
        assert page.get_by_label("MFA code from your authenticator app").is_visible()
        page.close()
        checks = _events(server, "CheckMfa")
        assert len(checks) == 1
        assert [r["responseElements"] for r in _events(server, "ConsoleLogin")] == [
            {"ConsoleLogin": "Failure"}
        ]

        # Again, with a wrong code, then the right one.
        page = browser.new_page()
        _sign_in(page, server, PASSWORD)
        wrong = str((int(code_at(seed, _settled_now())) + 1) % 1_000_000).zfill(6)
        page.get_by_label("MFA code from your authenticator app").fill(wrong)
        page.get_by_role("button", name="Submit").click()
        page.wait_for_load_state()
        assert "The MFA code is not valid" in page.content()
        page.get_by_label("MFA code from your authenticator app").fill(
            code_at(seed, _settled_now())
        )
        page.get_by_role("button", name="Submit").click()
        page.wait_for_load_state()
        assert "(MFA)" in page.locator("header").inner_text()

    checks = _events(server, "CheckMfa")
    assert len(checks) == 2  # the abandoned sign-in's and the last one's
    for check in checks:
        assert check["eventSource"] == "signin.amazonaws.com"
        assert check["eventType"] == "AwsConsoleSignIn"
        assert check["userIdentity"] == {
            "type": "IAMUser",
            "principalId": user_id,
            "accountId": ACCOUNT,
            "accessKeyId": "",
            "userName": "jdoe",
        }
        assert check["responseElements"] == {"CheckMfa": "Success"}
        assert check["additionalEventData"] == {"MfaType": "Virtual MFA"}
        assert check["requestParameters"] is None
    logins = _events(server, "ConsoleLogin")
    outcomes = [
        (r["responseElements"]["ConsoleLogin"], r["additionalEventData"]["MFAUsed"]) for r in logins
    ]
    # The wrong password, the wrong code, the right code; none for the abandoned one.
    assert outcomes == [("Failure", "No"), ("Failure", "Yes"), ("Success", "Yes")]
    assert logins[1]["errorMessage"] == "Failed authentication"
    # Each ConsoleLogin with a code follows its CheckMfa.
    assert checks[1]["eventTime"] <= logins[1]["eventTime"]

    assert_no_secret_stored(server, [PASSWORD, "not-the-password-1", seed])

"""What one `aws sso login` of the real AWS CLI v2 leaves in the audit trail, both
flows (the browser part done by Playwright on Debian's Chromium): the OAuth service's
calls and the sign-in page's steps, found with `aws cloudtrail lookup-events` run by the
same CLI, and no token, client secret, code or password anywhere in the stored trail."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.aws_cli_v2 import aws_cli_v2
from tests.support.browser import chromium
from tests.support.identity_center import (
    SsoUser,
    provision_sso_user,
    sso_client_env,
    sso_session_profile,
)
from tests.support.live_command import LiveCommand
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server
from tests.support.sso_sign_in import sign_in_on_page
from tests.support.trail_store import assert_no_secret_stored

pytestmark = pytest.mark.slow

NEW_PASSWORD = "Correct-Horse-42"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
#: The sign-in's events: the OAuth service's, CreateToken's and the sign-in page's.
_SOURCES = ("sso-oauth.amazonaws.com", "signin.amazonaws.com")


@dataclass(frozen=True)
class Setup:
    server: RunningServer
    aws: Path
    user: SsoUser
    env: dict[str, str]
    admin_env: dict[str, str]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    aws = aws_cli_v2()
    home = tmp_path_factory.mktemp("cli-v2-trail-home")
    server = start_server(tmp_path_factory.mktemp("iamd-sso-trail"), extra_args=["--audit-trail"])
    try:
        user = provision_sso_user(server)
        config = home / "config"
        config.write_text(sso_session_profile(user))
        env = sso_client_env(home, config, server.endpoint)
        admin_env = {
            **env,
            "AWS_ACCESS_KEY_ID": ADMIN_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "no-config"),
        }
        yield Setup(server, aws, user, env, admin_env)
    finally:
        server.stop()


def _lookup(setup: Setup, key: str, value: str) -> list[dict[str, Any]]:
    """`aws cloudtrail lookup-events` as the administrator, every page."""
    done = subprocess.run(
        [
            str(setup.aws),
            *("cloudtrail", "lookup-events", "--output", "json"),
            *("--lookup-attributes", f"AttributeKey={key},AttributeValue={value}"),
        ],
        env=setup.admin_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(e["CloudTrailEvent"]) for e in json.loads(done.stdout)["Events"]]


def _sign_in_events(setup: Setup) -> list[dict[str, Any]]:
    events = [r for source in _SOURCES for r in _lookup(setup, "EventSource", source)]
    return events + _lookup(setup, "EventName", "CreateToken")


def _new(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {r["eventID"] for r in before}
    return [r for r in after if r["eventID"] not in seen]


def _names(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted(
        (
            r["eventName"],
            r.get("errorCode") or r.get("serviceEventDetails", {}).get(r["eventName"], "ok"),
        )
        for r in events
    )


def test_one_sso_login_per_flow_in_the_trail(setup: Setup) -> None:
    secrets = [setup.user.one_time_password, NEW_PASSWORD]
    with chromium() as browser:
        before = _sign_in_events(setup)
        login = LiveCommand(
            [str(setup.aws), "sso", "login", "--profile", "corp", "--no-browser"], setup.env
        )
        url = login.wait_for(r"(http://\S+/authorize\?\S+)").group(1)
        sign_in_on_page(browser, url, "jdoe", setup.user.one_time_password, NEW_PASSWORD)
        page = browser.pages[-1]
        with page.expect_navigation(
            url=re.compile(r"^http://127\.0\.0\.1:\d+/oauth/callback")
        ) as navigation:
            page.get_by_role("button", name="Allow access").click()
        code, output = login.finish()
        assert code == 0, output
        callback = navigation.value.url
        found = re.search(r"[?&]code=([^&]+)", callback)
        assert found is not None, callback
        secrets.append(found.group(1))
        after_code = _sign_in_events(setup)

        device_login = ["sso", "login", "--profile", "corp", "--use-device-code", "--no-browser"]
        login = LiveCommand([str(setup.aws), *device_login], setup.env)
        found_url = login.wait_for(r"(http://\S+/device\?user_code=([A-Z-]+))")
        secrets.append(found_url.group(2))
        sign_in_on_page(browser, found_url.group(1), "jdoe", NEW_PASSWORD)
        assert "Request approved" in browser.pages[-1].content()
        code, output = login.finish()
        assert code == 0, output
        after_device = _sign_in_events(setup)

    code_flow = _new(before, after_code)
    device_flow = _new(after_code, after_device)
    print(f"authorization-code login: {len(code_flow)} events: {_names(code_flow)}")
    print(f"device-code login: {len(device_flow)} events: {_names(device_flow)}")

    # The default flow: the CLI registers a client for its start URL (RegisterClient),
    # the /authorize page checks the one-time password, then the new one, and the
    # authorization code becomes tokens (one CreateToken).
    assert _names(code_flow) == [
        ("CreateToken", "ok"),
        ("CredentialVerification", "Success"),
        ("CredentialVerification", "Success"),
        ("RegisterClient", "ok"),
        ("UserAuthentication", "Success"),
    ]
    token = next(r for r in code_flow if r["eventName"] == "CreateToken")
    assert token["requestParameters"]["grantType"] == "authorization_code"
    assert token["requestParameters"]["code"] == HIDDEN
    assert token["requestParameters"]["codeVerifier"] == HIDDEN
    assert token["requestParameters"]["redirectUri"].startswith("http://127.0.0.1:")
    assert token["userIdentity"]["onBehalfOf"]["userId"] == setup.user.user_id
    assert token["userAgent"].startswith("aws-cli/2.")

    # The device flow: its registration names no instance (not recorded), then
    # StartDeviceAuthorization, the CLI's polls until the user allows (each one
    # authorization_pending, as AWS records them), the sign-in and the tokens.
    names = _names(device_flow)
    pending = names.count(("CreateToken", "AuthorizationPendingException"))
    assert pending >= 1, names
    rest = [n for n in names if n[1] not in ("AuthorizationPendingException", "SlowDownException")]
    assert rest == [
        ("CreateToken", "ok"),
        ("CredentialVerification", "Success"),
        ("StartDeviceAuthorization", "ok"),
        ("UserAuthentication", "Success"),
    ]
    for record in code_flow + device_flow:
        assert record["recipientAccountId"] == setup.user.account

    home = Path(setup.env["HOME"])
    for cached in (home / ".aws" / "sso" / "cache").glob("*.json"):
        document = json.loads(cached.read_text())
        for key in ("accessToken", "refreshToken", "clientSecret"):
            if document.get(key):
                secrets.append(document[key])
    assert len(secrets) >= 7, "the CLI's cache holds the tokens and registrations"
    assert_no_secret_stored(setup.server, secrets)

"""`aws sso login` with the real AWS CLI v2, both flows, the browser part done by
Playwright on Debian's Chromium against iamd's own pages: sign in, consent, and the
redirect that lands on the CLI's loopback listener (the default authorization-code flow
with PKCE), or the device page (`--use-device-code`). Then `aws sts get-caller-identity`
shows the Identity Center role, and after `aws sso logout` the CLI asks for a new login.
Only configuration points the CLI at iamd: the profile and AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext
from tests.support.browser import chromium
from tests.support.live_command import LiveCommand
from tests.support.sso_cli_v2 import CliV2Setup, cli_v2_setup, run_aws
from tests.support.sso_sign_in import sign_in_on_page

pytestmark = pytest.mark.slow

NEW_PASSWORD = "Correct-Horse-42"


Setup = CliV2Setup


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with cli_v2_setup(tmp_path_factory, "sso-cli-v2") as made:
        yield made


def _cli(setup: Setup, *args: str) -> LiveCommand:
    return LiveCommand([str(setup.aws), *args], setup.env)


def _sign_in(browser: BrowserContext, url: str, setup: Setup, first: bool) -> None:
    if first:
        sign_in_on_page(browser, url, "jdoe", setup.one_time_password, NEW_PASSWORD)
    else:
        sign_in_on_page(browser, url, "jdoe", NEW_PASSWORD)


def test_sso_login_both_flows_then_logout(setup: Setup) -> None:
    with chromium() as browser:
        # The default flow: authorization code with PKCE, the CLI's loopback listener.
        login = _cli(setup, "sso", "login", "--profile", "corp", "--no-browser")
        url = login.wait_for(r"(http://\S+/authorize\?\S+)").group(1)
        assert "code_challenge_method=S256" in url
        _sign_in(browser, url, setup, first=True)
        page = browser.pages[-1]
        assert page.get_by_text("Allow access").count() >= 1
        assert "botocore-client-corp" in page.content()
        with page.expect_navigation(url=re.compile(r"^http://127\.0\.0\.1:\d+/oauth/callback")):
            page.get_by_role("button", name="Allow access").click()
        code, output = login.finish()
        assert code == 0, output
        assert "Successfully logged into Start URL" in output

        who = run_aws(setup, "sts", "get-caller-identity", "--profile", "corp")
        assert who.returncode == 0, who.stderr
        arn = json.loads(who.stdout)["Arn"]
        assert re.fullmatch(
            rf"arn:aws:sts::{setup.account}:assumed-role/"
            r"AWSReservedSSO_UserReaders_[0-9a-f]{16}/jdoe",
            arn,
        )
        users = run_aws(setup, "iam", "list-users", "--profile", "corp")
        assert users.returncode == 0, users.stderr
        denied = run_aws(setup, "iam", "create-user", "--user-name", "nope", "--profile", "corp")
        assert denied.returncode != 0
        assert "AccessDenied" in denied.stderr

        # The device flow, with the same CLI and configuration.
        login = _cli(
            setup, "sso", "login", "--profile", "corp", "--use-device-code", "--no-browser"
        )
        device_url = login.wait_for(r"(http://\S+/device\?user_code=[A-Z-]+)").group(1)
        _sign_in(browser, device_url, setup, first=False)
        assert "Request approved" in browser.pages[-1].content()
        code, output = login.finish()
        assert code == 0, output
        assert "Successfully logged into Start URL" in output
        # The CLI caches the role credentials: drop them, so the next call uses the new
        # token against the portal.
        for cached in (Path(setup.env["HOME"]) / ".aws" / "cli" / "cache").glob("*.json"):
            cached.unlink()
        who = run_aws(setup, "sts", "get-caller-identity", "--profile", "corp")
        assert who.returncode == 0, who.stderr
        assert json.loads(who.stdout)["Arn"] == arn

    home = Path(setup.env["HOME"])
    token_file = next(
        f
        for f in (home / ".aws" / "sso" / "cache").glob("*.json")
        if "accessToken" in f.read_text()
    )
    token = token_file.read_text()
    out = run_aws(setup, "sso", "logout", "--profile", "corp")
    assert out.returncode == 0, out.stderr
    after = run_aws(setup, "sts", "get-caller-identity", "--profile", "corp")
    assert after.returncode != 0
    assert "Token for corp does not exist" in after.stderr, after.stderr
    # Logout revoked the token at iamd too: a copy of it kept from before is refused, and
    # the CLI says to log in again.
    token_file.write_text(token)
    after = run_aws(setup, "sts", "get-caller-identity", "--profile", "corp")
    assert after.returncode != 0
    assert "run aws sso login" in after.stderr, after.stderr

"""`aws sso login` with the real AWS CLI v2 on an instance that requires MFA, the browser
part done by Playwright on Debian's Chromium: the first login (authorization code with
PKCE) replaces the one-time password and registers an authenticator app from the page,
whose QR code, as the browser draws it, is decoded and must hold the key the page
reveals; the code computed from that key signs the user in. The second login
(`--use-device-code`) asks for a code: a wrong one is refused on the page, the next
one signs in. Both end in `aws sts get-caller-identity` with the Identity Center role."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from tests.support.browser import chromium
from tests.support.live_command import LiveCommand
from tests.support.sso_cli_v2 import CliV2Setup, cli_v2_setup, run_aws
from tests.support.sso_mfa import (
    current_code,
    qr_of_page,
    qr_text,
    require_mfa,
    secret_of_uri,
    wrong_code,
)
from tests.support.sso_sign_in import sign_in_on_page

pytestmark = pytest.mark.slow

NEW_PASSWORD = "Correct-Horse-42"


Setup = CliV2Setup


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with cli_v2_setup(tmp_path_factory, "sso-cli-v2-mfa", require_mfa) as made:
        yield made


def _assume_role_arn(setup: Setup) -> str:
    who = run_aws(setup, "sts", "get-caller-identity", "--profile", "corp")
    assert who.returncode == 0, who.stderr
    arn = str(json.loads(who.stdout)["Arn"])
    assert re.fullmatch(
        rf"arn:aws:sts::{setup.account}:assumed-role/"
        r"AWSReservedSSO_UserReaders_[0-9a-f]{16}/jdoe",
        arn,
    )
    return arn


def _register(page: Page) -> str:
    """Registers the app on the page the way a person does; the seed."""
    assert page.get_by_role("heading", name="Register an MFA device").count() == 1
    # The QR code as the browser renders it, and as the page's image holds it.
    rendered = qr_text(page.locator("img").screenshot())
    assert rendered == qr_of_page(page.content())
    secret = page.locator("#mfa-secret")
    assert not secret.is_visible()
    page.get_by_text("Show secret key").click()
    seed = secret.inner_text()
    assert secret_of_uri(rendered) == seed
    page.fill("input[name=code]", current_code(seed))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    return seed


def test_sso_login_with_mfa_both_flows(setup: Setup) -> None:
    with chromium() as browser:
        login = LiveCommand(
            [str(setup.aws), "sso", "login", "--profile", "corp", "--no-browser"], setup.env
        )
        url = login.wait_for(r"(http://\S+/authorize\?\S+)").group(1)
        sign_in_on_page(browser, url, "jdoe", setup.one_time_password, NEW_PASSWORD)
        page = browser.pages[-1]
        seed = _register(page)
        assert page.get_by_text("Allow access").count() >= 1
        with page.expect_navigation(url=re.compile(r"^http://127\.0\.0\.1:\d+/oauth/callback")):
            page.get_by_role("button", name="Allow access").click()
        code, output = login.finish()
        assert code == 0, output
        assert "Successfully logged into Start URL" in output
        arn = _assume_role_arn(setup)

        device_login = [str(setup.aws), "sso", "login", "--profile", "corp"]
        login = LiveCommand([*device_login, "--use-device-code", "--no-browser"], setup.env)
        device_url = login.wait_for(r"(http://\S+/device\?user_code=[A-Z-]+)").group(1)
        sign_in_on_page(browser, device_url, "jdoe", NEW_PASSWORD)
        page = browser.pages[-1]
        assert page.get_by_role("heading", name="Verify your identity").count() == 1
        assert page.locator("img").count() == 0
        page.fill("input[name=code]", wrong_code(seed))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_load_state()
        assert "incorrect" in page.get_by_role("alert").inner_text()
        # The registration's own step is spent: the app's next code.
        page.fill("input[name=code]", current_code(seed, 1))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_load_state()
        assert "Request approved" in page.content()
        code, output = login.finish()
        assert code == 0, output
        for cached in (Path(setup.env["HOME"]) / ".aws" / "cli" / "cache").glob("*.json"):
            cached.unlink()
        assert _assume_role_arn(setup) == arn

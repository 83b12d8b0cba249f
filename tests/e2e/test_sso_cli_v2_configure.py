"""`aws configure sso` with the real AWS CLI v2, answered at its prompts through a
terminal (pexpect) as a person answers them, the browser part done by Playwright on
Debian's Chromium: the wizard registers, signs in (the device flow, then the default
authorization-code flow for a second session), finds the user's only account and role
through iamd's portal API, and writes the profile and its sso-session; the profile then
works with `aws sts get-caller-identity`. Only AWS_ENDPOINT_URL points the CLI at iamd."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest
from tests.support.aws_cli_v2 import aws_cli_v2
from tests.support.browser import chromium
from tests.support.identity_center import SsoUser, provision_sso_user, sso_client_env
from tests.support.servers import RunningServer, start_server
from tests.support.sso_sign_in import sign_in_on_page

pytestmark = pytest.mark.slow

NEW_PASSWORD = "Correct-Horse-42"
_ROLE_ARN = r"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_UserReaders_[0-9a-f]{{16}}/jdoe"


@dataclass(frozen=True)
class Setup:
    server: RunningServer
    user: SsoUser
    config: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    home = tmp_path_factory.mktemp("cli-v2-configure-home")
    server = start_server(tmp_path_factory.mktemp("iamd-sso-configure"))
    try:
        user = provision_sso_user(server)
        config = home / "config"  # none yet: the wizard writes it
        env = {
            **sso_client_env(home, config, server.endpoint),
            # A plain terminal: the wizard's prompts without cursor queries.
            "TERM": "dumb",
        }
        yield Setup(server, user, config, env)
    finally:
        server.stop()


def _wizard(setup: Setup, session: str, *flags: str) -> pexpect.spawn[str]:
    child = pexpect.spawn(
        str(aws_cli_v2()),
        ["configure", "sso", "--no-browser", *flags],
        env=setup.env,
        encoding="utf-8",
        timeout=90,
    )
    child.expect(r"SSO session name \(Recommended\): ")
    child.sendline(session)
    child.expect(r"SSO start URL \[None\]: ")
    child.sendline(setup.user.start_url)
    child.expect(r"SSO region \[None\]: ")
    child.sendline("us-east-1")
    child.expect(r"SSO registration scopes \[sso:account:access\]: ")
    child.sendline("")
    return child


def _finish(child: pexpect.spawn[str], account: str, profile: str) -> str:
    """The wizard's questions after the sign-in; what it printed from there."""
    child.expect(f"The only AWS account available to you is: {account}")
    child.expect(
        r'The only role available to you is: UserReaders\s+Using the role name "UserReaders"'
    )
    child.expect(r"Default client Region \[None\]: ")
    child.sendline("us-east-1")
    child.expect(r"CLI default output format \(json if not specified\) \[None\]: ")
    child.sendline("json")
    child.expect(rf"Profile name \[UserReaders-{account}\]: ")
    child.sendline(profile)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return str(child.before)


def _printed(child: pexpect.spawn[str], pattern: str) -> str:
    """The first group of `pattern`, once the CLI has printed it."""
    child.expect(pattern)
    found = child.match
    assert isinstance(found, re.Match), found
    return str(found.group(1))


def _caller(setup: Setup, profile: str) -> str:
    done = subprocess.run(
        [str(aws_cli_v2()), "sts", "get-caller-identity", "--profile", profile],
        env=setup.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    arn: str = json.loads(done.stdout)["Arn"]
    return arn


def test_configure_sso_with_both_flows_writes_working_profiles(setup: Setup) -> None:
    account = setup.user.account
    with chromium() as browser:
        child = _wizard(setup, "corp", "--use-device-code")
        device_url = _printed(child, r"(http://\S+/device\?user_code=[A-Z]{4}-[A-Z]{4})")
        sign_in_on_page(browser, device_url, "jdoe", setup.user.one_time_password, NEW_PASSWORD)
        assert "Request approved" in browser.pages[-1].content()
        printed = _finish(child, account, "corp")
        assert "aws sts get-caller-identity --profile corp" in printed

        # The default flow, for a second session: authorization code with PKCE.
        child = _wizard(setup, "corp-pkce")
        url = _printed(child, r"(http://\S+/authorize\?\S+)")
        assert "code_challenge_method=S256" in url
        sign_in_on_page(browser, url, "jdoe", NEW_PASSWORD)
        page = browser.pages[-1]
        with page.expect_navigation(url=re.compile(r"^http://127\.0\.0\.1:\d+/oauth/callback")):
            page.get_by_role("button", name="Allow access").click()
        _finish(child, account, "pkce")

    config = configparser.ConfigParser()
    config.read(setup.config)
    assert dict(config["profile corp"]) == {
        "sso_session": "corp",
        "sso_account_id": account,
        "sso_role_name": "UserReaders",
        "region": "us-east-1",
        "output": "json",
    }
    assert config["profile pkce"]["sso_session"] == "corp-pkce"
    for session in ("sso-session corp", "sso-session corp-pkce"):
        assert dict(config[session]) == {
            "sso_start_url": setup.user.start_url,
            "sso_region": "us-east-1",
            "sso_registration_scopes": "sso:account:access",
        }
    expected = re.compile(_ROLE_ARN.format(account=account))
    assert expected.fullmatch(_caller(setup, "corp"))
    assert expected.fullmatch(_caller(setup, "pkce"))

"""`aws configure sso` with the real AWS CLI v2 when the user has two accounts: the
wizard lists both, as iamd's portal API names them, in its menu, the answer chooses the
second account of the menu (an arrow key in a real terminal, through pexpect), and the
profile it writes gets that account's role."""

from __future__ import annotations

import configparser
import re
import time
from collections.abc import Iterator

import pexpect
import pytest
from tests.e2e.test_sso_cli_v2_configure import NEW_PASSWORD, Setup, _caller, _printed, _wizard
from tests.support.browser import chromium
from tests.support.identity_center import provision_sso_user, sso_client_env
from tests.support.organizations import new_account
from tests.support.servers import start_server
from tests.support.sso_sign_in import sign_in_on_page

pytestmark = pytest.mark.slow

_ADMIN = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
_DOWN = "\x1b[B"


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Setup, str]]:
    home = tmp_path_factory.mktemp("cli-v2-configure-accounts-home")
    server = start_server(tmp_path_factory.mktemp("iamd-sso-configure-accounts"))
    try:
        user = provision_sso_user(server)
        organizations = server.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        member = new_account(organizations, "prod@example.com", "production")
        admin = server.client("sso-admin")
        instance = admin.list_instances()["Instances"][0]["InstanceArn"]
        admins = admin.create_permission_set(InstanceArn=instance, Name="Admins")["PermissionSet"][
            "PermissionSetArn"
        ]
        admin.put_inline_policy_to_permission_set(
            InstanceArn=instance, PermissionSetArn=admins, InlinePolicy=_ADMIN
        )
        status = admin.create_account_assignment(
            InstanceArn=instance,
            TargetId=member,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=admins,
            PrincipalType="USER",
            PrincipalId=user.user_id,
        )["AccountAssignmentCreationStatus"]
        assert status["Status"] == "SUCCEEDED", status
        config = home / "config"
        env = {**sso_client_env(home, config, server.endpoint), "TERM": "dumb"}
        yield Setup(server, user, config, env), member
    finally:
        server.stop()


def test_the_wizard_offers_both_accounts_and_the_chosen_ones_role(
    two_accounts: tuple[Setup, str],
) -> None:
    setup, member = two_accounts
    management = setup.user.account
    with chromium() as browser:
        child = _wizard(setup, "corp", "--use-device-code")
        device_url = _printed(child, r"(http://\S+/device\?user_code=[A-Z]{4}-[A-Z]{4})")
        sign_in_on_page(browser, device_url, "jdoe", setup.user.one_time_password, NEW_PASSWORD)
        assert "Request approved" in browser.pages[-1].content()
        child.expect("There are 2 AWS accounts available to you.")
        # The menu: "NAME, EMAIL (ID)" per account, in the portal API's order; the
        # management account, which iamd's bootstrap leaves unnamed, as its id alone.
        menu = _printed_within(child, seconds=3)
        assert f"production, prod@example.com ({member})" in menu, menu
        listed = [found for found in re.findall(r"\b(\d{12})\b", menu)]
        first_seen = list(dict.fromkeys(listed))
        assert sorted(first_seen) == sorted([management, member]), menu
        # The second account of the menu, so that the choice takes an arrow key.
        chosen = first_seen[1]
        role = "Admins" if chosen == member else "UserReaders"
        child.send(_DOWN + "\r")
        child.expect(rf'The only role available to you is: {role}\s+Using the role name "{role}"')
        child.expect(r"Default client Region \[None\]: ")
        child.sendline("us-east-1")
        child.expect(r"CLI default output format \(json if not specified\) \[None\]: ")
        child.sendline("json")
        child.expect(rf"Profile name \[{role}-{chosen}\]: ")
        child.sendline("chosen")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.before

    config = configparser.ConfigParser()
    config.read(setup.config)
    assert config["profile chosen"]["sso_account_id"] == chosen
    assert config["profile chosen"]["sso_role_name"] == role
    assert re.fullmatch(
        rf"arn:aws:sts::{chosen}:assumed-role/AWSReservedSSO_{role}_[0-9a-f]{{16}}/jdoe",
        _caller(setup, "chosen"),
    )


def _printed_within(child: pexpect.spawn[str], seconds: float) -> str:
    """Everything the CLI prints in the next `seconds` (its menu, drawn then waiting)."""
    printed = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            printed += child.read_nonblocking(4096, timeout=0.2)
        except pexpect.TIMEOUT:
            continue
    return printed

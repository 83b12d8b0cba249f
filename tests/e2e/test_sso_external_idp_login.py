"""`iamd sso login` and the real AWS CLI v2's `aws sso login` (both flows each) for a
SCIM-provisioned user of an instance that signs in at an external SAML IdP, the browser
part done by Playwright on Debian's Chromium: iamd's page sends the browser to the IdP
(pysaml2's, behind a small HTTP server of the test's), whose page posts its signed
Response back to iamd's assertion consumer service, as an IdP's HTTP-POST binding page
does; then the user allows the client, and boto3 (in a separate process) or the CLI v2
uses the profile's role credentials."""

from __future__ import annotations

import html
import http.server
import json
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.aws_cli_v2 import aws_cli_v2
from tests.support.browser import chromium
from tests.support.external_idp import Federated, federate
from tests.support.identity_center import sso_client_env
from tests.support.live_command import LiveCommand
from tests.support.servers import free_port, start_server

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Setup:
    federated: Federated
    env: dict[str, str]
    # The assertion consumer URLs the IdP answered to, in order.
    answered: list[str]


def _idp_server(port: int, holder: list[Federated], answered: list[str]) -> http.server.HTTPServer:
    """The IdP's single sign-on service: it signs `alice@example.com` in (no questions
    asked) and answers with the page that posts the Response back."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            acs, response = holder[0].idp.answer_authn_request(
                query["SAMLRequest"], "alice@example.com"
            )
            answered.append(acs)
            relay_state = html.escape(query["RelayState"])
            page = (
                '<!doctype html><html><body onload="document.forms[0].submit()">'
                f'<form method="post" action="{html.escape(acs)}">'
                f'<input type="hidden" name="SAMLResponse" value="{html.escape(response)}">'
                f'<input type="hidden" name="RelayState" value="{relay_state}">'
                "<noscript><button>Continue</button></noscript></form></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("iamd-external-login")
    server = start_server(base / "data", extra_args=["--audit-trail"])
    port = free_port()
    holder: list[Federated] = []
    answered: list[str] = []
    idp_http = _idp_server(port, holder, answered)
    thread = threading.Thread(target=idp_http.serve_forever, daemon=True)
    thread.start()
    try:
        # The IdP is another site than iamd (localhost, not 127.0.0.1), as a real one
        # is: its Response reaches iamd as a cross-site post.
        federated = federate(server, base, f"http://localhost:{port}/saml")
        holder.append(federated)
        home = base / "home"
        home.mkdir()
        config = home / "config"
        config.write_text(
            "[profile corp]\n"
            "sso_session = corp\n"
            f"sso_account_id = {federated.account}\n"
            "sso_role_name = UserReaders\n"
            "region = us-east-1\n"
            "\n[sso-session corp]\n"
            f"sso_start_url = {federated.start_url}\n"
            "sso_region = us-east-1\n"
            "sso_registration_scopes = sso:account:access\n"
        )
        env = sso_client_env(home, config, server.endpoint, with_python=True)
        yield Setup(federated, env, answered)
    finally:
        idp_http.shutdown()
        idp_http.server_close()
        server.stop()


def _last_sign_in(setup: Setup) -> dict[str, Any]:
    """The newest UserAuthentication in the trail (LookupEvents answers newest first)."""
    found = setup.federated.server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "UserAuthentication"}],
        MaxResults=1,
    )["Events"]
    assert found
    record: dict[str, Any] = json.loads(found[0]["CloudTrailEvent"])
    return record


def _boto3_caller(setup: Setup) -> list[object]:
    script = (
        "import boto3, json\n"
        "s = boto3.Session(profile_name='corp')\n"
        "who = s.client('sts').get_caller_identity()['Arn']\n"
        "users = [u['UserName'] for u in s.client('iam').list_users()['Users']]\n"
        "print(json.dumps([who, users]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=setup.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: list[object] = json.loads(done.stdout)
    return result


def _aws_v2_caller(setup: Setup) -> str:
    """`aws sts get-caller-identity` with the real AWS CLI v2 and the profile."""
    env = {**setup.env, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(aws_cli_v2()), "sts", "get-caller-identity", "--profile", "corp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    arn: str = json.loads(done.stdout)["Arn"]
    return arn


@pytest.mark.parametrize("flow", [(), ("--use-device-code",)], ids=["authorization-code", "device"])
@pytest.mark.parametrize("client", ["iamd", "aws-cli-v2"])
def test_sso_login_through_the_external_idp(
    setup: Setup, client: str, flow: tuple[str, ...]
) -> None:
    federated = setup.federated
    answered_before = len(setup.answered)
    # The CLI v2 caches role credentials: each login must reach the portal anew.
    for cached in (Path(setup.env["HOME"]) / ".aws" / "cli" / "cache").glob("*.json"):
        cached.unlink()
    command = (
        [sys.executable, "-m", "iamd", "sso"] if client == "iamd" else [str(aws_cli_v2()), "sso"]
    )
    env = setup.env if client == "iamd" else {**setup.env, "PATH": "/usr/bin:/bin"}
    with chromium() as browser:
        login = LiveCommand([*command, "login", "--profile", "corp", "--no-browser", *flow], env)
        pattern = (
            r"(http://\S+/device\?user_code=[A-Z-]+)" if flow else r"(http://\S+/authorize\?\S+)"
        )
        url = login.wait_for(pattern).group(1)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("text=alice@example.com")
        assert "password" not in page.content().lower()
        if flow:
            page.get_by_role("button", name="Allow").click()
            page.wait_for_load_state()
            assert "approved" in page.content()
        else:
            with page.expect_navigation(url=re.compile(r"^http://127\.0\.0\.1:\d+/oauth/callback")):
                page.get_by_role("button", name="Allow access").click()
        code, output = login.finish()
    assert code == 0, output
    assert "Successfully logged into Start URL" in output
    assert setup.answered[answered_before:] == [f"{federated.server.endpoint}/saml/acs"]
    # The provider's accepted answer is the sign-in's UserAuthentication, as the user.
    signed_in = _last_sign_in(setup)
    assert signed_in["additionalEventData"]["LoginTo"].endswith("/device" if flow else "/authorize")
    assert signed_in["userIdentity"]["userName"] == "alice@example.com"
    assert signed_in["serviceEventDetails"] == {"UserAuthentication": "Success"}
    expected = re.compile(
        rf"arn:aws:sts::{federated.account}:assumed-role/"
        r"AWSReservedSSO_UserReaders_[0-9a-f]{16}/alice@example\.com"
    )
    if client == "iamd":
        arn, users = _boto3_caller(setup)
        assert isinstance(users, list)
    else:
        arn = _aws_v2_caller(setup)
    assert isinstance(arn, str)
    assert expected.fullmatch(arn), arn


def test_the_access_portal_page_signs_in_through_the_external_idp(setup: Setup) -> None:
    federated = setup.federated
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{federated.server.endpoint}/start?store={federated.store}")
        # Off to the IdP (another site), whose cross-site post of the Response opens the
        # portal session; the page then lists the account with the cookie it set.
        page.wait_for_selector(f"section[aria-label='Account {federated.account}']")
        content = page.content()
        assert "alice@example.com" in content
        assert "UserReaders" in content
        assert 'name="password"' not in content
        cookies = {c["name"]: c for c in browser.cookies()}
        session = [c for name, c in cookies.items() if "portal" in name or "session" in name]
        assert session
        assert all(c["httpOnly"] for c in session)
        assert all(c["sameSite"] == "Strict" for c in session)
        page.get_by_role("button", name=re.compile("Access keys for UserReaders")).click()
        page.wait_for_selector("#credentials-file")
        assert "aws_session_token=" in page.inner_text("#credentials-file")
    assert setup.answered[-1] == f"{federated.server.endpoint}/saml/acs"
    signed_in = _last_sign_in(setup)
    assert signed_in["additionalEventData"]["LoginTo"].endswith("/start")
    assert signed_in["userIdentity"]["type"] == "IdentityCenterUser"
    assert signed_in["recipientAccountId"] == federated.account

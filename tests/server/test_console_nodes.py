"""The console on two iamd nodes sharing one PostgreSQL database: a sign-in begun on
one node takes its MFA code on the other, the session works on both, and signing out
on one ends it on the other (sessions are rows: services/console_sessions.py)."""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from tests.support.servers import RunningServer, start_server
from tests.support.totp import code_at

pytestmark = pytest.mark.postgres

PASSWORD = "Nodes-Console-Passw0rd!"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def copy(self) -> Browser:
        """Another browser holding the same cookies (a stolen cookie, say)."""
        other = Browser()
        for cookie in self.jar:
            other.jar.set_cookie(cookie)
        return other

    def get(self, server: RunningServer, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(f"{server.endpoint}{path}", timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, server: RunningServer, path: str, form: dict[str, str]) -> tuple[int, str]:
        request = urllib.request.Request(  # noqa: S310 - the test's own server
            f"{server.endpoint}{path}", data=urllib.parse.urlencode(form).encode(), method="POST"
        )
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def test_a_console_session_is_every_nodes(fresh_postgres_url: str, tmp_path: Path) -> None:
    env = {"IAMD_MASTER_KEY": "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="}
    node_a = start_server(tmp_path / "a", database_url=fresh_postgres_url, extra_env=env)
    node_b = start_server(tmp_path / "b", database_url=fresh_postgres_url, extra_env=env)
    try:
        iam = node_a.client()
        iam.create_user(UserName="jdoe")
        iam.create_login_profile(UserName="jdoe", Password=PASSWORD)
        iam.put_user_policy(
            UserName="jdoe",
            PolicyName="Keys",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "iam:ListAccessKeys", "Resource": "*"}
                    ],
                }
            ),
        )
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName="jdoe")["VirtualMFADevice"]
        seed = device["Base32StringSeed"].decode()
        now = time.time()
        if now % 30 > 25:
            time.sleep(30 - now % 30 + 0.5)
            now = time.time()
        iam.enable_mfa_device(
            UserName="jdoe",
            SerialNumber=device["SerialNumber"],
            AuthenticationCode1=code_at(seed, now - 60),
            AuthenticationCode2=code_at(seed, now - 30),
        )

        browser = Browser()
        _, page = browser.get(node_a, "/console")
        form = {"csrf": _hidden(page, "csrf"), "account": "123456789012", "username": "jdoe"}
        status, page = browser.post(node_a, "/console/signin", {**form, "password": PASSWORD})
        assert status == 200
        assert "MFA code" in page
        # The code goes to the other node.
        code = {"csrf": _hidden(page, "csrf"), "ticket": _hidden(page, "ticket")}
        status, _ = browser.post(node_b, "/console/mfa", {**code, "code": code_at(seed, now)})
        assert status == 303
        status, page = browser.get(node_a, "/console/security-credentials")
        assert status == 200
        assert "jdoe @ 123456789012 (MFA)" in page
        status, page = browser.get(node_b, "/console/security-credentials")
        assert status == 200
        kept = browser.copy()
        status, _ = browser.post(node_b, "/console/signout", {"csrf": _hidden(page, "csrf")})
        assert status == 200
        # The cookie kept from before the sign-out names no session on either node.
        status, page = kept.get(node_a, "/console/security-credentials")
        assert status == 401
        assert "Your session has ended. Sign in again." in page
    finally:
        node_a.stop()
        node_b.stop()

"""The access portal page's session over HTTPS, posted as a browser posts it: the
cookie is `Secure` (and HttpOnly, SameSite=Strict, scoped to /start), opens the listing,
and stops opening it when the user is deleted; an instance without MFA signs the user
in with the password alone. Bad input gets a page, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.support.identity_center import SsoUser, provision_sso_user
from tests.support.servers import RunningServer, start_server
from tests.support.sso_mfa import FormBrowser, csrf_of

NEW_PASSWORD = "Correct-Horse-42"


@dataclass(frozen=True)
class Setup:
    server: RunningServer
    user: SsoUser


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    server = start_server(tmp_path_factory.mktemp("iamd-portal-tls"), tls=True)
    try:
        yield Setup(server, provision_sso_user(server))
    finally:
        server.stop()


def test_secure_session_over_tls_until_the_user_is_deleted(setup: Setup) -> None:
    portal = f"{setup.server.endpoint}/start"
    assert portal.startswith("https://")
    browser = FormBrowser(setup.server.ca_bundle)
    status, page, headers = browser.get(f"{portal}?store={setup.user.store}")
    assert status == 200
    # The sign-in form's CSRF cookie is Secure over TLS too.
    csrf_cookie = headers["set-cookie"]
    assert csrf_cookie.startswith("iamd_sso_csrf=")
    for attribute in ("Path=/start", "HttpOnly", "SameSite=Strict", "Secure"):
        assert attribute in csrf_cookie.split("; "), csrf_cookie
    fields = {
        "step": "sign-in",
        "store": setup.user.store,
        "username": "jdoe",
        "password": setup.user.one_time_password,
        "new_password": NEW_PASSWORD,
        "csrf": csrf_of(page),
    }
    status, _, headers = browser.post(portal, fields)
    assert status == 303
    assert headers["location"] == "/start"
    cookie = headers["set-cookie"]
    assert cookie.startswith("iamd_sso_portal=")
    for attribute in ("Path=/start", "HttpOnly", "SameSite=Strict", "Secure"):
        assert attribute in cookie.split("; "), cookie
    status, page, _ = browser.get(portal)
    assert status == 200
    assert "UserReaders" in page

    ids = setup.server.client("identitystore")
    ids.delete_user(IdentityStoreId=setup.user.store, UserId=setup.user.user_id)
    status, page, _ = browser.get(portal)
    assert status == 200
    assert "UserReaders" not in page


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        ("", 200, "Start URL or identity store id"),
        ("?store=d-0000000000", 400, "No IAM Identity Center instance"),
        ("?store=%ff%fe", 400, "No IAM Identity Center instance"),
    ],
)
def test_the_start_page_asks_for_an_instance(
    setup: Setup, query: str, status: int, text: str
) -> None:
    got, page, headers = FormBrowser(setup.server.ca_bundle).get(
        f"{setup.server.endpoint}/start{query}"
    )
    assert (got, text in page) == (status, True), page
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_posts_without_a_session_or_with_bad_fields(setup: Setup) -> None:
    browser = FormBrowser(setup.server.ca_bundle)
    portal = f"{setup.server.endpoint}/start"
    status, page, _ = browser.post(portal, {"step": "credentials", "account_id": "1"})
    assert status == 200
    assert "Start URL or identity store id" in page
    status, page, _ = browser.post(
        portal, {"step": "sign-in", "store": "nonsense", "username": "x", "password": "y"}
    )
    assert status == 400
    assert "No IAM Identity Center instance" in page
    status, page, _ = browser.post(
        portal,
        {"step": "sign-in", "store": setup.user.store, "username": "jdoe", "password": "y"},
    )
    assert status == 403
    assert "form expired" in page
    status, page, _ = browser.post(portal, {"step": "mfa", "ticket": "x", "code": "1"})
    assert status == 403
    assert "AWS_SECRET_ACCESS_KEY" not in page


def test_the_mfa_form_without_the_password_step_opens_no_session(setup: Setup) -> None:
    browser = FormBrowser(setup.server.ca_bundle)
    portal = f"{setup.server.endpoint}/start"
    _, page, _ = browser.get(f"{portal}?store={setup.user.store}")
    status, page, headers = browser.post(
        portal, {"step": "mfa", "ticket": "made-up", "code": "123456", "csrf": csrf_of(page)}
    )
    assert status == 400
    assert "not valid or has expired" in page
    assert "iamd_sso_portal" not in headers.get("set-cookie", "")

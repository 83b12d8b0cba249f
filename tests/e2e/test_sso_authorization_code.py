"""The authorization-code grant with PKCE against a real server, its browser side posted
over HTTP as a browser would (cookies, CSRF tokens, forms, redirects not followed), and
CreateToken through boto3's own sso-oidc client: the way it works, and every bad input
the grant must refuse without issuing a credential."""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support.servers import RunningServer, start_server

_UNSIGNED = Config(signature_version=UNSIGNED, retries={"max_attempts": 1, "mode": "standard"})
CALLBACK = "http://127.0.0.1/oauth/callback"
NEW_PASSWORD = "Correct-Horse-42"


@dataclass(frozen=True)
class Directory:
    server: RunningServer
    account: str
    store: str
    password: str

    @property
    def start_url(self) -> str:
        return f"https://{self.store}.awsapps.com/start"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    server = start_server(tmp_path_factory.mktemp("iamd-sso-code"))
    try:
        admin = server.client("sso-admin")
        instance = admin.create_instance(Name="Corp")["InstanceArn"]
        store = admin.describe_instance(InstanceArn=instance)["IdentityStoreId"]
        user = server.client("identitystore").create_user(
            IdentityStoreId=store, UserName="jdoe", DisplayName="J Doe"
        )["UserId"]
        account = server.client("sts").get_caller_identity()["Account"]
        ps = admin.create_permission_set(InstanceArn=instance, Name="Readers")["PermissionSet"][
            "PermissionSetArn"
        ]
        admin.create_account_assignment(
            InstanceArn=instance,
            TargetId=account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=ps,
            PrincipalType="USER",
            PrincipalId=user,
        )
        one_time = subprocess.run(
            [
                *(sys.executable, "-m", "iamd", "identity-center", "set-password"),
                *("--identity-store-id", store, "--user-name", "jdoe"),
                *("--data-dir", str(server.data_dir)),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        # The one-time password is replaced once, here, so that each test signs in plainly.
        directory = Directory(server, account, store, one_time)
        client = _register(directory)
        browser = Browser()
        params = _authorize_params(client["clientId"], _challenge(_verifier()))
        _, page, _ = browser.get(_authorize_url(directory, params))
        status, page, _ = browser.post(
            directory.server.endpoint + "/authorize",
            {
                **_hidden(page),
                "username": "jdoe",
                "password": one_time,
                "new_password": NEW_PASSWORD,
            },
        )
        assert status == 200, page
        yield Directory(server, account, store, NEW_PASSWORD)
    finally:
        server.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A browser that keeps its cookies and stops at redirects, to read them."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def get(self, url: str) -> tuple[int, str, dict[str, str]]:
        return self._send(urllib.request.Request(url))  # noqa: S310 - the test's own server

    def post(self, url: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        data = urllib.parse.urlencode(fields).encode()
        return self._send(urllib.request.Request(url, data=data, method="POST"))  # noqa: S310

    def _send(self, request: urllib.request.Request) -> tuple[int, str, dict[str, str]]:
        try:
            with self._opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)


def _oidc(directory: Directory) -> Any:
    return boto3.client(
        "sso-oidc",
        endpoint_url=directory.server.endpoint,
        region_name="us-east-1",
        config=_UNSIGNED,
    )


def _register(directory: Directory, redirect: str = CALLBACK) -> dict[str, Any]:
    # What the AWS CLI v2 sends for its default (PKCE) login.
    registration: dict[str, Any] = _oidc(directory).register_client(
        clientName="botocore-client-corp",
        clientType="public",
        scopes=["sso:account:access"],
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=[redirect],
        issuerUrl=directory.start_url,
    )
    return registration


def _verifier() -> str:
    return secrets.token_urlsafe(48)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _authorize_params(client_id: str, challenge: str, **changes: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "http://127.0.0.1:54321/oauth/callback",
        "state": "3b1c7e8e-1d42-4c7a-9d2a-0f5b8a9e6c11",
        "code_challenge_method": "S256",
        "scopes": "sso:account:access",
        "code_challenge": challenge,
    }
    params.update(changes)
    return params


def _authorize_url(directory: Directory, params: dict[str, str]) -> str:
    return f"{directory.server.endpoint}/authorize?{urllib.parse.urlencode(params)}"


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def _query_of(location: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def _sign_in(directory: Directory, browser: Browser, params: dict[str, str]) -> str:
    """The consent page, after signing in."""
    status, page, headers = browser.get(_authorize_url(directory, params))
    assert status == 200, page
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    status, page, _ = browser.post(
        directory.server.endpoint + "/authorize",
        {**_hidden(page), "username": "jdoe", "password": directory.password},
    )
    assert status == 200, page
    assert "Allow access" in page
    return page


def _code(directory: Directory, client_id: str, challenge: str, **changes: str) -> str:
    browser = Browser()
    params = _authorize_params(client_id, challenge, **changes)
    consent = _sign_in(directory, browser, params)
    status, _, headers = browser.post(
        directory.server.endpoint + "/authorize", {**_hidden(consent), "decision": "allow"}
    )
    assert status == 303
    location = headers["location"]
    assert location.startswith(params["redirect_uri"] + "?")
    answer = _query_of(location)
    assert answer["state"] == params["state"]
    return answer["code"]


def _token(directory: Directory, client: dict[str, Any], **members: str) -> Any:
    return _oidc(directory).create_token(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        grantType="authorization_code",
        **members,
    )


def _error_code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_code_for_tokens_once_and_a_replay_revokes_them(directory: Directory) -> None:
    client = _register(directory)
    verifier = _verifier()
    # Registered without a port, the loopback redirect URI matches any port (RFC 8252).
    code = _code(directory, client["clientId"], _challenge(verifier))
    redirect = "http://127.0.0.1:54321/oauth/callback"
    tokens = _token(directory, client, code=code, redirectUri=redirect, codeVerifier=verifier)
    assert tokens["tokenType"] == "Bearer"
    sso = boto3.client(
        "sso", endpoint_url=directory.server.endpoint, region_name="us-east-1", config=_UNSIGNED
    )
    accounts = sso.list_accounts(accessToken=tokens["accessToken"])["accountList"]
    assert [a["accountId"] for a in accounts] == [directory.account]

    with pytest.raises(ClientError) as replayed:
        _token(directory, client, code=code, redirectUri=redirect, codeVerifier=verifier)
    assert _error_code(replayed.value) == "InvalidGrantException"
    # The replay revoked what the code had issued (RFC 6749 section 4.1.2).
    with pytest.raises(ClientError) as revoked:
        sso.list_accounts(accessToken=tokens["accessToken"])
    assert _error_code(revoked.value) == "UnauthorizedException"
    with pytest.raises(ClientError) as refresh:
        _oidc(directory).create_token(
            clientId=client["clientId"],
            clientSecret=client["clientSecret"],
            grantType="refresh_token",
            refreshToken=tokens["refreshToken"],
        )
    assert _error_code(refresh.value) == "InvalidGrantException"


@pytest.mark.parametrize(
    ("members", "description"),
    [
        ({"codeVerifier": "x" * 64}, "Code verifier does not match"),
        ({"redirectUri": "http://127.0.0.1:54322/oauth/callback"}, "redirectUri does not match"),
    ],
)
def test_a_wrong_verifier_or_redirect_uri_spends_the_code(
    directory: Directory, members: dict[str, str], description: str
) -> None:
    client = _register(directory)
    verifier = _verifier()
    code = _code(directory, client["clientId"], _challenge(verifier))
    right = {"redirectUri": "http://127.0.0.1:54321/oauth/callback", "codeVerifier": verifier}
    with pytest.raises(ClientError) as wrong:
        _token(directory, client, code=code, **{**right, **members})
    assert _error_code(wrong.value) == "InvalidGrantException"
    assert description in wrong.value.response["error_description"]
    # Spent: the right verifier and redirect URI no longer get anything for it.
    with pytest.raises(ClientError) as after:
        _token(directory, client, code=code, **right)
    assert _error_code(after.value) == "InvalidGrantException"


def test_a_code_is_bound_to_its_client(directory: Directory) -> None:
    client, other = _register(directory), _register(directory)
    verifier = _verifier()
    code = _code(directory, client["clientId"], _challenge(verifier))
    with pytest.raises(ClientError) as stolen:
        _token(
            directory,
            other,
            code=code,
            redirectUri="http://127.0.0.1:54321/oauth/callback",
            codeVerifier=verifier,
        )
    assert _error_code(stolen.value) == "InvalidGrantException"
    # A client registered for the device flow only cannot use the grant at all.
    plain = _oidc(directory).register_client(clientName="device", clientType="public")
    with pytest.raises(ClientError) as device_client:
        _token(
            directory,
            plain,
            code=code,
            redirectUri="http://127.0.0.1:54321/oauth/callback",
            codeVerifier=verifier,
        )
    assert _error_code(device_client.value) == "UnauthorizedClientException"


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/oauth/callback",  # not loopback, not registered
        "http://127.0.0.1:54321/other",  # loopback, another path
        "http://localhost:54321/oauth/callback",  # a name, not a loopback address
        "http://127.0.0.1.evil.example/oauth/callback",
        "http://evil.example@127.0.0.1:54321/oauth/callback",
        "",
    ],
)
def test_an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(
    directory: Directory, redirect: str
) -> None:
    client = _register(directory)
    params = _authorize_params(client["clientId"], _challenge(_verifier()), redirect_uri=redirect)
    status, page, headers = Browser().get(_authorize_url(directory, params))
    assert status == 400
    assert "location" not in headers
    assert "redirect URI" in page
    # An unknown client likewise.
    params = _authorize_params("not-a-client", _challenge(_verifier()))
    status, page, headers = Browser().get(_authorize_url(directory, params))
    assert (status, "location" in headers) == (400, False)


def test_register_client_takes_only_loopback_redirect_uris(directory: Directory) -> None:
    for redirect in ("https://evil.example/cb", "http://localhost/cb", "myapp://cb"):
        with pytest.raises(ClientError) as refused:
            _register(directory, redirect)
        assert _error_code(refused.value) == "InvalidRedirectUriException"
    with pytest.raises(ClientError) as no_instance:
        _oidc(directory).register_client(
            clientName="x",
            clientType="public",
            grantTypes=["authorization_code"],
            redirectUris=[CALLBACK],
            issuerUrl="https://d-0000000000.awsapps.com/start",
        )
    assert _error_code(no_instance.value) == "InvalidRequestException"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),  # RFC 7636's default is plain
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scopes": "sso:account:access codewhisperer:completions"}, "invalid_scope"),
    ],
)
def test_a_bad_request_goes_back_to_the_client_as_an_error(
    directory: Directory, changes: dict[str, str], error: str
) -> None:
    client = _register(directory)
    params = _authorize_params(client["clientId"], _challenge(_verifier()), **changes)
    status, _, headers = Browser().get(_authorize_url(directory, params))
    assert status == 303
    answer = _query_of(headers["location"])
    assert answer["error"] == error
    assert answer["state"] == params["state"]
    assert "code" not in answer


def test_forms_need_their_csrf_token_and_a_tampered_state_finds_nothing(
    directory: Directory,
) -> None:
    client = _register(directory)
    verifier = _verifier()
    params = _authorize_params(client["clientId"], _challenge(verifier))
    browser = Browser()
    _, page, _ = browser.get(_authorize_url(directory, params))
    sign_in = {**_hidden(page), "username": "jdoe", "password": directory.password}
    status, page, _ = browser.post(
        directory.server.endpoint + "/authorize", {**sign_in, "csrf": "forged"}
    )
    assert status == 403
    assert "Allow access" not in page
    without = {key: value for key, value in sign_in.items() if key != "csrf"}
    status, page, _ = browser.post(directory.server.endpoint + "/authorize", without)
    assert status == 403

    consent = _sign_in(directory, browser, params)
    fields = {**_hidden(consent), "decision": "allow"}
    status, _, headers = browser.post(
        directory.server.endpoint + "/authorize", {**fields, "csrf": "forged"}
    )
    assert (status, "location" in headers) == (403, False)
    # Another browser (no CSRF cookie) posting the same consent form gets nothing.
    status, _, headers = Browser().post(directory.server.endpoint + "/authorize", fields)
    assert (status, "location" in headers) == (403, False)
    # The state is bound to the consent ticket: a changed one finds no request.
    status, page, headers = browser.post(
        directory.server.endpoint + "/authorize", {**fields, "state": "attacker-state"}
    )
    assert (status, "location" in headers) == (400, False)
    # None of that spent the ticket: the user's own post still completes, once.
    fresh = _hidden(browser.get(_authorize_url(directory, params))[1])["csrf"]  # and cookie
    status, _, headers = browser.post(
        directory.server.endpoint + "/authorize", {**fields, "csrf": fresh}
    )
    assert status == 303
    assert _query_of(headers["location"])["state"] == params["state"]
    status, _, headers = browser.post(
        directory.server.endpoint + "/authorize", {**fields, "csrf": fresh}
    )
    assert (status, "location" in headers) == (400, False)


def test_denying_sends_access_denied_and_a_wrong_password_signs_nobody_in(
    directory: Directory,
) -> None:
    client = _register(directory)
    params = _authorize_params(client["clientId"], _challenge(_verifier()))
    browser = Browser()
    _, page, _ = browser.get(_authorize_url(directory, params))
    status, page, _ = browser.post(
        directory.server.endpoint + "/authorize",
        {**_hidden(page), "username": "jdoe", "password": "wrong-password"},
    )
    assert status == 401
    assert "Allow access" not in page
    consent = _sign_in(directory, browser, params)
    status, _, headers = browser.post(
        directory.server.endpoint + "/authorize", {**_hidden(consent), "decision": "deny"}
    )
    assert status == 303
    answer = _query_of(headers["location"])
    assert (answer["error"], answer["state"], "code" in answer) == (
        "access_denied",
        params["state"],
        False,
    )


def test_the_server_log_holds_no_code_or_verifier(directory: Directory) -> None:
    client = _register(directory)
    verifier = _verifier()
    code = _code(directory, client["clientId"], _challenge(verifier))
    tokens = _token(
        directory,
        client,
        code=code,
        redirectUri="http://127.0.0.1:54321/oauth/callback",
        codeVerifier=verifier,
    )
    log = directory.server.log_text()
    for secret in (code, verifier, tokens["accessToken"], client["clientSecret"], NEW_PASSWORD):
        assert secret not in log
    assert json.dumps(tokens)  # the answer itself is plain JSON

"""The OAuth service's calls in the audit trail, through boto3's `sso-oidc` client and
the device page posted over HTTP as a browser posts it: RegisterClient,
StartDeviceAuthorization and CreateToken, each success and each refusal (a bad client,
a wrong secret, authorization_pending, slow_down, access_denied, expired_token,
invalid_grant), found with LookupEvents, in the account that owns the instance, with
every client secret, code and token HIDDEN_DUE_TO_SECURITY_REASONS and none of them
anywhere in the stored trail or the log."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support.clock import ServerClock
from tests.support.identity_center import SsoUser, provision_sso_user
from tests.support.servers import RunningServer, start_server
from tests.support.trail_store import assert_no_secret_stored

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
NEW_PASSWORD = "Correct-Horse-42"
_UNSIGNED = Config(signature_version=UNSIGNED, retries={"max_attempts": 1, "mode": "standard"})


@dataclass(frozen=True)
class Setup:
    server: RunningServer
    clock: ServerClock
    user: SsoUser


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    clock = ServerClock(tmp_path / "clock")
    clock.set_offset(0)
    server = start_server(
        tmp_path / "data", extra_args=["--audit-trail"], test_clock_file=clock.path
    )
    try:
        yield Setup(server, clock, provision_sso_user(server))
    finally:
        server.stop()


class Browser:
    """What a browser does on the device page: keep its cookies, post its forms."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> str:
        return self._send(urllib.request.Request(url))  # noqa: S310 - the test's own server

    def post(self, url: str, fields: dict[str, str]) -> str:
        data = urllib.parse.urlencode(fields).encode()
        return self._send(urllib.request.Request(url, data=data, method="POST"))  # noqa: S310

    def _send(self, request: urllib.request.Request) -> str:
        try:
            with self._opener.open(request, timeout=30) as response:
                return str(response.read().decode())
        except urllib.error.HTTPError as error:
            return str(error.read().decode())


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def _decide(device: dict[str, Any], password: str, decision: str, new: str = "") -> str:
    browser = Browser()
    page = browser.get(device["verificationUriComplete"])
    form = {
        "user_code": device["userCode"],
        "username": "jdoe",
        "password": password,
        "decision": decision,
        "csrf": _csrf(page),
    }
    if new:
        form["new_password"] = new
    return browser.post(device["verificationUri"], form)


def _code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return str(raised.value.response["Error"]["Code"])


def _raw(server: RunningServer, path: str, body: dict[str, Any]) -> tuple[int, str]:
    """A JSON post no SDK would send; its status and x-amzn-ErrorType."""
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        f"{server.endpoint}{path}",
        data=json.dumps({k: v for k, v in body.items() if v is not None}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, str(error.headers.get("x-amzn-errortype", ""))


def _records(server: RunningServer, key: str, value: str) -> list[dict[str, Any]]:
    trail = server.client("cloudtrail")
    pages = trail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}]
    )
    return [json.loads(e["CloudTrailEvent"]) for page in pages for e in page["Events"]]


def test_oauth_calls_and_their_refusals_are_in_the_trail(setup: Setup) -> None:
    server, user = setup.server, setup.user
    oidc: BaseClient = boto3.client(
        "sso-oidc", endpoint_url=server.endpoint, region_name="us-east-1", config=_UNSIGNED
    )
    secrets: list[str] = [user.one_time_password, NEW_PASSWORD]

    # RegisterClient: a device-flow client names no instance (nothing to record it in);
    # an authorization-code client names one by its issuer URL, and so does a refusal.
    client = oidc.register_client(clientName="trail-device", clientType="public")
    web = oidc.register_client(
        clientName="trail-web",
        clientType="public",
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl=user.start_url,
    )
    assert (
        _code(
            oidc.register_client,
            clientName="trail-bad",
            clientType="confidential",
            issuerUrl=user.start_url,
        )
        == "InvalidClientMetadataException"
    )
    secrets += [client["clientSecret"], web["clientSecret"]]
    ids = {"clientId": client["clientId"], "clientSecret": client["clientSecret"]}

    # StartDeviceAuthorization: a wrong secret, an unknown client, then two codes.
    wrong = {**ids, "clientSecret": "not-the-secret-" + "z" * 20}
    assert (
        _code(oidc.start_device_authorization, **wrong, startUrl=user.start_url)
        == "InvalidClientException"
    )
    unknown = {"clientId": "no-such-client", "clientSecret": "not-the-secret-" + "y" * 20}
    assert (
        _code(oidc.start_device_authorization, **unknown, startUrl=user.start_url)
        == "InvalidClientException"
    )
    denied = oidc.start_device_authorization(**ids, startUrl=user.start_url)
    approved = oidc.start_device_authorization(**ids, startUrl=user.start_url)
    for device in (denied, approved):
        secrets += [device["deviceCode"], device["userCode"]]

    # CreateToken: pending, too fast (twice: the second slow_down is not recorded), a
    # wrong secret, the user's denial.
    poll = {**ids, "grantType": DEVICE_GRANT, "deviceCode": denied["deviceCode"]}
    assert _code(oidc.create_token, **poll) == "AuthorizationPendingException"
    assert _code(oidc.create_token, **poll) == "SlowDownException"
    assert _code(oidc.create_token, **poll) == "SlowDownException"
    assert _code(oidc.create_token, **{**poll, **wrong}) == "InvalidClientException"
    page = _decide(denied, user.one_time_password, "deny", NEW_PASSWORD)
    assert "Request denied" in page, page
    assert _code(oidc.create_token, **poll) == "AccessDeniedException"

    # The approved code issues tokens once; its refresh token rotates.
    page = _decide(approved, NEW_PASSWORD, "allow")
    assert "Request approved" in page, page
    poll = {**ids, "grantType": DEVICE_GRANT, "deviceCode": approved["deviceCode"]}
    tokens = oidc.create_token(**poll)
    assert _code(oidc.create_token, **poll) == "InvalidGrantException"
    refresh = {**ids, "grantType": "refresh_token", "refreshToken": tokens["refreshToken"]}
    refreshed = oidc.create_token(**refresh)
    assert _code(oidc.create_token, **refresh) == "InvalidGrantException"
    secrets += [tokens["accessToken"], tokens["refreshToken"], refreshed["accessToken"]]
    secrets += [refreshed["refreshToken"]]

    # Calls a client library would not send (a required member missing) are refused
    # before the service sees them, and recorded too.
    raw_start = _raw(
        server,
        "/device_authorization",
        {"clientId": client["clientId"], "startUrl": user.start_url},
    )
    assert raw_start == (400, "InvalidRequestException")
    raw_token = _raw(server, "/token", {"clientId": ids["clientId"], **poll, "clientSecret": None})
    assert raw_token == (400, "InvalidRequestException")

    # A code left waiting past its ten minutes.
    late = oidc.start_device_authorization(**ids, startUrl=user.start_url)
    secrets += [late["deviceCode"], late["userCode"]]
    setup.clock.set_offset(11 * 60)
    late_poll = {**ids, "grantType": DEVICE_GRANT, "deviceCode": late["deviceCode"]}
    assert _code(oidc.create_token, **late_poll) == "ExpiredTokenException"

    oauth = _records(server, "EventSource", "sso-oauth.amazonaws.com")
    created = _records(server, "EventName", "CreateToken")
    for record in oauth + created:
        assert record["recipientAccountId"] == user.account
        assert record["eventType"] == "AwsApiCall"
        assert record["readOnly"] is False
        assert record["resources"] == [
            {"accountId": user.account, "type": "IdentityStoreId", "ARN": user.store}
        ]

    registrations = [r for r in oauth if r["eventName"] == "RegisterClient"]
    # The device-flow client's registration names no instance: not recorded.
    assert sorted(r["requestParameters"]["clientName"] for r in registrations) == [
        "trail-bad",
        "trail-web",
    ]
    ok = next(r for r in registrations if "errorCode" not in r)
    assert ok["userIdentity"] == {
        "type": "Unknown",
        "principalId": user.account,
        "arn": "",
        "accountId": user.account,
        "accessKeyId": "",
    }
    assert ok["requestParameters"] == {
        "clientName": "trail-web",
        "clientType": "public",
        "redirectUris": ["http://127.0.0.1/oauth/callback"],
        "grantTypes": ["authorization_code", "refresh_token"],
        "issuerUrl": user.start_url,
    }
    assert ok["responseElements"]["clientId"] == web["clientId"]
    assert ok["responseElements"]["clientSecret"] == HIDDEN
    bad = next(r for r in registrations if "errorCode" in r)
    assert bad["errorCode"] == "InvalidClientMetadataException"
    assert bad["responseElements"] is None

    starts = [r for r in oauth if r["eventName"] == "StartDeviceAuthorization"]
    assert sorted(r.get("errorCode", "-") for r in starts) == [
        "-",
        "-",
        "-",
        "InvalidClientException",
        "InvalidClientException",
        "InvalidRequestException",
    ]
    for record in starts:
        assert record["requestParameters"].get("clientSecret", HIDDEN) == HIDDEN
        assert record["requestParameters"]["startUrl"] == user.start_url
    started = next(r for r in starts if "errorCode" not in r)["responseElements"]
    assert started["deviceCode"] == started["userCode"] == HIDDEN
    assert started["verificationUriComplete"] == HIDDEN
    assert started["verificationUri"].endswith("/device")
    assert (started["expiresIn"], started["interval"]) == (600, 1)

    assert all(r["eventSource"] == "sso.amazonaws.com" for r in created)
    outcomes = sorted(
        (r["requestParameters"]["grantType"], r.get("errorCode", "-")) for r in created
    )
    assert outcomes == sorted(
        [
            (DEVICE_GRANT, "AuthorizationPendingException"),
            (DEVICE_GRANT, "SlowDownException"),
            (DEVICE_GRANT, "InvalidClientException"),
            (DEVICE_GRANT, "AccessDeniedException"),
            (DEVICE_GRANT, "-"),
            (DEVICE_GRANT, "InvalidGrantException"),
            ("refresh_token", "-"),
            ("refresh_token", "InvalidGrantException"),
            (DEVICE_GRANT, "InvalidRequestException"),
            (DEVICE_GRANT, "ExpiredTokenException"),
        ]
    )
    store_arn = f"arn:aws:identitystore::{user.account}:identitystore/{user.store}"
    for record in created:
        parameters = record["requestParameters"]
        assert parameters.get("clientSecret", HIDDEN) == HIDDEN
        assert parameters.get("deviceCode", HIDDEN) == HIDDEN
        assert parameters.get("refreshToken", HIDDEN) == HIDDEN
        identity = record["userIdentity"]
        if record.get("errorCode") in (
            None,
            "InvalidGrantException",
            "AccessDeniedException",
            "InvalidRequestException",
        ):
            # Once the user decided (approved or denied), the call names them.
            assert identity["type"] == "IdentityCenterUser"
            assert identity["onBehalfOf"] == {"userId": user.user_id, "identityStoreArn": store_arn}
        else:
            assert identity["type"] == "Unknown"
    issued = [r for r in created if "errorCode" not in r]
    for record in issued:
        assert record["responseElements"] == {
            "accessToken": HIDDEN,
            "tokenType": "Bearer",
            "expiresIn": 28800,
            "refreshToken": HIDDEN,
        }
    # The device flow's tokens and their refresh are one credential.
    assert len({r["userIdentity"]["credentialId"] for r in issued}) == 1
    pending = next(r for r in created if r.get("errorCode") == "AuthorizationPendingException")
    assert pending["errorMessage"] == "Authorization is still pending"
    assert pending["responseElements"] is None

    assert_no_secret_stored(server, secrets)

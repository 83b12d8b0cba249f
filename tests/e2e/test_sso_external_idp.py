"""An Identity Center instance whose users sign in at an external SAML 2.0 identity
provider (pysaml2's IdP, tests/support/saml_idp.py), provisioned by SCIM: the device
page and /authorize send the browser to the IdP with an AuthnRequest, the IdP's signed
Response comes back to iamd's assertion consumer service, and the SCIM-provisioned user
whose userName is the NameID gets tokens and role credentials through the real sso-oidc
and sso clients. Bad answers (tampered, expired, replayed, for another audience, for no
user, with a forged RelayState) sign no one in."""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from tests.support.external_idp import Federated, federate, identity_source
from tests.support.saml_idp import OTHER_SP, SamlIdp
from tests.support.servers import RunningServer, start_server

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_UNSIGNED = Config(signature_version=UNSIGNED, retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def federated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federated]:
    base = tmp_path_factory.mktemp("iamd-external-idp")
    server = start_server(base / "data", extra_args=["--audit-trail"])
    try:
        yield federate(server, base)
    finally:
        server.stop()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A browser's part: cookies, forms, and redirects looked at rather than followed
    (the IdP is not on the network; the test plays it)."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def get(self, url: str) -> tuple[int, str, dict[str, str]]:
        return self._send(urllib.request.Request(url))  # noqa: S310 - the test's own server

    def post(self, url: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        data = urllib.parse.urlencode(fields).encode()
        return self._send(urllib.request.Request(url, data=data, method="POST"))  # noqa: S310

    def _send(self, request: urllib.request.Request) -> tuple[int, str, dict[str, str]]:
        try:
            with self._opener.open(request, timeout=30) as response:
                return (
                    response.status,
                    response.read().decode(),
                    {k.lower(): v for k, v in response.headers.items()},
                )
        except urllib.error.HTTPError as error:
            return (
                error.code,
                error.read().decode(),
                {k.lower(): v for k, v in error.headers.items()},
            )


def _to_idp(federated: Federated, answer: tuple[int, str, dict[str, str]]) -> tuple[str, str]:
    """The AuthnRequest and RelayState of a redirect to the IdP."""
    status, _, headers = answer
    assert status == 303, answer
    location = headers["location"]
    assert location.startswith(f"{federated.idp.entity_id}/sso/redirect?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert len(query["RelayState"]) <= 80  # SAML bindings §3.4.3
    return query["SAMLRequest"], query["RelayState"]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, page
    return found.group(1)


def _clients(server: RunningServer) -> tuple[Any, Any]:
    oidc = boto3.client(
        "sso-oidc", endpoint_url=server.endpoint, region_name="us-east-1", config=_UNSIGNED
    )
    sso = boto3.client(
        "sso", endpoint_url=server.endpoint, region_name="us-east-1", config=_UNSIGNED
    )
    return oidc, sso


def _device(federated: Federated, oidc: Any) -> tuple[dict[str, Any], dict[str, str]]:
    registration = oidc.register_client(clientName="botocore-client-corp", clientType="public")
    device = oidc.start_device_authorization(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        startUrl=federated.start_url,
    )
    poll = {
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "grantType": "urn:ietf:params:oauth:grant-type:device_code",
        "deviceCode": device["deviceCode"],
    }
    return device, poll


def _token(oidc: Any, poll: dict[str, str]) -> dict[str, Any]:
    for _ in range(20):
        try:
            return dict(oidc.create_token(**poll))
        except (oidc.exceptions.AuthorizationPendingException, oidc.exceptions.SlowDownException):
            time.sleep(1.1)  # the device flow's polling interval
    raise AssertionError("no token")


def test_a_scim_user_signs_in_at_the_idp_with_the_device_flow(federated: Federated) -> None:
    oidc, sso = _clients(federated.server)
    device, poll = _device(federated, oidc)
    browser = Browser()
    # A password typed into the device form signs no one in: the IdP is asked instead.
    status, form, _ = browser.get(device["verificationUri"])
    assert status == 200
    _to_idp(
        federated,
        browser.post(
            device["verificationUri"],
            {
                "user_code": device["userCode"],
                "username": "alice@example.com",
                "password": "x",
                "decision": "allow",
                "csrf": _csrf(form),
            },
        ),
    )
    saml_request, relay_state = _to_idp(federated, browser.get(device["verificationUriComplete"]))
    acs, response = federated.idp.answer_authn_request(saml_request, "alice@example.com")
    assert acs == f"{federated.server.endpoint}/saml/acs"
    status, page, headers = browser.post(acs, {"SAMLResponse": response, "RelayState": relay_state})
    assert status == 200, page
    assert "botocore-client-corp" in page
    assert "alice@example.com" in page
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    forged = browser.post(
        acs, {"step": "consent", "ticket": _field(page, "ticket"), "decision": "allow", "csrf": "x"}
    )
    assert forged[0] == 403
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        oidc.create_token(**poll)
    # The forged post spent nothing but the form: the user signs in at the IdP again.
    saml_request, relay_state = _to_idp(federated, browser.get(device["verificationUriComplete"]))
    acs, response = federated.idp.answer_authn_request(saml_request, "ALICE@example.com")
    status, page, _ = browser.post(acs, {"SAMLResponse": response, "RelayState": relay_state})
    assert status == 200, page
    status, page, _ = browser.post(
        acs,
        {
            "step": "consent",
            "ticket": _field(page, "ticket"),
            "decision": "allow",
            "csrf": _csrf(page),
        },
    )
    assert status == 200, page
    assert "approved" in page

    tokens = _token(oidc, poll)
    credentials = sso.get_role_credentials(
        roleName="UserReaders", accountId=federated.account, accessToken=tokens["accessToken"]
    )["roleCredentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["accessKeyId"],
        aws_secret_access_key=credentials["secretAccessKey"],
        aws_session_token=credentials["sessionToken"],
        region_name="us-east-1",
    )
    arn = session.client("sts", endpoint_url=federated.server.endpoint).get_caller_identity()["Arn"]
    assert re.fullmatch(
        rf"arn:aws:sts::{federated.account}:assumed-role/AWSReservedSSO_UserReaders_[0-9a-f]{{16}}/alice@example.com",
        arn,
    ), arn
    assert "Users" in session.client("iam", endpoint_url=federated.server.endpoint).list_users()

    # The IdP deactivates the user by SCIM: the portal token stops at once, and the next
    # sign-in at the IdP signs no one in; reactivated, the user signs in again.
    found = federated.scim.call(
        "GET", "/Users", query={"filter": 'userName eq "alice@example.com"'}
    )
    user_id = found.document["Resources"][0]["id"]
    active = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    assert federated.scim.call("PATCH", f"/Users/{user_id}", active).status == 200
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.list_accounts(accessToken=tokens["accessToken"])
    second, _ = _device(federated, oidc)
    saml_request, relay_state = _to_idp(federated, browser.get(second["verificationUriComplete"]))
    acs, response = federated.idp.answer_authn_request(saml_request, "alice@example.com")
    status, page, _ = browser.post(acs, {"SAMLResponse": response, "RelayState": relay_state})
    assert status == 403
    assert "No active user named alice@example.com" in page
    again = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": True}],
    }
    assert federated.scim.call("PATCH", f"/Users/{user_id}", again).status == 200


def _sign_in_events(server: RunningServer, name: str) -> list[dict[str, Any]]:
    """The trail's sign-in events of one name (`aws cloudtrail lookup-events`' model)."""
    pages = (
        server.client("cloudtrail")
        .get_paginator("lookup_events")
        .paginate(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
    )
    return [json.loads(e["CloudTrailEvent"]) for page in pages for e in page["Events"]]


def _refused(federated: Federated, browser: Browser, device: dict[str, Any], make: Any) -> str:
    saml_request, relay_state = _to_idp(federated, browser.get(device["verificationUriComplete"]))
    response = make(saml_request)
    status, page, _ = browser.post(
        f"{federated.server.endpoint}/saml/acs",
        {"SAMLResponse": response, "RelayState": relay_state},
    )
    assert status in (400, 403), page
    assert "Allow" not in page
    return page


def test_bad_answers_from_the_idp_sign_no_one_in(federated: Federated) -> None:
    before = {r["eventID"] for r in _sign_in_events(federated.server, "CredentialVerification")}
    oidc, _ = _clients(federated.server)
    device, poll = _device(federated, oidc)
    browser = Browser()
    idp = federated.idp

    def tampered(saml_request: str) -> str:
        _, response = idp.answer_authn_request(saml_request, "alice@example.com")
        xml = base64.b64decode(response).decode()
        return base64.b64encode(
            xml.replace("alice@example.com", "admin@example.com").encode()
        ).decode()

    assert "refused" in _refused(federated, browser, device, tampered)
    expired_idp = SamlIdp(
        federated.idp_dir / "expired",
        lifetime_minutes=-10,
        sp_metadata=(federated.sp_metadata,),
        key_files=idp.key_files,
    )
    expired = _refused(
        federated,
        browser,
        device,
        lambda r: expired_idp.answer_authn_request(r, "alice@example.com")[1],
    )
    assert "expired" in expired
    other = _refused(
        federated,
        browser,
        device,
        lambda r: idp.answer_authn_request(r, "alice@example.com", audience=OTHER_SP)[1],
    )
    assert "another service provider" in other
    elsewhere = _refused(
        federated,
        browser,
        device,
        lambda r: idp.answer_authn_request(
            r, "alice@example.com", recipient="https://elsewhere.example/saml/acs"
        )[1],
    )
    assert "Recipient" in elsewhere
    nobody = _refused(
        federated, browser, device, lambda r: idp.answer_authn_request(r, "ghost@example.com")[1]
    )
    assert "No active user named ghost@example.com" in nobody

    # A good answer, accepted once (its consent left undecided), is refused the second
    # time: with a new sign-in's RelayState it answers another request.
    saml_request, relay_state = _to_idp(federated, browser.get(device["verificationUriComplete"]))
    acs, good = idp.answer_authn_request(saml_request, "alice@example.com")
    assert browser.post(acs, {"SAMLResponse": good, "RelayState": relay_state})[0] == 200
    assert "does not answer this sign-in" in _refused(federated, browser, device, lambda _r: good)
    # An answer to another sign-in's AuthnRequest does not answer this one.
    first_request, _ = _to_idp(federated, browser.get(device["verificationUriComplete"]))
    _, for_first = idp.answer_authn_request(first_request, "alice@example.com")
    assert "does not answer this sign-in" in _refused(
        federated, browser, device, lambda _r: for_first
    )
    # A RelayState that iamd never issued, or one already spent, finds no sign-in.
    forged = browser.post(acs, {"SAMLResponse": good, "RelayState": secrets.token_urlsafe(32)})
    assert forged[0] == 403
    assert browser.post(acs, {"SAMLResponse": good, "RelayState": relay_state})[0] == 403
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        oidc.create_token(**poll)

    # The trail: each refusal is a CredentialVerification Failure with its reason (the
    # accepted answer posted again, with a forged and with its spent RelayState, is a
    # replay, told by its signature and the replay cache), the accepted answer a
    # UserAuthentication; no answer is in any record.
    refusals = [
        r
        for r in _sign_in_events(federated.server, "CredentialVerification")
        if r["eventID"] not in before
    ]
    by_code = {r["errorCode"]: r for r in refusals}
    assert sorted(r["errorCode"] for r in refusals) == [
        "ExpiredAssertion",
        "InvalidSAMLResponse",  # the tampered answer's signature
        "InvalidSAMLResponse",  # the wrong Recipient
        "NotRequested",
        "NotRequested",
        "ReplayedAssertion",
        "ReplayedAssertion",
        "UnknownUser",
        "WrongAudience",
    ]
    for record in refusals:
        assert record["eventSource"] == "signin.amazonaws.com"
        assert record["eventType"] == "AwsServiceEvent"
        assert record["serviceEventDetails"] == {"CredentialVerification": "Failure"}
        assert record["additionalEventData"]["CredentialType"] == "SAML"
        assert record["recipientAccountId"] == federated.account
    assert "signature" in " ".join(
        r["errorMessage"] for r in refusals if r["errorCode"] == "InvalidSAMLResponse"
    )
    # Unverified answers name no one; a verified one names its subject, with the
    # directory's id when the subject is a user.
    assert "userName" not in by_code["ExpiredAssertion"]["userIdentity"]
    assert by_code["UnknownUser"]["userIdentity"]["type"] == "Unknown"
    assert by_code["UnknownUser"]["userIdentity"]["userName"] == "ghost@example.com"
    replayed = by_code["ReplayedAssertion"]
    assert replayed["errorMessage"] == "This answer was already used."
    assert replayed["userIdentity"]["userName"] == "alice@example.com"
    audience = by_code["WrongAudience"]["userIdentity"]
    assert (audience["type"], audience["userName"]) == ("IdentityCenterUser", "alice@example.com")
    accepted = _sign_in_events(federated.server, "UserAuthentication")
    assert any(
        r["additionalEventData"]["LoginTo"].endswith("/device")
        and r["userIdentity"]["userName"] == "alice@example.com"
        for r in accepted
    )
    text = json.dumps(refusals + accepted)
    signed = base64.b64decode(good).decode()
    signature = re.search(r"SignatureValue>([^<]+)<", signed)
    assert signature is not None
    for secret in (signature.group(1).strip()[:40], good[200:260], "admin@example.com"):
        assert secret not in text


def test_the_authorization_code_flow_goes_through_the_idp(federated: Federated) -> None:
    oidc, sso = _clients(federated.server)
    registration = oidc.register_client(
        clientName="botocore-client-corp",
        clientType="public",
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl=federated.start_url,
        scopes=["sso:account:access"],
    )
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    redirect_uri = "http://127.0.0.1:41234/oauth/callback"
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": registration["clientId"],
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "scopes": "sso:account:access",
            "code_challenge": challenge,
        }
    )
    browser = Browser()
    saml_request, relay_state = _to_idp(
        federated, browser.get(f"{federated.server.endpoint}/authorize?{query}")
    )
    acs, response = federated.idp.answer_authn_request(saml_request, "alice@example.com")
    status, page, _ = browser.post(acs, {"SAMLResponse": response, "RelayState": relay_state})
    assert status == 200, page
    status, _, headers = browser.post(
        f"{federated.server.endpoint}/authorize",
        {
            "step": "consent",
            "ticket": _field(page, "ticket"),
            "state": state,
            "decision": "allow",
            "csrf": _csrf(page),
        },
    )
    assert status == 303
    back = urllib.parse.urlsplit(headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == redirect_uri
    answer = dict(urllib.parse.parse_qsl(back.query))
    assert answer["state"] == state
    tokens = oidc.create_token(
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        grantType="authorization_code",
        code=answer["code"],
        redirectUri=redirect_uri,
        codeVerifier=verifier,
    )
    roles = sso.list_account_roles(accessToken=tokens["accessToken"], accountId=federated.account)[
        "roleList"
    ]
    assert [r["roleName"] for r in roles] == ["UserReaders"]


def test_back_to_the_directory_shows_the_password_form(federated: Federated) -> None:
    oidc, _ = _clients(federated.server)
    done = identity_source(federated.server, federated.instance, "--directory")
    assert done.returncode == 0, done.stderr
    try:
        device, _ = _device(federated, oidc)
        status, page, _ = Browser().get(device["verificationUriComplete"])
        assert status == 200
        assert 'name="password"' in page
    finally:
        again = identity_source(
            federated.server, federated.instance, "--saml-metadata", str(federated.metadata_file)
        )
        assert again.returncode == 0, again.stderr
    bad = federated.metadata_file.parent / "not-metadata.xml"
    bad.write_text("<nope/>")
    refused = identity_source(federated.server, federated.instance, "--saml-metadata", str(bad))
    assert refused.returncode != 0
    assert "metadata" in refused.stderr

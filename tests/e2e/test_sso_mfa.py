"""MFA for Identity Center users on the sign-in pages, over HTTP as a browser posts
them (cookies, CSRF tokens, forms), against a real server with `set-mfa always`: the
first sign-in registers an authenticator app from the page's QR code (decoded) and
revealed key, later ones take a code; a replayed or wrong code, a MFA form posted
without the password step or without its CSRF token: refused, and no token issued
(the real sso-oidc client keeps getting AuthorizationPending). The audit trail holds
the TOTP checks, and administrators list and delete a user's devices."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support.identity_center import SsoUser, provision_sso_user, set_one_time_password
from tests.support.servers import RunningServer, start_server
from tests.support.sso_mfa import (
    FormBrowser,
    csrf_of,
    current_code,
    iamd_identity_center,
    qr_of_page,
    require_mfa,
    revealed_seed,
    secret_of_uri,
    ticket_of,
    wrong_code,
)

NEW_PASSWORD = "Correct-Horse-42"
_UNSIGNED = Config(signature_version=UNSIGNED, retries={"max_attempts": 1, "mode": "standard"})


@dataclass(frozen=True)
class Setup:
    server: RunningServer
    user: SsoUser
    instance: str


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    server = start_server(tmp_path_factory.mktemp("iamd-sso-mfa"), extra_args=["--audit-trail"])
    try:
        user = provision_sso_user(server)
        instance = require_mfa(server)
        yield Setup(server, user, instance)
    finally:
        server.stop()


def _new_user(setup: Setup, name: str) -> str:
    """Another member of Engineers (so each test has its own devices); its password."""
    ids = setup.server.client("identitystore")
    store = setup.user.store
    user = ids.create_user(IdentityStoreId=store, UserName=name, DisplayName=name)["UserId"]
    group = ids.get_group_id(
        IdentityStoreId=store,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "Engineers"}
        },
    )["GroupId"]
    ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})
    return set_one_time_password(setup.server, store, name)
    # The one-time password is replaced on the page (the test's first sign-in does it).


def _register(setup: Setup, name: str) -> tuple[str, str]:
    """`name` signs in for the first time with the device flow and registers an app:
    (the app's seed, the access token of that sign-in)."""
    one_time = _new_user(setup, name)
    device = Device(setup)
    browser = FormBrowser()
    page = _password_step(browser, device, name, one_time, new_password=NEW_PASSWORD)
    seed = revealed_seed(page)
    status, answer = _code_step(browser, device, page, current_code(seed))
    assert status == 200, answer
    return seed, device.token()


class Device:
    """A device authorization the real sso-oidc client started and polls."""

    def __init__(self, setup: Setup) -> None:
        self.oidc = boto3.client(
            "sso-oidc",
            endpoint_url=setup.server.endpoint,
            region_name="us-east-1",
            config=_UNSIGNED,
        )
        client = self.oidc.register_client(clientName="mfa-test", clientType="public")
        started = self.oidc.start_device_authorization(
            clientId=client["clientId"],
            clientSecret=client["clientSecret"],
            startUrl=setup.user.start_url,
        )
        self.page = started["verificationUri"]
        self.user_code = started["userCode"]
        self._poll = {
            "clientId": client["clientId"],
            "clientSecret": client["clientSecret"],
            "grantType": "urn:ietf:params:oauth:grant-type:device_code",
            "deviceCode": started["deviceCode"],
        }

    def pending(self) -> bool:
        try:
            self.oidc.create_token(**self._poll)
        except self.oidc.exceptions.AuthorizationPendingException:
            return True
        except self.oidc.exceptions.SlowDownException:
            return True
        return False

    def token(self) -> str:
        return str(self.oidc.create_token(**self._poll)["accessToken"])


def _password_step(
    browser: FormBrowser, device: Device, name: str, password: str, **extra: str
) -> str:
    _, page, _ = browser.get(f"{device.page}?user_code={device.user_code}")
    fields = {
        "user_code": device.user_code,
        "username": name,
        "password": password,
        "decision": "allow",
        "csrf": csrf_of(page),
        **extra,
    }
    status, page, _ = browser.post(device.page, fields)
    assert status == 200, page
    return page


def _code_step(
    browser: FormBrowser,
    device: Device,
    page: str,
    code: str,
    csrf: bool = True,
    csrf_page: str | None = None,
) -> tuple[int, str]:
    """Posts the MFA form of `page` (the CSRF token of `csrf_page`, the page whose
    cookie the browser holds, if another)."""
    fields = {"step": "mfa", "ticket": ticket_of(page), "code": code}
    if csrf:
        fields["csrf"] = csrf_of(csrf_page or page)
    status, answer, _ = browser.post(device.page, fields)
    return status, answer


def _sign_in_events(setup: Setup, name: str) -> list[dict[str, Any]]:
    trail = setup.server.client("cloudtrail")
    events = [
        json.loads(event["CloudTrailEvent"])
        for event in trail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventSource", "AttributeValue": "signin.amazonaws.com"}
            ]
        )["Events"]
    ]
    return [e for e in events if e.get("userIdentity", {}).get("userName") == name]


def test_registration_then_codes_with_every_refusal(setup: Setup) -> None:
    name = "ada"
    one_time = _new_user(setup, name)
    device = Device(setup)
    browser = FormBrowser()

    # An MFA form posted without any password step: nothing to go on with.
    _, page, _ = browser.get(device.page)
    status, page, _ = browser.post(
        device.page,
        {"step": "mfa", "ticket": "made-up-ticket", "code": "123456", "csrf": csrf_of(page)},
    )
    assert status == 400
    assert "not valid or has expired" in page
    assert device.pending()

    # The first sign-in: the one-time password replaced, then the registration page,
    # whose QR code holds the key URI of the revealed key.
    page = _password_step(browser, device, name, one_time, new_password=NEW_PASSWORD)
    assert "Register an MFA device" in page
    seed = revealed_seed(page)
    uri = qr_of_page(page)
    assert secret_of_uri(uri) == seed
    assert re.fullmatch(
        rf"otpauth://totp/IAM%20Identity%20Center:{name}@{setup.user.store}\?"
        rf"secret={seed}&issuer=IAM%20Identity%20Center",
        uri,
    )
    assert device.pending()

    # Without its CSRF token the code decides nothing (and spends nothing).
    status, answer = _code_step(browser, device, page, current_code(seed), csrf=False)
    assert status == 403
    assert device.pending()
    # A wrong code (the ticket still good, with the token of the page that came back):
    # a clear message, the same registration again.
    status, answer = _code_step(browser, device, page, wrong_code(seed), csrf_page=answer)
    assert status == 401
    assert "incorrect" in answer
    assert revealed_seed(answer) == seed
    assert device.pending()
    registration_code = current_code(seed)
    form = answer
    status, answer = _code_step(browser, device, form, registration_code)
    assert status == 200, answer
    assert "Request approved" in answer
    assert device.token()
    # The ticket was single-use: the same form posted again finds nothing.
    status, again = _code_step(browser, device, form, current_code(seed, 1))
    assert status == 400
    assert "not valid or has expired" in again

    # A later sign-in asks for a code, no registration.
    device = Device(setup)
    page = _password_step(browser, device, name, NEW_PASSWORD)
    assert "Verify your identity" in page
    assert "mfa-secret" not in page
    assert "data:image" not in page
    status, answer = _code_step(browser, device, page, registration_code)  # replayed
    assert status == 401
    assert device.pending()
    status, answer = _code_step(browser, device, answer, wrong_code(seed))
    assert status == 401
    assert device.pending()
    status, answer = _code_step(browser, device, answer, current_code(seed, 1))
    assert status == 200, answer
    assert "Request approved" in answer
    assert device.token()

    # The trail: the TOTP checks, and the sign-ins that MFA completed, each under the
    # workflow id of its password check.
    events = _sign_in_events(setup, name)
    totp = sorted(
        e["serviceEventDetails"]["CredentialVerification"]
        for e in events
        if e["eventName"] == "CredentialVerification"
        and e["additionalEventData"]["CredentialType"] == "TOTP"
    )
    assert totp == ["Failure", "Failure", "Failure", "Success", "Success"]
    authenticated = [e for e in events if e["eventName"] == "UserAuthentication"]
    assert len(authenticated) == 2
    for event in authenticated:
        assert event["additionalEventData"]["MFAUsed"] == "Yes"
        workflow = event["additionalEventData"]["AuthWorkflowID"]
        steps = {
            (e["eventName"], e["additionalEventData"].get("CredentialType"))
            for e in events
            if e["additionalEventData"]["AuthWorkflowID"] == workflow
        }
        assert steps >= {
            ("CredentialVerification", "PASSWORD"),
            ("CredentialChallenge", "TOTP"),
            ("CredentialVerification", "TOTP"),
        }
    text = json.dumps(events)
    assert seed not in text
    assert registration_code not in text
    assert NEW_PASSWORD not in text


def test_authorize_page_mfa_form_needs_the_password_step(setup: Setup) -> None:
    browser = FormBrowser()
    endpoint = setup.server.endpoint
    _, page, _ = browser.get(f"{endpoint}/device")
    status, page, headers = browser.post(
        f"{endpoint}/authorize",
        {"step": "mfa", "ticket": "made-up", "code": "123456", "csrf": "x"},
    )
    assert status in (400, 403)
    assert "location" not in {k.lower() for k in headers}
    assert "not valid or has expired" in page or "form expired" in page


def test_authorization_code_flow_with_a_code(setup: Setup) -> None:
    seed, _ = _register(setup, "grace")
    endpoint = setup.server.endpoint
    oidc = boto3.client(
        "sso-oidc", endpoint_url=endpoint, region_name="us-east-1", config=_UNSIGNED
    )
    client = oidc.register_client(
        clientName="mfa-pkce",
        clientType="public",
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl=setup.user.start_url,
        scopes=["sso:account:access"],
    )
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = {
        "response_type": "code",
        "client_id": client["clientId"],
        "redirect_uri": "http://127.0.0.1:5555/oauth/callback",
        "state": "s-1",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
        "scopes": "sso:account:access",
    }
    browser = FormBrowser()
    _, page, _ = browser.get(f"{endpoint}/authorize?{urlencode(query)}")
    status, page, _ = browser.post(
        f"{endpoint}/authorize",
        {
            **query,
            "step": "sign-in",
            "username": "grace",
            "password": NEW_PASSWORD,
            "csrf": csrf_of(page),
        },
    )
    assert status == 200, page
    assert "Verify your identity" in page
    ticket = ticket_of(page)
    status, page, _ = browser.post(
        f"{endpoint}/authorize",
        {"step": "mfa", "ticket": ticket, "code": wrong_code(seed), "csrf": csrf_of(page)},
    )
    assert status == 401
    assert "Allow access" not in page
    status, page, _ = browser.post(
        f"{endpoint}/authorize",
        {"step": "mfa", "ticket": ticket, "code": current_code(seed, 1), "csrf": csrf_of(page)},
    )
    assert status == 200, page
    assert "Allow access" in page
    status, _, headers = browser.post(
        f"{endpoint}/authorize",
        {
            "step": "consent",
            "ticket": ticket_of(page),
            "state": "s-1",
            "decision": "allow",
            "csrf": csrf_of(page),
        },
    )
    assert status == 303
    code = parse_qs(urlsplit(headers["location"]).query)["code"][0]
    tokens = oidc.create_token(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        grantType="authorization_code",
        code=code,
        redirectUri=query["redirect_uri"],
        codeVerifier=verifier,
    )
    assert tokens["accessToken"]


def test_administrators_list_and_delete_devices(setup: Setup, tmp_path: Path) -> None:
    _register(setup, "linus")
    args = ("--identity-store-id", setup.user.store, "--user-name", "linus")
    listed = iamd_identity_center(setup.server, "list-mfa-devices", *args)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 1
    device_id = lines[0].split("\t")[0]
    gone = iamd_identity_center(setup.server, "delete-mfa-device", *args, "--device-id", device_id)
    assert gone.returncode == 0, gone.stderr
    again = iamd_identity_center(setup.server, "delete-mfa-device", *args, "--device-id", device_id)
    assert again.returncode != 0
    assert "has no MFA device" in again.stderr
    listed = iamd_identity_center(setup.server, "list-mfa-devices", *args)
    assert (listed.returncode, listed.stdout) == (0, "")
    # Without a device, the next sign-in registers one again.
    page = _password_step(FormBrowser(), Device(setup), "linus", NEW_PASSWORD)
    assert "Register an MFA device" in page
    bad = iamd_identity_center(
        setup.server,
        *("set-mfa", "--instance-arn", "arn:aws:sso:::instance/ssoins-0000000000000000"),
        *("--mode", "always"),
    )
    assert bad.returncode != 0
    assert "No instance" in bad.stderr
    nowhere = subprocess.run(
        [
            *(sys.executable, "-m", "iamd", "identity-center", "list-mfa-devices"),
            *args,
            *("--data-dir", str(tmp_path / "no-such-dir")),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert nowhere.returncode == 1
    assert "No iamd database at" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr
    assert not (tmp_path / "no-such-dir").exists()


def test_block_mode_refuses_a_user_without_a_device(tmp_path: Path) -> None:
    server = start_server(tmp_path / "iamd")
    try:
        user = provision_sso_user(server)
        require_mfa(server, no_device="block")
        setup = Setup(server, user, "")
        device = Device(setup)
        browser = FormBrowser()
        _, page, _ = browser.get(device.page)
        status, page, _ = browser.post(
            device.page,
            {
                "user_code": device.user_code,
                "username": "jdoe",
                "password": user.one_time_password,
                "new_password": NEW_PASSWORD,
                "decision": "allow",
                "csrf": csrf_of(page),
            },
        )
        assert status == 403
        assert "requires an MFA device" in page
        assert device.pending()
    finally:
        server.stop()


MFA_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:ListUsers",
                "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
    }
)


def test_role_sessions_do_not_claim_mfa(setup: Setup) -> None:
    """As with AWS, the role session of an MFA sign-in does not carry
    aws:MultiFactorAuthPresent "true": MFA is enforced at sign-in, not in policies."""
    _, token = _register(setup, "barbara")
    admin = setup.server.client("sso-admin")
    ps = admin.create_permission_set(InstanceArn=setup.instance, Name="MfaOnly")["PermissionSet"][
        "PermissionSetArn"
    ]
    admin.put_inline_policy_to_permission_set(
        InstanceArn=setup.instance, PermissionSetArn=ps, InlinePolicy=MFA_ONLY
    )
    ids = setup.server.client("identitystore")
    user_id = ids.get_user_id(
        IdentityStoreId=setup.user.store,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "barbara"}
        },
    )["UserId"]
    admin.create_account_assignment(
        InstanceArn=setup.instance,
        TargetId=setup.user.account,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=ps,
        PrincipalType="USER",
        PrincipalId=user_id,
    )
    sso = boto3.client(
        "sso", endpoint_url=setup.server.endpoint, region_name="us-east-1", config=_UNSIGNED
    )
    iam_of: dict[str, Any] = {}
    for role in ("UserReaders", "MfaOnly"):
        issued = sso.get_role_credentials(
            roleName=role, accountId=setup.user.account, accessToken=token
        )["roleCredentials"]
        iam_of[role] = boto3.client(
            "iam",
            endpoint_url=setup.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=issued["accessKeyId"],
            aws_secret_access_key=issued["secretAccessKey"],
            aws_session_token=issued["sessionToken"],
        )
    assert "Users" in iam_of["UserReaders"].list_users()
    with pytest.raises(ClientError) as denied:
        iam_of["MfaOnly"].list_users()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_five_codes_end_the_sign_in(setup: Setup) -> None:
    one_time = _new_user(setup, "eve")
    device = Device(setup)
    browser = FormBrowser()
    page = _password_step(browser, device, "eve", one_time, new_password=NEW_PASSWORD)
    seed = revealed_seed(page)
    form = page
    statuses = []
    for _ in range(5):
        # Wrong, or (inside the back-off window) not even checked: either way, counted.
        status, answer = _code_step(browser, device, form, wrong_code(seed), csrf_page=page)
        statuses.append(status)
        page = answer
    assert set(statuses) <= {401, 429}
    assert "Too many incorrect codes; sign in again." in page
    assert "mfa-secret" not in page
    status, answer = _code_step(browser, device, form, current_code(seed), csrf_page=page)
    assert status == 400
    assert "not valid or has expired" in answer
    assert device.pending()


def test_a_sign_in_left_at_the_code_has_no_user_authentication(setup: Setup) -> None:
    """As AWS logs it: the password's CredentialVerification and the CredentialChallenge
    for the code, and no UserAuthentication, when the user never gives the code."""
    name = "leaver"
    _register(setup, name)
    device = Device(setup)
    page = _password_step(FormBrowser(), device, name, NEW_PASSWORD)
    assert "Verify your identity" in page
    assert device.pending()  # nothing was approved: the page was left at the code
    events = _sign_in_events(setup, name)
    workflows: dict[str, list[tuple[str, str | None]]] = {}
    for event in events:
        steps = workflows.setdefault(event["additionalEventData"]["AuthWorkflowID"], [])
        steps.append((event["eventName"], event["additionalEventData"].get("CredentialType")))
    # The registration's sign-in completed; this one stopped at the challenge.
    assert sorted(sorted(steps) for steps in workflows.values()) == [
        [("CredentialChallenge", "TOTP"), ("CredentialVerification", "PASSWORD")],
        [
            ("CredentialChallenge", "TOTP"),
            ("CredentialVerification", "PASSWORD"),
            ("CredentialVerification", "TOTP"),
            ("UserAuthentication", None),
        ],
    ]

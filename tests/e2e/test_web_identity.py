"""AssumeRoleWithWebIdentity against a real OpenID Connect provider.

npm's `oidc-provider` serves discovery and JWKS over https on loopback with a
certificate of a test CA, which iamd trusts through `--oidc-ca-bundle`; its tokens come
from its token endpoint. The clients are unmodified: boto3's own web-identity credential
provider (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), boto3's STS client, and the
AWS CLI. iamd serves HTTPS itself, so its own issuer URL (GetWebIdentityToken) is one
a provider can be created for.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import jwt
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from tests.server.iam_helpers import ACCOUNT
from tests.support.awscli import AwsCli
from tests.support.clock import ServerClock
from tests.support.oidc_provider import (
    Client,
    IdpCa,
    NodeOidcProvider,
    SigningKey,
    b64url,
    claims_of,
    header_of,
    make_ca,
    signing_key,
)
from tests.support.organizations import new_account
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, free_port, start_server

# One world per module and worker; each test sets up what it needs itself, so the tests
# hold in any order and on any worker.
pytestmark = pytest.mark.slow

MAIN = "repo:octo-org/app:ref:refs/heads/main"
DEV = "repo:octo-org/app:ref:refs/heads/dev"
TAGGED = "tagged-workload"
WEB_APP = "web-app"
BAD_TAGS = "bad-tags"
BAD_SOURCE = "bad-source"
GOOGLE_STYLE = "google-style"
ANDROID_APP = "android-app"
GITHUB_HOST = "token.actions.githubusercontent.com"
# The claims of a GitHub Actions token AWS lists as condition keys, and one it does not.
GITHUB_CLAIMS = {
    "actor": "octocat",
    "actor_id": "583231",
    "job_workflow_ref": "octo-org/app/.github/workflows/deploy.yml@refs/heads/main",
    "repository": "octo-org/app",
    "repository_id": "1296269",
    "repository_owner_id": "9919",
    "workflow": "Deploy",
    "ref": "refs/heads/main",
    "environment": "production",
    "enterprise_id": "11468",
    "event_name": "push",
}
AUDIENCE = "sts.amazonaws.com"
TAGS_CLAIM = "https://aws.amazon.com/tags"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"
# One answer, whatever is wrong with the token: well under botocore's read timeout, and
# bounded by the 5 s of a key fetch.
BOUND_SECONDS = 6.5


@dataclass
class World:
    server: RunningServer
    idp: NodeOidcProvider
    ca: IdpCa
    clock: ServerClock
    provider_arn: str
    host: str
    tmp: Path
    #: The CA of the stand-in for GitHub Actions' issuer, and the port iamd's fetches of
    #: that issuer's keys go to (--test-oidc-connect-to).
    github_ca: IdpCa
    github_port: int

    def sts(self) -> Any:
        return boto3.client(
            "sts",
            endpoint_url=self.server.endpoint,
            region_name="us-east-1",
            verify=str(self.server.ca_bundle),
            config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
        )

    def assume(self, token: str, role: str = "ci-deploy", **extra: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.sts().assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
            RoleSessionName="run-1",
            WebIdentityToken=token,
            **extra,
        )
        return response

    def refused(self, token: str, role: str = "ci-deploy") -> tuple[str, str, float]:
        started = time.monotonic()
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            self.assume(token, role)
        error = raised.value.response["Error"]
        return str(error["Code"]), str(error["Message"]), time.monotonic() - started


def _trust(provider_arn: str, conditions: dict[str, Any], actions: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": actions,
                    "Condition": conditions,
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("web-identity")
    ca = make_ca(tmp / "ca")
    idp = NodeOidcProvider(
        tmp / "idp",
        ca,
        free_port(),
        [
            Client(MAIN),
            Client(DEV),
            Client(WEB_APP),
            Client(BAD_TAGS, claims={TAGS_CLAIM: {"principal_tags": {"aws:team": ["ci"]}}}),
            Client(BAD_SOURCE, claims={SOURCE_IDENTITY_CLAIM: "x"}),
            # A token shaped like Google's for a hybrid app: `azp` is another client id
            # than `aud`; with an email, authentication methods and a custom claim.
            Client(
                GOOGLE_STYLE,
                claims={
                    "azp": ANDROID_APP,
                    "email": "dev@example.com",
                    "amr": ["pwd", "mfa"],
                    "repository": "octo-org/app",
                },
            ),
            Client(
                TAGGED,
                claims={
                    TAGS_CLAIM: {
                        "principal_tags": {"team": ["ci"], "cost-center": ["42"]},
                        "transitive_tag_keys": ["team"],
                    },
                    SOURCE_IDENTITY_CLAIM: "alice@example.com",
                },
            ),
        ],
        [signing_key("key-1")],
    )
    idp.start()
    clock_file = tmp / "clock"
    clock = ServerClock(clock_file)
    clock.set_offset(0)
    github_ca = make_ca(tmp / "github-ca", names=[GITHUB_HOST])
    github_port = free_port()
    bundle = tmp / "bundle.pem"
    bundle.write_bytes(ca.ca_file.read_bytes() + github_ca.ca_file.read_bytes())
    server = start_server(
        tmp / "iamd",
        tls=True,
        test_clock_file=clock_file,
        extra_args=[
            "--oidc-ca-bundle",
            str(bundle),
            "--audit-trail",
            "--test-oidc-connect-to",
            f"{GITHUB_HOST}=127.0.0.1:{github_port}",
        ],
    )
    try:
        iam = server.client("iam")
        arn = iam.create_open_id_connect_provider(
            Url=idp.url, ClientIDList=[AUDIENCE], ThumbprintList=["a" * 40]
        )["OpenIDConnectProviderArn"]
        host = idp.url.removeprefix("https://")
        iam.create_role(
            RoleName="ci-deploy",
            AssumeRolePolicyDocument=_trust(
                arn,
                {"StringEquals": {f"{host}:aud": AUDIENCE, f"{host}:sub": MAIN}},
                ["sts:AssumeRoleWithWebIdentity"],
            ),
        )
        yield World(server, idp, ca, clock, arn, host, tmp, github_ca, github_port)
    finally:
        # A server serving TLS waits its whole 20 s grace period for idle keep-alive
        # connections (the tests' clients keep theirs): not worth waiting for here.
        server.stop(timeout=3)
        idp.stop()


def test_boto3_web_identity_credential_provider_gets_the_role(world: World) -> None:
    token_file = world.tmp / "token"
    token_file.write_text(world.idp.token(MAIN))
    script = (
        "import boto3, json\n"
        "session = boto3.Session()\n"
        "who = session.client('sts').get_caller_identity()\n"
        "creds = session.get_credentials()\n"
        "print(json.dumps({'arn': who['Arn'], 'method': creds.method}))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(world.tmp),
        "AWS_CONFIG_FILE": str(world.tmp / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(world.tmp / "no-credentials"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": world.server.endpoint,
        "AWS_CA_BUNDLE": str(world.server.ca_bundle),
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
        "AWS_ROLE_SESSION_NAME": "gha-run-7",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer == {
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/gha-run-7",
        "method": "assume-role-with-web-identity",
    }


def test_the_response_names_subject_provider_and_audience(world: World) -> None:
    response = world.assume(world.idp.token(MAIN), DurationSeconds=900)
    assert response["SubjectFromWebIdentityToken"] == MAIN
    assert response["Provider"] == world.provider_arn
    assert response["Audience"] == AUDIENCE
    assert response["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/run-1"
    )
    assert response["AssumedRoleUser"]["AssumedRoleId"].endswith(":run-1")
    credentials = response["Credentials"]
    lifetime = credentials["Expiration"].timestamp() - time.time()
    assert 800 < lifetime <= 905
    session = boto3.client(
        "sts",
        endpoint_url=world.server.endpoint,
        region_name="us-east-1",
        verify=str(world.server.ca_bundle),
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    assert session.get_caller_identity()["Arn"] == response["AssumedRoleUser"]["Arn"]
    # Beyond the role's maximum (one hour by default): AWS's ValidationError.
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        world.assume(world.idp.token(MAIN), DurationSeconds=7200)
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_an_id_token_of_the_authorization_code_flow(world: World) -> None:
    """A person signs in at the provider (its login and consent pages); the ID token's
    audience is the web app's client id, its subject the person."""
    iam = world.server.client("iam")
    iam.add_client_id_to_open_id_connect_provider(
        OpenIDConnectProviderArn=world.provider_arn, ClientID=WEB_APP
    )
    iam.create_role(
        RoleName="people",
        AssumeRolePolicyDocument=_trust(
            world.provider_arn,
            {
                "StringEquals": {
                    f"{world.host}:aud": WEB_APP,
                    f"{world.host}:oaud": WEB_APP,
                    f"{world.host}:sub": "alice",
                },
                "ArnEquals": {"aws:FederatedProvider": world.provider_arn},
            },
            ["sts:AssumeRoleWithWebIdentity"],
        ),
    )
    alice = world.idp.id_token(WEB_APP, "alice")
    # An ID token, not an access token (oidc-provider 9 writes no `typ` into ID tokens).
    assert header_of(alice).get("typ", "JWT") == "JWT"
    assert claims_of(alice)["aud"] == WEB_APP
    response = world.assume(alice, role="people")
    assert response["SubjectFromWebIdentityToken"] == "alice"
    assert response["Audience"] == WEB_APP
    bob = world.idp.id_token(WEB_APP, "bob")
    assert world.refused(bob, role="people")[0] == "AccessDenied"
    # The workload role's audience condition does not admit the web app's tokens.
    assert world.refused(alice)[0] == "AccessDenied"


def test_another_subject_is_access_denied(world: World) -> None:
    code, message, _ = world.refused(world.idp.token(DEV))
    assert (code, message) == (
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
    # A role that does not exist answers the same.
    code, message, _ = world.refused(world.idp.token(MAIN), role="no-such-role")
    assert (code, message) == (
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )


def _forger(world: World, keys: list[SigningKey], issuer: str | None) -> NodeOidcProvider:
    """Another oidc-provider with keys of its own, writing `issuer` into its tokens."""
    return NodeOidcProvider(
        world.tmp / "forger", world.ca, free_port(), [Client(MAIN)], keys, issuer=issuer
    )


def test_a_token_signed_by_another_key_is_invalid(world: World) -> None:
    # Another key under another kid: not among the provider's keys, even after the
    # refetch an unknown kid causes.
    forger = _forger(world, [signing_key("key-forged")], world.idp.issuer)
    forger.start()
    try:
        forged = forger.token(MAIN)
    finally:
        forger.stop()
    assert claims_of(forged)["iss"] == world.idp.issuer
    code, message, elapsed = world.refused(forged)
    assert code == "InvalidIdentityToken"
    assert "verification key" in message
    assert elapsed < BOUND_SECONDS
    # Another key under the provider's own kid: the signature does not verify.
    forger = _forger(world, [signing_key("key-1")], world.idp.issuer)
    forger.start()
    try:
        forged = forger.token(MAIN)
    finally:
        forger.stop()
    assert header_of(forged)["kid"] == "key-1"
    code, message, _ = world.refused(forged)
    assert code == "InvalidIdentityToken"
    assert "signature" in message


def test_a_token_from_an_issuer_with_no_provider_is_invalid(world: World) -> None:
    forger = _forger(world, [signing_key("key-x")], None)
    forger.start()
    try:
        token = forger.token(MAIN)
    finally:
        forger.stop()
    code, message, _ = world.refused(token)
    assert code == "InvalidIdentityToken"
    assert message == f"No OpenIDConnect provider found in your account for {forger.issuer}"


def test_a_token_for_another_audience_is_invalid(world: World) -> None:
    token = world.idp.token(MAIN, resource="https://api.example.com")
    assert claims_of(token)["aud"] == "api.example.com"
    assert world.refused(token)[:2] == ("InvalidIdentityToken", "Incorrect token audience")


def _resigned(token: str, header: dict[str, Any], signature: bytes) -> str:
    claims_part = token.split(".")[1]
    return f"{b64url(json.dumps(header).encode())}.{claims_part}.{b64url(signature)}"


def test_tampered_tokens_are_refused_in_bounded_time(world: World) -> None:
    token = world.idp.token(MAIN)
    header = header_of(token)
    signing_input = ".".join(token.split(".")[:2])
    public_pem = world.idp.keys[0].public_pem
    hs256 = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    none_header = {"alg": "none", "typ": "JWT"}
    cases = {
        "truncated": (token[: len(token) // 2], "InvalidIdentityToken"),
        "no signature": (token.rsplit(".", 1)[0] + ".", "InvalidIdentityToken"),
        "alg none": (_resigned(token, none_header, b""), "InvalidIdentityToken"),
        "alg none, signed": (_resigned(token, none_header, b"x" * 32), "InvalidIdentityToken"),
        "HS256 with the public key": (
            f"{b64url(json.dumps({**header, 'alg': 'HS256'}).encode())}"
            f".{token.split('.')[1]}.{b64url(hs256)}",
            "InvalidIdentityToken",
        ),
        "claims altered": (
            f"{token.split('.')[0]}."
            f"{b64url(json.dumps({**claims_of(token), 'sub': DEV}).encode())}"
            f".{token.split('.')[2]}",
            "InvalidIdentityToken",
        ),
        "opaque access token": ("a" * 43, "InvalidIdentityToken"),
        "oversized": (token + "A" * (20_001 - len(token)), "ValidationError"),
    }
    for name, (bad, expected) in cases.items():
        code, message, elapsed = world.refused(bad)
        assert code == expected, (name, code, message)
        assert elapsed < BOUND_SECONDS, name
        assert token not in message, name
    # The HS256 attempt is refused for its algorithm, before any key is used.
    assert "algorithm" in world.refused(cases["HS256 with the public key"][0])[1]


def test_expired_and_not_yet_valid_tokens(world: World) -> None:
    token = world.idp.token(MAIN)
    claims = claims_of(token)
    try:
        # oidc-provider's access tokens live 600 s: 700 s on, the token has expired.
        world.clock.set_offset(700)
        code, message, _ = world.refused(token)
        assert code == "ExpiredTokenException"
        assert message.startswith("Token expired: current date/time ")
        assert message.endswith(f"must be before the expiration date/time{claims['exp']}")
        # An hour back, the token was issued in the future.
        world.clock.set_offset(-3600)
        code, message, _ = world.refused(token)
        assert code == "InvalidIdentityToken"
        assert "issued in the future" in message
    finally:
        world.clock.set_offset(0)
    assert world.assume(token)["SubjectFromWebIdentityToken"] == MAIN


def test_session_tags_and_source_identity_from_the_token(world: World) -> None:
    iam = world.server.client("iam")
    host = world.host
    conditions = {
        "StringEquals": {f"{host}:sub": TAGGED, "aws:RequestTag/team": "ci"},
    }
    iam.create_role(
        RoleName="tagged",
        AssumeRolePolicyDocument=_trust(
            world.provider_arn,
            conditions,
            ["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"],
        ),
    )
    # Without sts:TagSession and sts:SetSourceIdentity in the trust policy, a token that
    # sets them is refused.
    iam.create_role(
        RoleName="untagged",
        AssumeRolePolicyDocument=_trust(
            world.provider_arn, conditions, ["sts:AssumeRoleWithWebIdentity"]
        ),
    )
    token = world.idp.token(TAGGED)
    assert world.refused(token, role="untagged")[0] == "AccessDenied"

    # A session policy that fits alone does not fit with the token's tags.
    def padded(sid: str) -> str:
        statement = {"Sid": sid, "Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}
        return json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":")
        )

    policy = padded("A" * (2040 - len(padded(""))))
    assert 2030 < len(policy) <= 2048
    with pytest.raises(botocore.exceptions.ClientError) as too_large:
        world.assume(token, role="tagged", Policy=policy)
    assert too_large.value.response["Error"]["Code"] == "PackedPolicyTooLarge"
    alone = world.assume(world.idp.token(MAIN), Policy=policy)
    assert alone["PackedPolicySize"] == 100
    response = world.assume(token, role="tagged")
    assert response["SourceIdentity"] == "alice@example.com"
    assert response["PackedPolicySize"] > 0
    credentials = response["Credentials"]
    # The session's tags reach its policies: a role policy allowing GetRole only to a
    # session tagged team=ci lets this session read the role.
    iam.put_role_policy(
        RoleName="tagged",
        PolicyName="by-tag",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:GetRole",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ci"}},
                    },
                    {
                        "Effect": "Allow",
                        "Action": "iam:ListRoles",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "other"}},
                    },
                ],
            }
        ),
    )
    session_iam = world.server.client(
        "iam",
        key_id=credentials["AccessKeyId"],
        secret=credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
    )
    assert session_iam.get_role(RoleName="tagged")["Role"]["RoleName"] == "tagged"
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        session_iam.list_roles()
    assert raised.value.response["Error"]["Code"] == "AccessDenied"


def test_malformed_session_claims_are_rejected_claims(world: World) -> None:
    for client in (BAD_TAGS, BAD_SOURCE):
        code, message, _ = world.refused(world.idp.token(client))
        assert code == "IDPRejectedClaim", (client, message)


def test_a_rotated_key_is_fetched_once_it_signs(world: World) -> None:
    before = world.idp.token(MAIN)
    world.assume(before)
    rotated = [signing_key("key-2"), world.idp.keys[0]]
    world.idp.stop()
    world.idp.start(rotated)
    # iamd refetches an issuer's keys for an unknown kid at most once a second.
    time.sleep(1.2)
    after = world.idp.token(MAIN)
    assert header_of(after)["kid"] == "key-2"
    assert world.assume(after)["SubjectFromWebIdentityToken"] == MAIN
    # The old key is still published: its tokens still verify.
    assert world.assume(before)["SubjectFromWebIdentityToken"] == MAIN


def test_the_aws_cli_assumes_the_role(world: World) -> None:
    aws = AwsCli(world.server, ADMIN_KEY_ID, ADMIN_SECRET, world.tmp)
    aws.env["AWS_CA_BUNDLE"] = str(world.server.ca_bundle)
    answer = aws.run(
        "sts",
        "assume-role-with-web-identity",
        "--role-arn",
        f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
        "--role-session-name",
        "cli-run",
        "--web-identity-token",
        world.idp.token(MAIN),
    ).json()
    assert answer["SubjectFromWebIdentityToken"] == MAIN
    assert answer["Provider"] == world.provider_arn
    assert answer["Audience"] == AUDIENCE
    assert answer["AssumedRoleUser"]["Arn"].endswith(":assumed-role/ci-deploy/cli-run")
    refused = aws.run(
        "sts",
        "assume-role-with-web-identity",
        "--role-arn",
        f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
        "--role-session-name",
        "cli-run",
        "--web-identity-token",
        world.idp.token(DEV),
        check=False,
    )
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr


def test_the_trail_records_a_web_identity_user(world: World) -> None:
    token = world.idp.token(MAIN)
    world.assume(token)
    trail = world.server.client("cloudtrail")
    deadline = time.monotonic() + 10
    while True:
        events = trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": MAIN}]
        )["Events"]
        found = [e for e in events if e["EventName"] == "AssumeRoleWithWebIdentity"]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert found
    record = json.loads(found[0]["CloudTrailEvent"])
    assert record["userIdentity"] == {
        "type": "WebIdentityUser",
        "principalId": f"{world.provider_arn}:{AUDIENCE}:{MAIN}",
        "userName": MAIN,
        "identityProvider": world.provider_arn,
    }
    assert record["eventSource"] == "sts.amazonaws.com"
    assert record["responseElements"]["subjectFromWebIdentityToken"] == MAIN
    # The token is a credential: it is not in the record.
    assert token not in found[0]["CloudTrailEvent"]
    assert token.split(".")[2] not in found[0]["CloudTrailEvent"]
    # A verified identity the trust policy refuses is recorded as who it is.
    refused = world.idp.token(DEV)
    assert world.refused(refused)[0] == "AccessDenied"
    deadline = time.monotonic() + 10
    while True:
        events = trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": DEV}]
        )["Events"]
        denied = [
            json.loads(e["CloudTrailEvent"])
            for e in events
            if e["EventName"] == "AssumeRoleWithWebIdentity"
        ]
        denied = [r for r in denied if r.get("errorCode") == "AccessDenied"]
        if denied or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert denied
    assert denied[0]["userIdentity"]["type"] == "WebIdentityUser"
    assert denied[0]["userIdentity"]["principalId"] == f"{world.provider_arn}:{AUDIENCE}:{DEV}"
    assert refused not in json.dumps(denied[0])


def _trusting_iamd(world: World) -> tuple[str, str, str]:
    """This account trusting its own iamd issuer: outbound federation enabled, a provider
    for it with the audience https://workloads.example.com, and the role `from-iamd` for
    the administrator's tokens, each made unless there already (another test of the
    module may have made them on this worker). (issuer, provider ARN, a token's subject)"""
    iam = world.server.client("iam")
    try:
        issuer: str = iam.get_outbound_web_identity_federation_info()["IssuerIdentifier"]
    except iam.exceptions.FeatureDisabledException:
        issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    token = world.server.client("sts").get_web_identity_token(
        Audience=["https://workloads.example.com"], SigningAlgorithm="ES384"
    )["WebIdentityToken"]
    subject = str(claims_of(token)["sub"])
    host = issuer.removeprefix("https://")
    try:
        arn: str = iam.create_open_id_connect_provider(
            Url=issuer, ClientIDList=["https://workloads.example.com"]
        )["OpenIDConnectProviderArn"]
    except iam.exceptions.EntityAlreadyExistsException:
        listed = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        arn = next(p["Arn"] for p in listed if p["Arn"].endswith(f"oidc-provider/{host}"))
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(
            RoleName="from-iamd",
            AssumeRolePolicyDocument=_trust(
                arn, {"StringEquals": {f"{host}:sub": subject}}, ["sts:AssumeRoleWithWebIdentity"]
            ),
        )
    return issuer, arn, subject


def test_iamds_own_token_is_accepted(world: World) -> None:
    issuer, arn, subject = _trusting_iamd(world)
    assert issuer.startswith(world.server.endpoint + "/oidc/")
    sts = world.server.client("sts")
    token = sts.get_web_identity_token(
        Audience=["https://workloads.example.com"], SigningAlgorithm="ES384"
    )["WebIdentityToken"]
    assert claims_of(token)["sub"] == subject
    response = world.assume(token, role="from-iamd")
    assert response["SubjectFromWebIdentityToken"] == subject
    assert response["Provider"] == arn
    # An RS256 token verifies too, and one for another audience does not.
    rs256 = sts.get_web_identity_token(
        Audience=["https://workloads.example.com"], SigningAlgorithm="RS256"
    )["WebIdentityToken"]
    assert world.assume(rs256, role="from-iamd")["Audience"] == "https://workloads.example.com"
    other = sts.get_web_identity_token(Audience=["urn:other"], SigningAlgorithm="RS256")[
        "WebIdentityToken"
    ]
    assert world.refused(other, role="from-iamd")[:2] == (
        "InvalidIdentityToken",
        "Incorrect token audience",
    )


def test_a_role_of_another_account_trusts_a_principal_of_this_one(world: World) -> None:
    """Outbound federation between accounts: account B's role trusts tokens iamd issues
    to account A's administrator."""
    issuer, _, _ = _trusting_iamd(world)
    organizations = world.server.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    account_b = new_account(organizations, "b@example.com", "team-b")
    admin_b = world.server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_b}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup",
    )["Credentials"]
    iam_b = world.server.client(
        "iam",
        key_id=admin_b["AccessKeyId"],
        secret=admin_b["SecretAccessKey"],
        token=admin_b["SessionToken"],
    )
    arn = iam_b.create_open_id_connect_provider(Url=issuer, ClientIDList=["urn:team-b"])[
        "OpenIDConnectProviderArn"
    ]
    assert arn.startswith(f"arn:aws:iam::{account_b}:oidc-provider/")
    token = world.server.client("sts").get_web_identity_token(
        Audience=["urn:team-b"], SigningAlgorithm="ES384"
    )["WebIdentityToken"]
    subject = claims_of(token)["sub"]
    assert subject.startswith(f"arn:aws:iam::{ACCOUNT}:user/")
    host = issuer.removeprefix("https://")
    iam_b.create_role(
        RoleName="from-account-a",
        AssumeRolePolicyDocument=_trust(
            arn, {"StringEquals": {f"{host}:sub": subject}}, ["sts:AssumeRoleWithWebIdentity"]
        ),
    )
    response = world.sts().assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{account_b}:role/from-account-a",
        RoleSessionName="cross",
        WebIdentityToken=token,
    )
    assert response["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{account_b}:assumed-role/from-account-a/cross"
    )
    assert response["Provider"] == arn
    # Account A has no provider for the audience of B: the same token assumes nothing
    # of A's.
    assert world.refused(token, role="from-iamd")[:2] == (
        "InvalidIdentityToken",
        "Incorrect token audience",
    )


# -- the provider's condition keys -------------------------------------------------------


def _role(world: World, name: str, provider_arn: str, conditions: dict[str, Any]) -> None:
    """The role, trusting the provider under `conditions`, made unless there already
    (only that is forgiven: a refused trust policy would make every refusal vacuous)."""
    iam = world.server.client("iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=_trust(
                provider_arn, conditions, ["sts:AssumeRoleWithWebIdentity"]
            ),
        )


def test_the_default_keys_aud_oaud_sub_email_amr(world: World) -> None:
    """AWS's default keys, as for Google's hybrid apps: `aud` is the token's `azp` when
    that is a client id of the provider, `oaud` the token's own `aud`; `email`; `amr`
    multivalued. A claim AWS lists no key for (`repository` of a provider that is not
    GitHub's) is no key: a condition on it matches nothing."""
    iam = world.server.client("iam")
    iam.add_client_id_to_open_id_connect_provider(
        OpenIDConnectProviderArn=world.provider_arn, ClientID=ANDROID_APP
    )
    host = world.host
    _role(
        world,
        "default-keys",
        world.provider_arn,
        {
            "StringEquals": {
                f"{host}:aud": ANDROID_APP,
                f"{host}:oaud": AUDIENCE,
                f"{host}:sub": GOOGLE_STYLE,
                f"{host}:email": "dev@example.com",
            },
            "ForAnyValue:StringEquals": {f"{host}:amr": "mfa"},
        },
    )
    _role(
        world,
        "not-all-methods",
        world.provider_arn,
        {"ForAllValues:StringEquals": {f"{host}:amr": ["pwd"]}},
    )
    _role(
        world,
        "custom-claim",
        world.provider_arn,
        {"StringEquals": {f"{host}:repository": "octo-org/app"}},
    )
    _role(world, "aud-is-azp", world.provider_arn, {"StringEquals": {f"{host}:aud": AUDIENCE}})
    token = world.idp.token(GOOGLE_STYLE)
    claims = claims_of(token)
    assert (claims["azp"], claims["aud"]) == (ANDROID_APP, AUDIENCE)
    response = world.assume(token, role="default-keys")
    assert response["Audience"] == ANDROID_APP
    for role in ("not-all-methods", "custom-claim", "aud-is-azp"):
        assert world.refused(token, role=role)[0] == "AccessDenied", role


def test_github_actions_keys(world: World) -> None:
    """The claims AWS lists for GitHub Actions' issuer are keys named after it
    (`token.actions.githubusercontent.com:repository_id`...); others (`event_name`)
    are not. The stand-in issuer is oidc-provider with GitHub's issuer URL and a
    certificate for its host; iamd's fetches of its keys are sent to it on loopback."""
    github = NodeOidcProvider(
        world.tmp / "github",
        world.github_ca,
        world.github_port,
        [Client(MAIN, claims=GITHUB_CLAIMS)],
        [signing_key("github-1")],
        issuer=f"https://{GITHUB_HOST}",
    )
    github.start()
    try:
        # The test's own client connects to 127.0.0.1, which the certificate does not name.
        token = github.token(MAIN, check_hostname=False)
        iam = world.server.client("iam")
        try:
            arn = iam.create_open_id_connect_provider(
                Url=f"https://{GITHUB_HOST}", ClientIDList=[AUDIENCE]
            )["OpenIDConnectProviderArn"]
        except iam.exceptions.EntityAlreadyExistsException:
            arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_HOST}"
        listed = {k: v for k, v in GITHUB_CLAIMS.items() if k != "event_name"}
        _role(
            world,
            "github-keys",
            arn,
            {
                "StringEquals": {
                    f"{GITHUB_HOST}:aud": AUDIENCE,
                    f"{GITHUB_HOST}:sub": MAIN,
                    **{f"{GITHUB_HOST}:{k}": v for k, v in listed.items()},
                }
            },
        )
        _role(world, "github-event", arn, {"StringEquals": {f"{GITHUB_HOST}:event_name": "push"}})
        _role(
            world,
            "github-other-repo",
            arn,
            {"StringEquals": {f"{GITHUB_HOST}:repository_id": "1"}},
        )
        response = world.assume(token, role="github-keys")
        assert response["Provider"] == arn
        assert response["SubjectFromWebIdentityToken"] == MAIN
        assert world.refused(token, role="github-event")[0] == "AccessDenied"
        assert world.refused(token, role="github-other-repo")[0] == "AccessDenied"
    finally:
        github.stop()


# -- providers that misbehave ------------------------------------------------------------


_RELEASE = threading.Event()


class _Misbehaving(BaseHTTPRequestHandler):
    """/slow: answers after 20 s (or when the test ends); /redirect: 302; /error: 500;
    /huge: a 100 KiB JWKS."""

    def do_GET(self) -> None:
        address = self.server.server_address
        assert isinstance(address, tuple)
        base = f"https://127.0.0.1:{address[1]}"
        kind = self.path.split("/")[1]
        if kind == "slow":
            _RELEASE.wait(20)
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", f"{base}/elsewhere")
            self.end_headers()
            return
        if kind == "error":
            self.send_response(500)
            self.end_headers()
            return
        if self.path.endswith("/jwks"):
            body = json.dumps({"keys": [{"kty": "oct", "k": "A" * 100_000}]}).encode()
        else:
            body = json.dumps(
                {"issuer": f"{base}/{kind}", "jwks_uri": f"{base}/{kind}/jwks"}
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def test_a_misbehaving_provider_gets_aws_errors_in_bounded_time(world: World) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(world.ca.cert_file), str(world.ca.key_file))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    iam = world.server.client("iam")
    key = signing_key("k")
    try:
        base = f"https://127.0.0.1:{httpd.server_address[1]}"
        expected = {
            "slow": "IDPCommunicationError",
            "error": "IDPCommunicationError",
            "redirect": "InvalidIdentityToken",
            "huge": "InvalidIdentityToken",
        }
        for kind, code in expected.items():
            issuer = f"{base}/{kind}"
            arn = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=[AUDIENCE])[
                "OpenIDConnectProviderArn"
            ]
            role = f"via-{kind}"
            iam.create_role(
                RoleName=role,
                AssumeRolePolicyDocument=_trust(arn, {}, ["sts:AssumeRoleWithWebIdentity"]),
            )
            now = int(time.time())
            token = jwt.encode(
                {"iss": issuer, "sub": "someone", "aud": AUDIENCE, "iat": now, "exp": now + 300},
                key.key,
                algorithm="RS256",
                headers={"kid": "k"},
            )
            if kind == "slow":
                # While one request waits for the slow provider, another for the same
                # issuer gives up after a second, and the rest of the API answers.
                first: list[tuple[str, str, float]] = []
                waiting = threading.Thread(
                    target=lambda out, t, r: out.append(world.refused(t, role=r)),
                    args=(first, token, role),
                )
                waiting.start()
                time.sleep(0.5)
                meanwhile = world.refused(token, role=role)
                assert meanwhile[0] == "IDPCommunicationError"
                assert meanwhile[2] < 2.0, meanwhile
                asked = time.monotonic()
                world.server.client("sts").get_caller_identity()
                assert time.monotonic() - asked < 1.0
                waiting.join()
                got, message, elapsed = first[0]
            else:
                got, message, elapsed = world.refused(token, role=role)
            assert got == code, (kind, got, message)
            assert elapsed < BOUND_SECONDS, (kind, elapsed)
            # A second try within the failure's memory is answered at once.
            again, _, quick = world.refused(token, role=role)
            assert again == code
            assert quick < 1.0, (kind, quick)
    finally:
        _RELEASE.set()
        httpd.shutdown()
        httpd.server_close()


def test_an_unreadable_ca_bundle_stops_the_start(tmp_path: Path) -> None:
    bundle = tmp_path / "not-a-bundle.pem"
    bundle.write_text("not a certificate\n")
    with pytest.raises(RuntimeError) as raised:
        start_server(tmp_path / "data", extra_args=["--oidc-ca-bundle", str(bundle)])
    assert "--oidc-ca-bundle: cannot read the CA bundle" in str(raised.value)
    assert "Traceback" not in str(raised.value)

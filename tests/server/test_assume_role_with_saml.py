"""AssumeRoleWithSAML against a real server, with responses signed by a real pysaml2 IdP:
boto3 sending it unsigned (as botocore does) and the real AWS CLI; the session works;
altered, replayed, expired and wrongly addressed responses and unmet trust conditions
are refused with AWS's errors."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from tests.server.iam_helpers import error_of
from tests.support.awscli import AwsCli
from tests.support.saml_idp import OTHER_SP, SamlIdp
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

ROLE_ATTR = "https://aws.amazon.com/SAML/Attributes/Role"
NAME_ATTR = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> SamlIdp:
    return SamlIdp(tmp_path_factory.mktemp("arws-idp"))


def _unsigned_sts(server: RunningServer) -> Any:
    return boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def _setup(
    iam: Any, idp: SamlIdp, name: str, condition: dict[str, Any] | None = None
) -> tuple[str, str]:
    provider = iam.create_saml_provider(Name=name, SAMLMetadataDocument=idp.metadata)[
        "SAMLProviderArn"
    ]
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": condition
        or {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    }
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )["Role"]["Arn"]
    return role, provider


def _response(idp: SamlIdp, role: str, provider: str, subject: str = "alice", **kw: Any) -> str:
    return idp.response(
        subject, {ROLE_ATTR: [f"{role},{provider}"], NAME_ATTR: ["alice@example.test"]}, **kw
    )


def test_boto3_unsigned_gets_a_working_session(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp
) -> None:
    role, provider = _setup(iam, idp, f"{unique}-saml")
    sts = _unsigned_sts(server)
    response = _response(idp, role, provider)
    got = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=response)
    account = role.split(":")[4]
    assert got["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{account}:assumed-role/{unique}-saml/alice@example.test"
    )
    assert got["Subject"] == "alice"
    assert got["SubjectType"] == "persistent"
    assert got["Issuer"] == idp.entity_id
    assert got["Audience"] == "https://signin.aws.amazon.com/saml"
    assert got["NameQualifier"]
    creds = got["Credentials"]
    me = server.client(
        "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    ).get_caller_identity()
    assert me["Arn"] == got["AssumedRoleUser"]["Arn"]

    # The same response a second time: refused.
    status, code, message = error_of(
        sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider, SAMLAssertion=response
    )
    assert (status, code) == (400, "InvalidIdentityToken")
    assert "already been used" in message


def test_aws_cli_assume_role_with_saml(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp, tmp_path: Path
) -> None:
    role, provider = _setup(iam, idp, f"{unique}-cli")
    cli = AwsCli(server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    out = cli.run(
        "sts",
        "assume-role-with-saml",
        "--role-arn",
        role,
        "--principal-arn",
        provider,
        "--saml-assertion",
        _response(idp, role, provider, sign_response=False, sign_assertion=True),
        "--duration-seconds",
        "900",
    ).json()
    assert out["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{unique}-cli/alice@example.test")
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    # The same kind of response with one attribute altered after signing fails.
    xml = base64.b64decode(
        _response(idp, role, provider, sign_response=False, sign_assertion=True)
    ).decode()
    altered = xml.replace("alice@example.test", "mallory@example.test")
    assert altered != xml
    failed = cli.run(
        "sts",
        "assume-role-with-saml",
        "--role-arn",
        role,
        "--principal-arn",
        provider,
        "--saml-assertion",
        base64.b64encode(altered.encode()).decode(),
        check=False,
    )
    assert failed.returncode != 0
    assert "InvalidIdentityToken" in failed.stderr
    assert "Response signature invalid" in failed.stderr


def test_refusals(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp, tmp_path: Path
) -> None:
    role, provider = _setup(
        iam,
        idp,
        f"{unique}-cond",
        {"StringEquals": {"saml:sub": "alice", "saml:sub_type": "persistent"}},
    )
    sts = _unsigned_sts(server)

    def call(assertion: str, **kw: Any) -> tuple[int, str, str]:
        return error_of(
            sts.assume_role_with_saml,
            RoleArn=kw.get("role", role),
            PrincipalArn=kw.get("provider", provider),
            SAMLAssertion=assertion,
        )

    # One attribute altered after signing breaks the signature.
    xml = base64.b64decode(_response(idp, role, provider)).decode()
    altered = xml.replace("alice@example.test", "mallory@example.test")
    assert altered != xml
    assert call(base64.b64encode(altered.encode()).decode()) == (
        400,
        "InvalidIdentityToken",
        "Response signature invalid",
    )
    # Signed by another IdP's key.
    stranger = SamlIdp(tmp_path / "stranger", idp.entity_id)
    assert call(_response(stranger, role, provider))[1] == "InvalidIdentityToken"
    # Another audience.
    assert call(_response(idp, role, provider, audience=OTHER_SP))[1] == ("InvalidIdentityToken")
    # saml:sub condition not met.
    assert call(_response(idp, role, provider, subject="bob")) == (
        403,
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithSAML",
    )
    # The Role attribute names another role.
    other_role, _ = _setup(iam, idp, f"{unique}-other")
    assert call(_response(idp, role, provider), role=other_role)[1] == "AccessDenied"
    # A provider that does not exist.
    ghost = provider + "-ghost"
    assert call(_response(idp, role, ghost), provider=ghost) == (
        400,
        "InvalidIdentityToken",
        "Specified provider doesn't exist",
    )
    # Not a SAML response at all.
    assert call(base64.b64encode(b"<x/>").decode())[1] == "InvalidIdentityToken"
    # Still a working one afterwards: refusals burn nothing.
    ok = sts.assume_role_with_saml(
        RoleArn=role, PrincipalArn=provider, SAMLAssertion=_response(idp, role, provider)
    )
    assert ok["Subject"] == "alice"


def test_expired_response(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp, tmp_path: Path
) -> None:
    role, provider = _setup(iam, idp, f"{unique}-exp")
    stale = SamlIdp(tmp_path / "stale", idp.entity_id, lifetime_minutes=-10)
    iam.update_saml_provider(SAMLProviderArn=provider, SAMLMetadataDocument=stale.metadata)
    old = _response(stale, role, provider)
    status, code, message = error_of(
        _unsigned_sts(server).assume_role_with_saml,
        RoleArn=role,
        PrincipalArn=provider,
        SAMLAssertion=old,
    )
    assert (status, code, message) == (400, "ExpiredTokenException", "Response has expired")


def test_session_policy_duration_and_session_duration_attribute(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp
) -> None:
    name = f"{unique}-pol"
    role, provider = _setup(iam, idp, name)
    iam.put_role_policy(
        RoleName=name,
        PolicyName="lists",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["iam:ListRoles", "iam:ListUsers"],
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    only_roles = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}],
        }
    )
    sts = _unsigned_sts(server)
    got = sts.assume_role_with_saml(
        RoleArn=role,
        PrincipalArn=provider,
        SAMLAssertion=_response(idp, role, provider),
        Policy=only_roles,
    )
    assert 0 < got["PackedPolicySize"] <= 100
    creds = got["Credentials"]
    session = server.client(
        "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    session.list_roles()
    assert error_of(session.list_users)[1] == "AccessDenied"

    # More than the role's MaxSessionDuration (1 hour by default).
    assert error_of(
        sts.assume_role_with_saml,
        RoleArn=role,
        PrincipalArn=provider,
        SAMLAssertion=_response(idp, role, provider),
        DurationSeconds=7200,
    ) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    # The SessionDuration attribute sets the length when DurationSeconds is absent.
    response = idp.response(
        "alice",
        {
            ROLE_ATTR: [f"{provider},{role}"],
            NAME_ATTR: ["alice"],
            "https://aws.amazon.com/SAML/Attributes/SessionDuration": ["900"],
        },
    )
    short = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=response)
    remaining = short["Credentials"]["Expiration"] - datetime.now(UTC)
    assert timedelta(minutes=13) < remaining <= timedelta(minutes=15)


@pytest.mark.slow
def test_the_trail_records_a_saml_user_without_the_assertion(tmp_path: Path, idp: SamlIdp) -> None:
    running = start_server(tmp_path / "data", extra_args=["--audit-trail"])
    try:
        iam = running.client("iam")
        role, provider = _setup(iam, idp, "trail-saml")
        response = _response(idp, role, provider)
        _unsigned_sts(running).assume_role_with_saml(
            RoleArn=role, PrincipalArn=provider, SAMLAssertion=response
        )
        trail = running.client("cloudtrail")
        only = [{"AttributeKey": "EventName", "AttributeValue": "AssumeRoleWithSAML"}]
        deadline = time.monotonic() + 10
        while not (events := trail.lookup_events(LookupAttributes=only)["Events"]):
            assert time.monotonic() < deadline, "no AssumeRoleWithSAML event"
            time.sleep(0.2)
        record = json.loads(events[0]["CloudTrailEvent"])
        assert record["userIdentity"]["type"] == "SAMLUser"
        assert record["userIdentity"]["userName"] == "alice"
        assert record["userIdentity"]["principalId"].endswith(":alice")
        assert response not in events[0]["CloudTrailEvent"]
        assert response[:200] not in events[0]["CloudTrailEvent"]
    finally:
        running.stop()

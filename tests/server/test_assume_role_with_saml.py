"""AssumeRoleWithSAML against a real server, with responses signed by a real pysaml2 IdP:
boto3 sending it unsigned (as botocore does) and the real AWS CLI; the session works;
altered, replayed, expired and wrongly addressed responses and unmet trust conditions
are refused with AWS's errors; encrypted assertions open with the provider's private
keys; session tags and source identity come from the attributes."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from saml2.sigver import RSA_1_5, TRIPLE_DES_CBC
from tests.server.iam_helpers import error_of
from tests.support.awscli import AwsCli
from tests.support.saml_idp import AES128_GCM, AES256_CBC, OTHER_SP, SamlIdp, key_pair
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

TRIPLE_DES = (TRIPLE_DES_CBC, "des-192")
ROLE_ATTR = "https://aws.amazon.com/SAML/Attributes/Role"
NAME_ATTR = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
TAG_ATTR = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
TRANSITIVE_ATTR = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
SOURCE_ATTR = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
TAGGING_ACTIONS = ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"]


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
    iam: Any,
    idp: SamlIdp,
    name: str,
    condition: dict[str, Any] | None = None,
    actions: list[str] | None = None,
    provider: str | None = None,
) -> tuple[str, str]:
    if provider is None:
        provider = iam.create_saml_provider(Name=name, SAMLMetadataDocument=idp.metadata)[
            "SAMLProviderArn"
        ]
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": actions or "sts:AssumeRoleWithSAML",
        "Condition": condition
        or {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    }
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )["Role"]["Arn"]
    return role, provider


def _response(
    idp: SamlIdp,
    role: str,
    provider: str,
    subject: str = "alice",
    extra: dict[str, list[str]] | None = None,
    **kw: Any,
) -> str:
    attributes = {ROLE_ATTR: [f"{role},{provider}"], NAME_ATTR: ["alice@example.test"]}
    return idp.response(subject, {**attributes, **(extra or {})}, **kw)


def _tagged(**tags: str) -> dict[str, list[str]]:
    return {f"{TAG_ATTR}{key}": [value] for key, value in tags.items()}


def _session(server: RunningServer, got: dict[str, Any], service: str = "iam") -> Any:
    creds = got["Credentials"]
    return server.client(
        service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )


def _allow_by_principal_tag(iam: Any, role_name: str, **conditions: str) -> None:
    """A role policy allowing each action only to a session tagged as given:
    `iam_GetRole="team=ci"`."""
    statements = []
    for action, tag in conditions.items():
        key, value = tag.split("=")
        statements.append(
            {
                "Effect": "Allow",
                "Action": action.replace("_", ":"),
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:PrincipalTag/{key}": value}},
            }
        )
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="by-tag",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
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


def test_aws_cli_with_an_encrypted_assertion(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp, tmp_path: Path
) -> None:
    key, cert = key_pair(tmp_path, "sp")
    cli = AwsCli(server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    (tmp_path / "idp.xml").write_text(idp.metadata)
    name = f"{unique}-clienc"
    provider = cli.run(
        "iam",
        "create-saml-provider",
        "--name",
        name,
        "--saml-metadata-document",
        "file://idp.xml",
        "--assertion-encryption-mode",
        "Required",
        "--add-private-key",
        f"file://{key}",
    ).json()["SAMLProviderArn"]
    got = cli.run("iam", "get-saml-provider", "--saml-provider-arn", provider)
    assert got.json()["AssertionEncryptionMode"] == "Required"
    assert len(got.json()["PrivateKeyList"]) == 1
    assert "PRIVATE KEY" not in got.stdout
    role, _ = _setup(iam, idp, name, provider=provider)
    attributes = {ROLE_ATTR: [f"{role},{provider}"], NAME_ATTR: ["alice@example.test"]}
    out = cli.run(
        "sts",
        "assume-role-with-saml",
        "--role-arn",
        role,
        "--principal-arn",
        provider,
        "--saml-assertion",
        idp.encrypted_response("alice", attributes, cert),
    ).json()
    assert out["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{name}/alice@example.test")


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


def test_truncated_and_oversized_responses(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp
) -> None:
    """A response cut short (in its base64 or in its XML) is no SAML response:
    InvalidIdentityToken; one over the model's 100000 characters is ValidationError
    before it is parsed. Never a 500, and the intact response still works after."""
    role, provider = _setup(iam, idp, f"{unique}-cut")
    sts = _unsigned_sts(server)
    good = _response(idp, role, provider)
    xml = base64.b64decode(good)
    cut = {
        "base64 cut in the middle": good[: len(good) // 2 + 1],
        "XML cut in the middle": base64.b64encode(xml[: len(xml) // 2]).decode(),
        "XML cut before the closing tag": base64.b64encode(xml[:-12]).decode(),
        "not base64": "%" * 64,
    }
    for case, assertion in cut.items():
        status, code, _ = error_of(
            sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider, SAMLAssertion=assertion
        )
        assert (status, code) == (400, "InvalidIdentityToken"), case
    padded = base64.b64encode(xml + b" " * (75_001 - len(xml))).decode()
    assert len(padded) > 100_000
    status, code, message = error_of(
        sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider, SAMLAssertion=padded
    )
    assert (status, code) == (400, "ValidationError"), message
    assert "length less than or equal to 100000" in message
    # The assertion is a sensitive member: the message does not repeat it.
    assert "***" in message
    assert padded[:40] not in message
    ok = sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=good)
    assert ok["Subject"] == "alice"


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
        role, provider = _setup(iam, idp, "trail-saml", actions=TAGGING_ACTIONS)
        iam.put_role_policy(
            RoleName="trail-saml",
            PolicyName="read",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}],
                }
            ),
        )
        response = _response(
            idp, role, provider, extra={**_tagged(team="ci"), SOURCE_ATTR: ["alice.src"]}
        )
        got = _unsigned_sts(running).assume_role_with_saml(
            RoleArn=role, PrincipalArn=provider, SAMLAssertion=response
        )
        _session(running, got).list_roles()
        trail = running.client("cloudtrail")

        def record_of(event_name: str) -> dict[str, Any]:
            only = [{"AttributeKey": "EventName", "AttributeValue": event_name}]
            deadline = time.monotonic() + 10
            while not (events := trail.lookup_events(LookupAttributes=only)["Events"]):
                assert time.monotonic() < deadline, f"no {event_name} event"
                time.sleep(0.2)
            text = events[0]["CloudTrailEvent"]
            assert response not in text
            assert response[:200] not in text
            assert got["Credentials"]["SecretAccessKey"] not in text
            return dict(json.loads(text))

        record = record_of("AssumeRoleWithSAML")
        assert record["userIdentity"]["type"] == "SAMLUser"
        assert record["userIdentity"]["userName"] == "alice"
        assert record["userIdentity"]["principalId"].endswith(":alice")
        assert record["responseElements"]["sourceIdentity"] == "alice.src"
        # The session's own requests carry the source identity in their session context.
        later = record_of("ListRoles")
        assert later["userIdentity"]["type"] == "AssumedRole"
        assert later["userIdentity"]["sessionContext"]["sourceIdentity"] == "alice.src"
    finally:
        running.stop()


def test_session_tags_and_source_identity_from_attributes(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp
) -> None:
    name = f"{unique}-tags"
    role, provider = _setup(
        iam,
        idp,
        name,
        {"StringEquals": {"aws:RequestTag/team": "ci", "sts:SourceIdentity": "alice"}},
        TAGGING_ACTIONS,
    )
    _allow_by_principal_tag(
        iam, name, iam_GetRole="team=ci", iam_ListRoles="team=other", iam_ListUsers="cost=42"
    )
    extra = {
        **_tagged(team="ci", cost="42"),
        TRANSITIVE_ATTR: ["team"],
        SOURCE_ATTR: ["alice"],
    }
    sts = _unsigned_sts(server)
    got = sts.assume_role_with_saml(
        RoleArn=role,
        PrincipalArn=provider,
        SAMLAssertion=_response(idp, role, provider, extra=extra),
    )
    assert got["SourceIdentity"] == "alice"
    assert 0 < got["PackedPolicySize"] <= 100
    # The tags reach the session's policies as aws:PrincipalTag.
    session = _session(server, got)
    assert session.get_role(RoleName=name)["Role"]["RoleName"] == name
    session.list_users()
    assert error_of(session.list_roles)[1] == "AccessDenied"

    # Role chaining: the transitive tag and the source identity pass on, the other tag
    # does not.
    chained_name = f"{unique}-next"
    iam.create_role(
        RoleName=chained_name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": role},
                        "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                        # The trust policy sees the SAML session's tags as the caller's.
                        "Condition": {
                            "StringEquals": {
                                "aws:PrincipalTag/team": "ci",
                                "aws:PrincipalTag/cost": "42",
                                # The source identity the session carries (none is
                                # passed: sts:SourceIdentity is for a passed one).
                                "aws:SourceIdentity": "alice",
                            }
                        },
                    }
                ],
            }
        ),
    )
    _allow_by_principal_tag(iam, chained_name, iam_GetRole="team=ci", iam_ListUsers="cost=42")
    iam.put_role_policy(
        RoleName=name,
        PolicyName="chain",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": f"arn:aws:iam::{role.split(':')[4]}:role/{chained_name}",
                    }
                ],
            }
        ),
    )
    fresh = sts.assume_role_with_saml(
        RoleArn=role,
        PrincipalArn=provider,
        SAMLAssertion=_response(idp, role, provider, extra=extra),
    )
    chained_arn = f"arn:aws:iam::{role.split(':')[4]}:role/{chained_name}"
    # A SAML session tagged otherwise is refused by that trust policy.
    other = sts.assume_role_with_saml(
        RoleArn=role,
        PrincipalArn=provider,
        SAMLAssertion=_response(
            idp, role, provider, extra={**extra, **_tagged(team="ci", cost="7")}
        ),
    )
    assert error_of(
        _session(server, other, "sts").assume_role, RoleArn=chained_arn, RoleSessionName="xx"
    )[:2] == (403, "AccessDenied")
    chained = _session(server, fresh, "sts").assume_role(
        RoleArn=chained_arn, RoleSessionName="next"
    )
    assert chained["SourceIdentity"] == "alice"
    chained_iam = _session(server, chained)
    assert chained_iam.get_role(RoleName=chained_name)["Role"]["RoleName"] == chained_name
    assert error_of(chained_iam.list_users)[1] == "AccessDenied"


def test_tags_and_source_identity_need_the_trust_policy(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp
) -> None:
    role, provider = _setup(iam, idp, f"{unique}-plain")
    tag_only, _ = _setup(
        iam,
        idp,
        f"{unique}-tagonly",
        actions=["sts:AssumeRoleWithSAML", "sts:TagSession"],
        provider=provider,
    )
    sts = _unsigned_sts(server)
    denied = (403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
    for target, extra in (
        (role, _tagged(team="ci")),
        (role, {SOURCE_ATTR: ["alice"]}),
        (tag_only, {**_tagged(team="ci"), SOURCE_ATTR: ["alice"]}),
    ):
        assertion = _response(idp, target, provider, extra=extra)
        assert (
            error_of(
                sts.assume_role_with_saml,
                RoleArn=target,
                PrincipalArn=provider,
                SAMLAssertion=assertion,
            )
            == denied
        )
    # A condition on the request's tag is checked against the assertion's value.
    conditioned, _ = _setup(
        iam,
        idp,
        f"{unique}-cond",
        {"StringEquals": {"aws:RequestTag/team": "ci"}},
        TAGGING_ACTIONS,
        provider=provider,
    )
    assertion = _response(idp, conditioned, provider, extra=_tagged(team="ops"))
    assert (
        error_of(
            sts.assume_role_with_saml,
            RoleArn=conditioned,
            PrincipalArn=provider,
            SAMLAssertion=assertion,
        )
        == denied
    )
    ok = sts.assume_role_with_saml(
        RoleArn=tag_only,
        PrincipalArn=provider,
        SAMLAssertion=_response(idp, tag_only, provider, extra=_tagged(team="ci")),
    )
    assert "SourceIdentity" not in ok

    # aws:TagKeys and sts:TransitiveTagKeys: only the key team, and it transitive.
    keyed, _ = _setup(
        iam,
        idp,
        f"{unique}-keys",
        {
            "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
            "ForAnyValue:StringEquals": {"sts:TransitiveTagKeys": ["team"]},
        },
        TAGGING_ACTIONS,
        provider=provider,
    )

    def keyed_with(extra: dict[str, list[str]]) -> Any:
        return lambda: sts.assume_role_with_saml(
            RoleArn=keyed,
            PrincipalArn=provider,
            SAMLAssertion=_response(idp, keyed, provider, extra=extra),
        )

    keyed_with({**_tagged(team="ci"), TRANSITIVE_ATTR: ["team"]})()
    assert error_of(keyed_with({**_tagged(team="ci", cost="1"), TRANSITIVE_ATTR: ["team"]})) == (
        denied
    )
    assert error_of(keyed_with(_tagged(team="ci"))) == denied


def test_bad_session_attributes_are_rejected_claims(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp
) -> None:
    role, provider = _setup(iam, idp, f"{unique}-bad", actions=TAGGING_ACTIONS)
    sts = _unsigned_sts(server)

    def refused(extra: dict[str, list[str]], **kw: Any) -> tuple[int, str, str]:
        return error_of(
            sts.assume_role_with_saml,
            RoleArn=role,
            PrincipalArn=provider,
            SAMLAssertion=_response(idp, role, provider, extra=extra),
            **kw,
        )

    cases: list[tuple[dict[str, list[str]], str]] = [
        (_tagged(**{f"k{i}": "v" for i in range(51)}), "more than 50 session tags"),
        (_tagged(**{"k" * 129: "v"}), "1 to 128"),
        (_tagged(team="v" * 257), "at most 256"),
        (_tagged(team="a#b"), "at most 256"),
        ({f"{TAG_ATTR}Team": ["a"], f"{TAG_ATTR}team": ["b"]}, "case insensitive"),
        (_tagged(**{"aws:team": "ci"}), "may not begin with aws:"),
        ({f"{TAG_ATTR}team": ["ci", "ops"]}, "exactly one value"),
        ({**_tagged(team="ci"), TRANSITIVE_ATTR: ["cost"]}, "names no session tag"),
        ({SOURCE_ATTR: ["x"]}, "2 to 64 characters"),
        ({SOURCE_ATTR: ["aws:alice"]}, "may not begin with aws:"),
        ({SOURCE_ATTR: ["alice", "bob"]}, "exactly one value"),
    ]
    for extra, text in cases:
        status, code, message = refused(extra)
        assert (status, code) == (403, "IDPRejectedClaim"), (extra.keys(), message)
        assert text in message, message
    # Exactly at the limits: accepted.
    at_limits = _tagged(**{f"k{i}": "v" for i in range(49)}, **{"k" * 128: "v" * 256})
    assert (
        sts.assume_role_with_saml(
            RoleArn=role,
            PrincipalArn=provider,
            SAMLAssertion=_response(idp, role, provider, extra=at_limits),
        )["PackedPolicySize"]
        > 0
    )

    # A session policy that fits alone does not fit with the assertion's tags.
    def padded(sid: str) -> str:
        statement = {"Sid": sid, "Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}
        return json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":")
        )

    policy = padded("A" * (2040 - len(padded(""))))
    alone = sts.assume_role_with_saml(
        RoleArn=role,
        PrincipalArn=provider,
        SAMLAssertion=_response(idp, role, provider),
        Policy=policy,
    )
    assert alone["PackedPolicySize"] == 100
    status, code, message = refused(_tagged(team="v" * 100), Policy=policy)
    assert (status, code) == (400, "PackedPolicyTooLarge")
    assert message.startswith("Packed policy consumes ")
    assert message.endswith("% of allotted space")


def _tamper_cipher(response: str) -> str:
    """The response with one octet of the EncryptedData's CipherValue changed."""
    xml = base64.b64decode(response).decode()
    # The last opening CipherValue tag is the data's (the wrapped key's comes first).
    marker = [m.end() for m in re.finditer(r"<[\w:]*CipherValue>", xml)][-1]
    # A base64 character in the middle of the data's ciphertext.
    at = marker + 40
    swapped = "B" if xml[at] != "B" else "C"
    return base64.b64encode((xml[:at] + swapped + xml[at + 1 :]).encode()).decode()


def test_encrypted_assertions(
    server: RunningServer, iam: Any, unique: str, idp: SamlIdp, tmp_path: Path
) -> None:
    other_idp = SamlIdp(tmp_path / "other-idp")
    key, cert = key_pair(tmp_path, "sp")
    other_key, other_cert = key_pair(tmp_path, "sp-other")
    name = f"{unique}-enc"
    provider = iam.create_saml_provider(
        Name=name, SAMLMetadataDocument=idp.metadata, AddPrivateKey=key.read_text()
    )["SAMLProviderArn"]
    role, _ = _setup(iam, idp, name, provider=provider)
    sts = _unsigned_sts(server)
    attributes = {ROLE_ATTR: [f"{role},{provider}"], NAME_ATTR: ["alice@example.test"]}

    def assume(response: str) -> dict[str, Any]:
        return dict(
            sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=response)
        )

    def refused(response: str) -> tuple[int, str, str]:
        return error_of(
            sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider, SAMLAssertion=response
        )

    # A signed Response around an AES-256-CBC EncryptedAssertion; an unsigned Response
    # around an AES-128-GCM one whose Assertion is signed; a plain one (mode Allowed).
    for response in (
        idp.encrypted_response("alice", attributes, cert),
        idp.encrypted_response(
            "alice",
            attributes,
            cert,
            algorithm=AES128_GCM,
            sign_response=False,
            sign_assertion=True,
        ),
        _response(idp, role, provider),
    ):
        got = assume(response)
        assert got["Subject"] == "alice"
        assert got["AssumedRoleUser"]["Arn"].endswith(f"/{name}/alice@example.test")
    creds = got["Credentials"]
    assert (
        server.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        .get_caller_identity()["Arn"]
        .endswith(f"/{name}/alice@example.test")
    )

    unreadable = (
        400,
        "InvalidIdentityToken",
        "Invalid SAML response: the EncryptedAssertion could not be decrypted",
    )
    bad_signature = (400, "InvalidIdentityToken", "Response signature invalid")
    # For a key the provider does not hold.
    assert refused(idp.encrypted_response("alice", attributes, other_cert)) == unreadable
    # A changed ciphertext: under a signed Response the signature breaks; in an unsigned
    # one the data no longer opens (one answer, whatever went wrong inside).
    assert refused(_tamper_cipher(idp.encrypted_response("alice", attributes, cert))) == (
        bad_signature
    )

    def tampered(algorithm: tuple[str, str]) -> str:
        return _tamper_cipher(
            idp.encrypted_response(
                "alice",
                attributes,
                cert,
                algorithm=algorithm,
                sign_response=False,
                sign_assertion=True,
            )
        )

    # GCM's tag fails; a CBC block decrypts to noise, which is no longer XML or no
    # longer signed: one answer for both.
    assert refused(tampered(AES128_GCM)) == unreadable
    assert refused(tampered(AES256_CBC)) == unreadable

    # The wrapped key given several times: up to 4 are tried, more is refused outright.
    def repeated_key(times: int) -> str:
        xml = base64.b64decode(
            idp.encrypted_response(
                "alice", attributes, cert, sign_response=False, sign_assertion=True
            )
        ).decode()
        found = re.search(r"<([\w]+:)?EncryptedKey[ >].*?</([\w]+:)?EncryptedKey>", xml, re.S)
        assert found is not None
        key_xml = found.group(0)
        return base64.b64encode(xml.replace(key_xml, key_xml * times).encode()).decode()

    assume(repeated_key(4))
    assert refused(repeated_key(5)) == unreadable
    # RSA PKCS#1 v1.5 key transport and 3DES are refused, even though the key opens them.
    assert (
        refused(idp.encrypted_response("alice", attributes, cert, key_transport=RSA_1_5))
        == unreadable
    )
    assert (
        refused(idp.encrypted_response("alice", attributes, cert, algorithm=TRIPLE_DES))
        == unreadable
    )
    # Encrypted, but signed by nobody; or signed by another IdP.
    assert (
        refused(idp.encrypted_response("alice", attributes, cert, sign_response=False))
        == unreadable
    )
    assert (
        refused(
            other_idp.encrypted_response(
                "alice", attributes, cert, sign_response=False, sign_assertion=True
            )
        )
        == unreadable
    )
    assert refused(other_idp.encrypted_response("alice", attributes, cert)) == bad_signature

    # Rotation: with a second key, responses for either open; Required refuses plain ones.
    iam.update_saml_provider(
        SAMLProviderArn=provider,
        AddPrivateKey=other_key.read_text(),
        AssertionEncryptionMode="Required",
    )
    assume(idp.encrypted_response("alice", attributes, cert))
    assume(idp.encrypted_response("alice", attributes, other_cert))
    assert refused(_response(idp, role, provider)) == (
        400,
        "InvalidIdentityToken",
        "Invalid SAML response: the provider requires encrypted assertions",
    )
    [first, _second] = iam.get_saml_provider(SAMLProviderArn=provider)["PrivateKeyList"]
    iam.update_saml_provider(SAMLProviderArn=provider, RemovePrivateKey=first["KeyId"])
    assert refused(idp.encrypted_response("alice", attributes, cert)) == unreadable
    assume(idp.encrypted_response("alice", attributes, other_cert))

    # A provider with no key cannot open one.
    plain_provider = iam.create_saml_provider(
        Name=f"{unique}-nokey", SAMLMetadataDocument=idp.metadata
    )["SAMLProviderArn"]
    plain_role, _ = _setup(iam, idp, f"{unique}-nokey", provider=plain_provider)
    no_key = idp.encrypted_response(
        "alice", {ROLE_ATTR: [f"{plain_role},{plain_provider}"], NAME_ATTR: ["a"]}, cert
    )
    assert error_of(
        sts.assume_role_with_saml,
        RoleArn=plain_role,
        PrincipalArn=plain_provider,
        SAMLAssertion=no_key,
    ) == (
        400,
        "InvalidIdentityToken",
        "Invalid SAML response: the Assertion is encrypted and the provider has no private key",
    )


@pytest.mark.slow
def test_encrypted_assertion_on_postgresql(
    fresh_postgres_url: str, tmp_path: Path, idp: SamlIdp
) -> None:
    running = start_server(tmp_path / "pg", database_url=fresh_postgres_url)
    try:
        iam = running.client("iam")
        key, cert = key_pair(tmp_path, "sp")
        provider = iam.create_saml_provider(
            Name="pg-enc",
            SAMLMetadataDocument=idp.metadata,
            AddPrivateKey=key.read_text(),
            AssertionEncryptionMode="Required",
        )["SAMLProviderArn"]
        role, _ = _setup(iam, idp, "pg-enc", provider=provider)
        attributes = {ROLE_ATTR: [f"{role},{provider}"], NAME_ATTR: ["alice"]}
        got = _unsigned_sts(running).assume_role_with_saml(
            RoleArn=role,
            PrincipalArn=provider,
            SAMLAssertion=idp.encrypted_response("alice", attributes, cert),
        )
        assert got["Subject"] == "alice"
        [only] = iam.get_saml_provider(SAMLProviderArn=provider)["PrivateKeyList"]
        iam.update_saml_provider(SAMLProviderArn=provider, AssertionEncryptionMode="Allowed")
        iam.update_saml_provider(SAMLProviderArn=provider, RemovePrivateKey=only["KeyId"])
        iam.delete_saml_provider(SAMLProviderArn=provider)
    finally:
        running.stop()

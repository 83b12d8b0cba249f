"""sts:AssumeRole through boto3: trust policies, the caller's permissions, durations,
session policies, tags, MFA, chaining, and what role sessions may then do."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

from tests.server.iam_helpers import ACCOUNT, ADMINISTRATOR_ACCESS, READ_ONLY_ACCESS, error_of
from tests.server.test_sts_sessions import session_client, user_with_key
from tests.support.servers import RunningServer
from tests.support.signing import send, signed_post
from tests.support.totp import code_at

ACCOUNT_ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def trust(principal: str, condition: dict[str, Any] | None = None, **extra: Any) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": extra.get("actions", "sts:AssumeRole"),
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def allow(actions: str | list[str], resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
        }
    )


def make_role(iam: Any, name: str, trust_policy: str, *policies: str, **kwargs: Any) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, **kwargs)["Role"][
        "Arn"
    ]
    for policy in policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return str(arn)


def user_allowed_to_assume(iam: Any, name: str, role_arn: str = "*") -> tuple[str, str]:
    key_id, secret = user_with_key(iam, name)
    iam.put_user_policy(
        UserName=name, PolicyName="assume", PolicyDocument=allow("sts:AssumeRole", role_arn)
    )
    return key_id, secret


def test_assume_role_trusting_the_account_gives_a_role_session(
    server: RunningServer, iam: Any, unique: str
) -> None:
    role_arn = make_role(iam, f"{unique}-ro", trust(ACCOUNT_ROOT), READ_ONLY_ACCESS)
    key_id, secret = user_allowed_to_assume(iam, f"{unique}-u", role_arn)
    response = server.client("sts", key_id, secret).assume_role(
        RoleArn=role_arn, RoleSessionName="build-42"
    )
    credentials = response["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    role = iam.get_role(RoleName=f"{unique}-ro")["Role"]
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{unique}-ro/build-42"
    assert response["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:build-42",
        "Arn": session_arn,
    }
    identity = session_client(server, credentials, "sts").get_caller_identity()
    assert (identity["Arn"], identity["UserId"]) == (session_arn, f"{role['RoleId']}:build-42")

    # Role sessions may call IAM, with the role's policies only.
    role_iam = session_client(server, credentials, "iam")
    assert role_iam.list_users()["Users"]
    status, code, message = error_of(role_iam.create_user, UserName=f"{unique}-nope")
    assert (status, code) == (403, "AccessDenied")
    assert message.startswith(f"User: {session_arn} is not authorized to perform: iam:CreateUser")
    # The session's use is the role's.
    time.sleep(1.2)
    assert "LastUsedDate" in iam.get_role(RoleName=f"{unique}-ro")["Role"]["RoleLastUsed"]


def test_an_administrator_in_a_read_only_role_cannot_write(
    server: RunningServer, iam: Any, unique: str
) -> None:
    role_arn = make_role(iam, f"{unique}-ro", trust(ACCOUNT_ROOT), READ_ONLY_ACCESS)
    key_id, secret = user_with_key(iam, f"{unique}-admin")
    iam.attach_user_policy(UserName=f"{unique}-admin", PolicyArn=ADMINISTRATOR_ACCESS)
    credentials = server.client("sts", key_id, secret).assume_role(
        RoleArn=role_arn, RoleSessionName="s1"
    )["Credentials"]
    role_iam = session_client(server, credentials, "iam")
    assert error_of(role_iam.create_group, GroupName=f"{unique}-g")[1] == "AccessDenied"
    # A role session has no user to default to.
    assert error_of(role_iam.list_access_keys) == (
        400,
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
    )


def test_caller_needs_permission_when_the_trust_names_only_the_account(
    server: RunningServer, iam: Any, unique: str
) -> None:
    role_arn = make_role(iam, f"{unique}-r", trust(ACCOUNT_ROOT))
    key_id, secret = user_with_key(iam, f"{unique}-u")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{unique}-u"
    refusal = (
        403,
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
    )
    sts = server.client("sts", key_id, secret)
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="s1") == refusal
    # A role that does not exist reads the same.
    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique}-missing"
    assert error_of(sts.assume_role, RoleArn=missing, RoleSessionName="s1") == (
        *refusal[:2],
        refusal[2].replace(role_arn, missing),
    )


def test_trust_naming_the_user_needs_no_identity_permission(
    server: RunningServer, iam: Any, unique: str
) -> None:
    key_id, secret = user_with_key(iam, f"{unique}-u")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{unique}-u"
    role_arn = make_role(iam, f"{unique}-r", trust(user_arn))
    response = server.client("sts", key_id, secret).assume_role(
        RoleArn=role_arn, RoleSessionName="direct"
    )
    assert response["AssumedRoleUser"]["Arn"].endswith(f"/{unique}-r/direct")
    # Another user of the account, even allowed by its own policy, is not trusted.
    other_id, other_secret = user_allowed_to_assume(iam, f"{unique}-other")
    other = server.client("sts", other_id, other_secret)
    assert error_of(other.assume_role, RoleArn=role_arn, RoleSessionName="x1")[1] == (
        "AccessDenied"
    )


def test_trust_requiring_mfa_refuses_a_caller_without_it(
    server: RunningServer, iam: Any, unique: str
) -> None:
    mfa_required = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    role_arn = make_role(iam, f"{unique}-mfa", trust(ACCOUNT_ROOT, mfa_required))
    name = f"{unique}-u"
    key_id, secret = user_allowed_to_assume(iam, name, role_arn)
    sts = server.client("sts", key_id, secret)
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="s1")[1] == "AccessDenied"
    # Nor a session from GetSessionToken without MFA.
    plain = sts.get_session_token(DurationSeconds=900)["Credentials"]
    plain_sts = session_client(server, plain, "sts")
    assert error_of(plain_sts.assume_role, RoleArn=role_arn, RoleSessionName="s1")[1] == (
        "AccessDenied"
    )

    # With a code (given to AssumeRole itself, or through an MFA session) it is let in.
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = time.time()
    if 30 - now % 30 < 3:
        time.sleep(3.2)
        now = time.time()
    iam.enable_mfa_device(
        UserName=name,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=code_at(seed, now - 30),
        AuthenticationCode2=code_at(seed, now),
    )
    session = sts.assume_role(
        RoleArn=role_arn,
        RoleSessionName="with-mfa",
        SerialNumber=device["SerialNumber"],
        TokenCode=code_at(seed, now + 30),
    )
    assert session["AssumedRoleUser"]["Arn"].endswith("/with-mfa")
    # The same code again is refused, with STS's words.
    assert error_of(
        sts.assume_role,
        RoleArn=role_arn,
        RoleSessionName="again",
        SerialNumber=device["SerialNumber"],
        TokenCode=code_at(seed, now + 30),
    ) == (
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    )


def test_durations(server: RunningServer, iam: Any, unique: str) -> None:
    role_arn = make_role(iam, f"{unique}-r", trust(ACCOUNT_ROOT), MaxSessionDuration=7200)
    chained_arn = make_role(iam, f"{unique}-next", trust(ACCOUNT_ROOT))
    key_id, secret = user_allowed_to_assume(iam, f"{unique}-u")
    sts = server.client("sts", key_id, secret)
    before = time.time()
    default = sts.assume_role(RoleArn=role_arn, RoleSessionName="d1")["Credentials"]
    assert 3595 <= default["Expiration"].timestamp() - before <= 3605
    longest = sts.assume_role(RoleArn=role_arn, RoleSessionName="l1", DurationSeconds=7200)
    assert 7195 <= longest["Credentials"]["Expiration"].timestamp() - before <= 7205
    assert error_of(
        sts.assume_role, RoleArn=role_arn, RoleSessionName="x1", DurationSeconds=7201
    ) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    # Role chaining: a role session assuming a role gets at most one hour.
    iam.put_role_policy(
        RoleName=f"{unique}-r", PolicyName="chain", PolicyDocument=allow("sts:AssumeRole")
    )
    role_sts = session_client(server, longest["Credentials"], "sts")
    assert error_of(
        role_sts.assume_role, RoleArn=chained_arn, RoleSessionName="c1", DurationSeconds=3601
    ) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining.",
    )
    chained = role_sts.assume_role(RoleArn=chained_arn, RoleSessionName="c1")
    assert chained["AssumedRoleUser"]["Arn"].endswith(f"/{unique}-next/c1")
    assert error_of(role_sts.get_session_token) == (
        403,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    )


def test_session_policies_intersect_with_the_role(
    server: RunningServer, iam: Any, unique: str
) -> None:
    role_arn = make_role(iam, f"{unique}-r", trust(ACCOUNT_ROOT), ADMINISTRATOR_ACCESS)
    key_id, secret = user_allowed_to_assume(iam, f"{unique}-u")
    sts = server.client("sts", key_id, secret)
    response = sts.assume_role(
        RoleArn=role_arn,
        RoleSessionName="narrow",
        Policy=allow(["iam:ListUsers", "iam:GetUser"]),
    )
    assert 0 < response["PackedPolicySize"] <= 100
    role_iam = session_client(server, response["Credentials"], "iam")
    assert role_iam.list_users()["Users"]
    status, code, message = error_of(role_iam.list_groups)
    assert (status, code) == (403, "AccessDenied")
    assert message.endswith("because no session policy allows the iam:ListGroups action")
    # Managed session policies too: ReadOnlyAccess allows reads, not writes.
    managed = sts.assume_role(
        RoleArn=role_arn, RoleSessionName="ro", PolicyArns=[{"arn": READ_ONLY_ACCESS}]
    )
    managed_iam = session_client(server, managed["Credentials"], "iam")
    assert managed_iam.list_groups()["Groups"] is not None
    assert error_of(managed_iam.create_group, GroupName=f"{unique}-g")[1] == "AccessDenied"
    # Session policies never add to the role's permissions.
    small_role = make_role(iam, f"{unique}-small", trust(ACCOUNT_ROOT))
    iam.put_role_policy(
        RoleName=f"{unique}-small", PolicyName="p", PolicyDocument=allow("iam:ListUsers")
    )
    small = sts.assume_role(RoleArn=small_role, RoleSessionName="s1", Policy=allow("iam:*"))[
        "Credentials"
    ]
    assert error_of(session_client(server, small, "iam").list_groups)[1] == "AccessDenied"

    assert (
        error_of(
            sts.assume_role, RoleArn=role_arn, RoleSessionName="bad", Policy='{"Statement": 5}'
        )[1]
        == "MalformedPolicyDocument"
    )
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": f"iam:Get{'x' * 60}{i}", "Resource": "*"}
                for i in range(16)
            ],
        },
        separators=(",", ":"),
    )
    assert len(big) < 2048
    status, code, message = error_of(
        sts.assume_role,
        RoleArn=role_arn,
        RoleSessionName="big",
        Policy=big,
        PolicyArns=[{"arn": READ_ONLY_ACCESS}, {"arn": ADMINISTRATOR_ACCESS}],
        Tags=[{"Key": f"k{i}", "Value": "v" * 200} for i in range(3)],
    )
    assert (status, code) == (400, "PackedPolicyTooLarge")
    assert message.startswith("Packed policy consumes ")


def test_external_id_session_tags_and_source_identity(
    server: RunningServer, iam: Any, unique: str
) -> None:
    trust_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ACCOUNT_ROOT},
                    "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                    "Condition": {"StringEquals": {"sts:ExternalId": "partner-7"}},
                }
            ],
        }
    )
    role_arn = make_role(iam, f"{unique}-r", trust_policy)
    iam.put_role_policy(
        RoleName=f"{unique}-r",
        PolicyName="team",
        PolicyDocument=allow("iam:ListUsers", "*").replace(
            '"Resource": "*"',
            '"Resource": "*", "Condition": {"StringEquals": '
            '{"aws:PrincipalTag/team": "blue", "aws:SourceIdentity": "alice"}}',
        ),
    )
    key_id, secret = user_with_key(iam, f"{unique}-u")
    iam.put_user_policy(
        UserName=f"{unique}-u",
        PolicyName="assume",
        PolicyDocument=allow(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]),
    )
    sts = server.client("sts", key_id, secret)
    assert error_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="s1")[1] == "AccessDenied"
    response = sts.assume_role(
        RoleArn=role_arn,
        RoleSessionName="s1",
        ExternalId="partner-7",
        Tags=[{"Key": "team", "Value": "blue"}],
        SourceIdentity="alice",
    )
    assert response["SourceIdentity"] == "alice"
    assert session_client(server, response["Credentials"], "iam").list_users()["Users"]
    other = sts.assume_role(
        RoleArn=role_arn,
        RoleSessionName="s1",
        ExternalId="partner-7",
        Tags=[{"Key": "team", "Value": "red"}],
        SourceIdentity="alice",
    )
    assert error_of(session_client(server, other["Credentials"], "iam").list_users)[1] == (
        "AccessDenied"
    )


def test_role_sessions_end_with_their_role(server: RunningServer, iam: Any, unique: str) -> None:
    name = f"{unique}-r"
    role_arn = make_role(iam, name, trust(ACCOUNT_ROOT))
    key_id, secret = user_allowed_to_assume(iam, f"{unique}-u")
    credentials = server.client("sts", key_id, secret).assume_role(
        RoleArn=role_arn, RoleSessionName="s1"
    )["Credentials"]
    sts = session_client(server, credentials, "sts")
    assert sts.get_caller_identity()["Arn"].endswith(f"/{name}/s1")
    iam.delete_role(RoleName=name)
    assert error_of(sts.get_caller_identity)[1] == "InvalidClientTokenId"


def test_a_policy_arn_descriptor_without_an_arn_is_a_validation_error(
    server: RunningServer, iam: Any, unique: str
) -> None:
    role_arn = make_role(iam, f"{unique}-r", trust(ACCOUNT_ROOT))
    key_id, secret = user_allowed_to_assume(iam, f"{unique}-u")
    body = urllib.parse.urlencode(
        {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": role_arn,
            "RoleSessionName": "s1",
            "PolicyArns.member.1.Foo": "x",
        }
    )
    answer = send(signed_post(server.endpoint, body, key_id, secret, service="sts"))
    assert answer.status == 400
    assert "<Code>ValidationError</Code>" in answer.body
    assert "Each member of PolicyArns must name an arn." in answer.body

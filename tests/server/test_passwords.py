"""Console passwords through boto3 against a real server: login profiles, ChangePassword,
the account password policy, and the sign-in endpoint (`POST /_iamd/signin`).

Tests that set an account password policy use a server of their own: the policy is
account-wide and would change the rules for every other test on the shared server.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from tests.server.iam_helpers import ACCOUNT, error_of
from tests.support.servers import RunningServer

GOOD = "Correct-Horse-9"  # meets AWS's default rules: long, 4 character classes
OTHER = "Battery-Staple-7"
POLICY_VIOLATION = (
    400,
    "PasswordPolicyViolation",
    "Password does not conform to the account password policy.",
)


def sign_in(
    server: RunningServer, user: str, password: str, **extra: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = json.dumps(
        {"account": ACCOUNT, "userName": user, "password": password, **extra}
    ).encode()
    return _post(server, body, "application/json")


def _post(
    server: RunningServer, body: bytes, content_type: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    request = urllib.request.Request(  # noqa: S310 - our own http:// endpoint
        f"{server.endpoint}/_iamd/signin",
        data=body,
        headers={"Content-Type": content_type},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read()), _lower(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), _lower(error.headers)


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _user_with_key(server: RunningServer, iam: Any, name: str) -> Any:
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


# -- login profiles ----------------------------------------------------------------------


def test_login_profile_lifecycle(iam: Any, unique: str) -> None:
    name = f"{unique}-pw"
    iam.create_user(UserName=name)
    created = iam.create_login_profile(UserName=name, Password=GOOD, PasswordResetRequired=True)
    profile = created["LoginProfile"]
    assert profile["UserName"] == name
    assert profile["PasswordResetRequired"] is True
    assert set(profile) == {"UserName", "CreateDate", "PasswordResetRequired"}

    got = iam.get_login_profile(UserName=name)["LoginProfile"]
    assert got["CreateDate"] == profile["CreateDate"]
    assert got["PasswordResetRequired"] is True

    assert error_of(iam.create_login_profile, UserName=name, Password=OTHER) == (
        409,
        "EntityAlreadyExists",
        f"Login Profile for user {name} already exists.",
    )
    # The flag alone, then a password alone (the flag stays as it is).
    iam.update_login_profile(UserName=name, PasswordResetRequired=False)
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is False
    iam.update_login_profile(UserName=name, Password=OTHER)
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is False
    iam.update_login_profile(UserName=name, Password=GOOD, PasswordResetRequired=True)
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is True

    iam.delete_login_profile(UserName=name)
    missing = (404, "NoSuchEntity", f"Login Profile for User {name} cannot be found.")
    assert error_of(iam.get_login_profile, UserName=name) == missing
    assert error_of(iam.delete_login_profile, UserName=name) == missing
    assert error_of(iam.update_login_profile, UserName=name, Password=GOOD) == missing


def test_unknown_user(iam: Any, unique: str) -> None:
    ghost = f"{unique}-ghost"
    expected = (404, "NoSuchEntity", f"The user with name {ghost} cannot be found.")
    assert error_of(iam.create_login_profile, UserName=ghost, Password=GOOD) == expected
    assert error_of(iam.get_login_profile, UserName=ghost) == expected
    assert error_of(iam.delete_login_profile, UserName=ghost) == expected


def test_delete_user_refuses_while_a_login_profile_exists(iam: Any, unique: str) -> None:
    name = f"{unique}-del"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=GOOD)
    assert error_of(iam.delete_user, UserName=name) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete login profile first.",
    )
    iam.delete_login_profile(UserName=name)
    iam.delete_user(UserName=name)


@pytest.mark.parametrize(
    "password",
    [
        "Sh0rt!",  # under 8 characters
        "alllowercaseletters",  # one class
        "lowercase-and-symbols",  # two classes
        ACCOUNT,  # the account's name (and one class)
    ],
)
def test_without_a_policy_aws_default_rules_apply(iam: Any, unique: str, password: str) -> None:
    name = f"{unique}-def"
    iam.create_user(UserName=name)
    assert error_of(iam.create_login_profile, UserName=name, Password=password) == POLICY_VIOLATION
    # Three classes and eight characters are enough.
    iam.create_login_profile(UserName=name, Password="lower-UPPER")


def test_a_password_is_never_echoed_in_a_validation_error(iam: Any, unique: str) -> None:
    name = f"{unique}-val"
    iam.create_user(UserName=name)
    secret = "X" * 120 + "\u0100-tooWide"
    status, code, message = error_of(iam.create_login_profile, UserName=name, Password=secret)
    assert (status, code) == (400, "ValidationError")
    assert "XXXX" not in message


# -- the account password policy ---------------------------------------------------------


def test_account_password_policy_fields(fresh_server: RunningServer) -> None:
    iam = fresh_server.client("iam")
    missing = (
        404,
        "NoSuchEntity",
        f"The Password Policy with domain name {ACCOUNT} cannot be found.",
    )
    assert error_of(iam.get_account_password_policy) == missing
    assert error_of(iam.delete_account_password_policy) == missing

    # Every omitted field takes its default; unset optional fields are left out.
    iam.update_account_password_policy()
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 6,
        "RequireSymbols": False,
        "RequireNumbers": False,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False,
        "ExpirePasswords": False,
    }
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
        HardExpiry=False,
    )
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 14,
        "RequireSymbols": True,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": True,
        "MaxPasswordAge": 90,
        "PasswordReusePrevention": 24,
        "HardExpiry": False,
    }
    # Not a partial update: what is omitted goes back to its default.
    iam.update_account_password_policy(MinimumPasswordLength=10)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 10
    assert policy["RequireSymbols"] is False
    assert "MaxPasswordAge" not in policy

    for field, value in (
        ("MinimumPasswordLength", 129),
        ("MaxPasswordAge", 1096),
        ("PasswordReusePrevention", 25),
    ):
        status, code, _ = error_of(iam.update_account_password_policy, **{field: value})
        assert (status, code) == (400, "ValidationError"), field

    iam.delete_account_password_policy()
    assert error_of(iam.get_account_password_policy) == missing


@pytest.mark.parametrize(
    ("field", "lacking", "having"),
    [
        ("MinimumPasswordLength", "abcdefghijk", "abcdefghijkl"),  # 12 required
        ("RequireSymbols", "abcdefghijkl", "abcdefghijk'"),
        ("RequireNumbers", "abcdefghijkl", "abcdefghijk1"),
        ("RequireUppercaseCharacters", "abcdefghijkl", "abcdefghijkL"),
        ("RequireLowercaseCharacters", "ABCDEFGHIJKL", "ABCDEFGHIJKl"),
    ],
)
def test_each_policy_field_is_enforced(
    fresh_server: RunningServer, field: str, lacking: str, having: str
) -> None:
    iam = fresh_server.client("iam")
    setting: dict[str, Any] = (
        {"MinimumPasswordLength": 12} if field == "MinimumPasswordLength" else {field: True}
    )
    iam.update_account_password_policy(**setting)
    iam.create_user(UserName="alice")
    assert (
        error_of(iam.create_login_profile, UserName="alice", Password=lacking) == POLICY_VIOLATION
    )
    iam.create_login_profile(UserName="alice", Password=having)
    assert (
        error_of(iam.update_login_profile, UserName="alice", Password=lacking) == POLICY_VIOLATION
    )


def test_a_policy_replaces_the_default_rules(fresh_server: RunningServer) -> None:
    iam = fresh_server.client("iam")
    iam.create_user(UserName="bob")
    assert error_of(iam.create_login_profile, UserName="bob", Password="abcdef") == POLICY_VIOLATION
    iam.update_account_password_policy()  # length 6, no classes required
    iam.create_login_profile(UserName="bob", Password="abcdef")


def test_reuse_prevention_remembers_the_last_passwords(fresh_server: RunningServer) -> None:
    iam = fresh_server.client("iam")
    iam.update_account_password_policy(PasswordReusePrevention=2)
    iam.create_user(UserName="carol")
    iam.create_login_profile(UserName="carol", Password="first-Pass1")
    iam.update_login_profile(UserName="carol", Password="second-Pass2")
    # The current password and the one before it are both remembered.
    for recent in ("first-Pass1", "second-Pass2"):
        assert (
            error_of(iam.update_login_profile, UserName="carol", Password=recent)
            == POLICY_VIOLATION
        )
    iam.update_login_profile(UserName="carol", Password="third-Pass3")
    iam.update_login_profile(UserName="carol", Password="first-Pass1")  # three back: allowed


# -- ChangePassword ----------------------------------------------------------------------


def test_change_password_as_the_user(fresh_server: RunningServer) -> None:
    iam = fresh_server.client("iam")
    dave = _user_with_key(fresh_server, iam, "dave")
    iam.create_login_profile(UserName="dave", Password=GOOD, PasswordResetRequired=True)

    # Without a policy allowing it, and without AllowUsersToChangePassword: denied.
    status, code, message = error_of(dave.change_password, OldPassword=GOOD, NewPassword=OTHER)
    assert (status, code) == (403, "AccessDenied")
    assert "iam:ChangePassword" in message
    assert "user/dave" in message

    # AllowUsersToChangePassword grants it (and reading the policy) without any policy.
    iam.update_account_password_policy(
        AllowUsersToChangePassword=True, MinimumPasswordLength=10, RequireNumbers=True
    )
    assert dave.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 10
    assert error_of(dave.change_password, OldPassword="not-my-password", NewPassword=OTHER) == (
        403,
        "AccessDenied",
        "The old password is incorrect.",
    )
    assert (
        error_of(dave.change_password, OldPassword=GOOD, NewPassword="no-digits-here")
        == POLICY_VIOLATION
    )
    dave.change_password(OldPassword=GOOD, NewPassword=OTHER)
    assert iam.get_login_profile(UserName="dave")["LoginProfile"]["PasswordResetRequired"] is False
    assert sign_in(fresh_server, "dave", OTHER)[1]["outcome"] == "signed_in"
    assert sign_in(fresh_server, "dave", GOOD)[1]["outcome"] == "invalid_credentials"

    # An explicit deny still wins over the account's grant.
    iam.put_user_policy(
        UserName="dave",
        PolicyName="NoPasswordChanges",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "iam:ChangePassword", "Resource": "*"}],
            }
        ),
    )
    status, code, message = error_of(dave.change_password, OldPassword=OTHER, NewPassword=GOOD)
    assert (status, code) == (403, "AccessDenied")
    assert "explicit deny" in message


def test_change_password_with_the_managed_policy_and_no_login_profile(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-cp"
    user = _user_with_key(server, iam, name)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword")
    assert error_of(user.change_password, OldPassword=GOOD, NewPassword=OTHER) == (
        404,
        "NoSuchEntity",
        f"Login Profile for User {name} cannot be found.",
    )
    iam.create_login_profile(UserName=name, Password=GOOD)
    user.change_password(OldPassword=GOOD, NewPassword=OTHER)
    # The managed policy covers the caller's own user only.
    status, code, _ = error_of(user.get_login_profile, UserName="admin")
    assert (status, code) == (403, "AccessDenied")


# -- sign-in -----------------------------------------------------------------------------


def test_sign_in_records_password_last_used(server: RunningServer, iam: Any, unique: str) -> None:
    name = f"{unique}-si"
    iam.create_user(UserName=name)
    assert "PasswordLastUsed" not in iam.get_user(UserName=name)["User"]
    iam.create_login_profile(UserName=name, Password=GOOD)

    status, body, headers = sign_in(server, name, GOOD)
    assert status == 200
    assert body["outcome"] == "signed_in"
    assert body["userName"] == name
    assert body["arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert body["userId"].startswith("AIDA")
    assert headers["cache-control"] == "no-store"
    assert GOOD not in json.dumps(body)

    user = iam.get_user(UserName=name)["User"]
    assert user["PasswordLastUsed"] >= user["CreateDate"]
    listed = [u for u in iam.list_users()["Users"] if u["UserName"] == name]
    assert listed[0]["PasswordLastUsed"] == user["PasswordLastUsed"]


def test_sign_in_failures_look_alike(server: RunningServer, iam: Any, unique: str) -> None:
    with_password = f"{unique}-a"
    without_password = f"{unique}-b"
    iam.create_user(UserName=with_password)
    iam.create_user(UserName=without_password)
    iam.create_login_profile(UserName=with_password, Password=GOOD)
    answers = [
        sign_in(server, with_password, OTHER)[:2],
        sign_in(server, without_password, OTHER)[:2],
        sign_in(server, f"{unique}-nobody", OTHER)[:2],
    ]
    assert answers == [(401, {"outcome": "invalid_credentials"})] * 3
    # Another account (or a wrong alias) is just as unknown.
    body = json.dumps(
        {"account": "999999999999", "userName": with_password, "password": GOOD}
    ).encode()
    assert _post(server, body, "application/json")[:2] == (401, {"outcome": "invalid_credentials"})


def test_sign_in_takes_a_form_and_rejects_what_is_no_attempt(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-form"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=GOOD)
    form = urllib.parse.urlencode({"account": ACCOUNT, "userName": name, "password": GOOD}).encode()
    assert _post(server, form, "application/x-www-form-urlencoded")[1]["outcome"] == "signed_in"
    for body, content_type in (
        (b"not json", "application/json"),
        (json.dumps({"account": ACCOUNT, "userName": name}).encode(), "application/json"),
        (
            json.dumps({"account": ACCOUNT, "userName": "bad name!", "password": GOOD}).encode(),
            "application/json",
        ),
        (form, "text/plain"),
        (b"[" * 200_000, "application/json"),  # too deep for json: still a bad request
    ):
        status, answer, _ = _post(server, body, content_type)
        assert status == 400
        assert answer["outcome"] == "bad_request"
        assert GOOD not in json.dumps(answer)


def test_repeated_failures_are_slowed_down(server: RunningServer, iam: Any, unique: str) -> None:
    name = f"{unique}-slow"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=GOOD)
    for _ in range(3):
        assert sign_in(server, name, OTHER)[0] == 401
    # Inside the back-off window even the right password gets no answer about itself.
    status, body, headers = sign_in(server, name, GOOD)
    assert status == 429
    assert body == {"outcome": "throttled", "retryAfterSeconds": body["retryAfterSeconds"]}
    assert 1 <= body["retryAfterSeconds"] <= 2
    assert headers["retry-after"] == str(body["retryAfterSeconds"])
    time.sleep(body["retryAfterSeconds"] + 0.2)
    assert sign_in(server, name, GOOD)[1]["outcome"] == "signed_in"
    # The success forgave the failures: one more failure is not throttled.
    assert sign_in(server, name, OTHER)[0] == 401
    assert sign_in(server, name, GOOD)[0] == 200

    # A name without a password is throttled the same way: throttling tells nothing.
    ghost = f"{unique}-ghost"
    for _ in range(3):
        assert sign_in(server, ghost, OTHER)[0] == 401
    assert sign_in(server, ghost, OTHER)[1]["outcome"] == "throttled"


def test_reset_required_needs_a_new_password(server: RunningServer, iam: Any, unique: str) -> None:
    name = f"{unique}-reset"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=GOOD, PasswordResetRequired=True)
    status, body, _ = sign_in(server, name, GOOD)
    assert (status, body["outcome"], body["userName"]) == (403, "password_reset_required", name)
    assert "PasswordLastUsed" not in iam.get_user(UserName=name)["User"]
    # The new password meets the same rules as any other.
    assert sign_in(server, name, GOOD, newPassword="weak")[1]["outcome"] == "new_password_rejected"
    assert sign_in(server, name, GOOD, newPassword=OTHER)[1]["outcome"] == "signed_in"
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is False
    assert sign_in(server, name, OTHER)[1]["outcome"] == "signed_in"
    assert "PasswordLastUsed" in iam.get_user(UserName=name)["User"]


# -- secrecy -----------------------------------------------------------------------------


def test_no_password_in_plain_text_in_the_database_or_the_log(fresh_server: RunningServer) -> None:
    iam = fresh_server.client("iam")
    first, second, wrong = "Plain-Text-Canary-1", "Plain-Text-Canary-2", "Plain-Text-Canary-3"
    erin = _user_with_key(fresh_server, iam, "erin")
    iam.update_account_password_policy(AllowUsersToChangePassword=True, PasswordReusePrevention=5)
    iam.create_login_profile(UserName="erin", Password=first)
    assert sign_in(fresh_server, "erin", wrong)[0] == 401
    assert sign_in(fresh_server, "erin", first)[0] == 200
    erin.change_password(OldPassword=first, NewPassword=second)
    error_of(erin.change_password, OldPassword=wrong, NewPassword=first)
    error_of(iam.update_login_profile, UserName="erin", Password=first)  # reused
    fresh_server.stop()

    stored = b"".join(
        path.read_bytes()
        for path in fresh_server.data_dir.iterdir()
        if path.name.startswith("iamd.sqlite3")
    )
    assert b"$argon2id$" in stored
    log = fresh_server.log_text().encode()
    assert b"SignIn" in log  # the attempts are logged, their passwords are not
    for password in (first, second, wrong):
        for encoded in (password.encode(), password.encode("utf-16-le")):
            assert encoded not in stored, password
            assert encoded not in log, password


def test_guessing_the_old_password_through_the_api_is_slowed_down_too(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-guess"
    user = _user_with_key(server, iam, name)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword")
    iam.create_login_profile(UserName=name, Password=GOOD)
    for _ in range(3):
        status, code, _ = error_of(user.change_password, OldPassword=OTHER, NewPassword=OTHER)
        assert (status, code) == (403, "AccessDenied")
    # The right old password inside the back-off window is refused unchecked.
    status, code, _ = error_of(user.change_password, OldPassword=GOOD, NewPassword=OTHER)
    assert (status, code) == (409, "EntityTemporarilyUnmodifiable")
    # The failures are the same count sign-in uses.
    assert sign_in(server, name, GOOD)[1]["outcome"] == "throttled"

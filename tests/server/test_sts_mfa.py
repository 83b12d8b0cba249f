"""GetSessionToken with MFA through boto3: the MFA context of the session, its age, and
the codes STS refuses. Codes are computed here from the device's seed (RFC 6238)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.iam_helpers import ACCOUNT, error_of
from tests.server.test_sts_sessions import session_client, user_with_key
from tests.support.clock import ServerClock
from tests.support.servers import RunningServer, start_server
from tests.support.totp import code_at

INVALID_CODE = (
    403,
    "AccessDenied",
    "MultiFactorAuthentication failed with invalid MFA one time pass code.",
)
UNKNOWN_DEVICE = (
    403,
    "AccessDenied",
    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA "
    "serial number is valid and associated with this user.",
)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Device:
    """A virtual MFA device enabled for a user; hands out codes newer than any used."""

    def __init__(self, iam: Any, user: str, clock: ServerClock | None = None) -> None:
        created = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
        self.serial = str(created["SerialNumber"])
        self.seed = created["Base32StringSeed"].decode()
        self._clock = clock
        now = self._now_with_margin()
        iam.enable_mfa_device(
            UserName=user,
            SerialNumber=self.serial,
            AuthenticationCode1=code_at(self.seed, now - 30),
            AuthenticationCode2=code_at(self.seed, now),
        )
        self._next = now + 30

    def _now_with_margin(self) -> float:
        now = self._clock.server_time() if self._clock else time.time()
        if 30 - now % 30 < 3:
            time.sleep(30 - now % 30 + 0.2)
            now = self._clock.server_time() if self._clock else time.time()
        return now

    def next_code(self) -> str:
        """The next step's code: within the accepted window once, then wait a step."""
        now = self._now_with_margin()
        step_time = max(self._next, now)
        while step_time > now + 30:
            time.sleep(1)
            now = self._now_with_margin()
        self._next = step_time + 30
        return code_at(self.seed, step_time)


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[RunningServer, ServerClock]]:
    clock = ServerClock(tmp_path / "clock")
    clock.set_offset(0)
    running = start_server(tmp_path / "data", test_clock_file=clock.path)
    yield running, clock
    running.stop()


def test_mfa_session_may_call_iam_and_meets_mfa_conditions(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-u"
    key_id, secret = user_with_key(iam, name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="mfa-only",
        PolicyDocument=policy(
            {
                "Effect": "Allow",
                "Action": "iam:GetUser",
                "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ),
    )
    user_iam = server.client("iam", key_id, secret)
    assert error_of(user_iam.get_user)[1] == "AccessDenied"
    device = Device(iam, name)
    sts = server.client("sts", key_id, secret)
    credentials = sts.get_session_token(SerialNumber=device.serial, TokenCode=device.next_code())[
        "Credentials"
    ]
    assert session_client(server, credentials, "iam").get_user()["User"]["UserName"] == name


def test_codes_that_sts_refuses(server: RunningServer, iam: Any, unique: str) -> None:
    name = f"{unique}-u"
    key_id, secret = user_with_key(iam, name)
    device = Device(iam, name)
    sts = server.client("sts", key_id, secret)
    code = device.next_code()
    valid = {code_at(device.seed, time.time() + 30 * k) for k in range(-2, 4)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    assert error_of(sts.get_session_token, SerialNumber=device.serial, TokenCode=wrong) == (
        INVALID_CODE
    )
    sts.get_session_token(SerialNumber=device.serial, TokenCode=code)
    # A code is good once.
    assert error_of(sts.get_session_token, SerialNumber=device.serial, TokenCode=code) == (
        INVALID_CODE
    )
    # A device that is not this user's, or none at all.
    other_name = f"{unique}-other"
    user_with_key(iam, other_name)
    other = Device(iam, other_name)
    assert (
        error_of(sts.get_session_token, SerialNumber=other.serial, TokenCode=other.next_code())
        == UNKNOWN_DEVICE
    )
    missing = f"arn:aws:iam::{ACCOUNT}:mfa/{unique}-nothing"
    assert error_of(sts.get_session_token, SerialNumber=missing, TokenCode="123456") == (
        UNKNOWN_DEVICE
    )


def test_mfa_age_grows_and_token_issue_time_revokes(
    clocked: tuple[RunningServer, ServerClock],
) -> None:
    server, clock = clocked
    iam = server.client("iam")
    key_id, secret = user_with_key(iam, "jdoe")
    iam.put_user_policy(
        UserName="jdoe",
        PolicyName="recent-mfa",
        PolicyDocument=policy(
            {
                "Effect": "Allow",
                "Action": "iam:GetUser",
                "Resource": "*",
                "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}},
            }
        ),
    )
    device = Device(iam, "jdoe", clock)
    credentials = server.client("sts", key_id, secret).get_session_token(
        SerialNumber=device.serial, TokenCode=device.next_code()
    )["Credentials"]
    session_iam = session_client(server, credentials, "iam")
    assert session_iam.get_user()["User"]["UserName"] == "jdoe"
    clock.set_offset(301)
    assert error_of(session_iam.get_user)[1] == "AccessDenied"

    # AWS's recipe to cut off sessions issued before a moment: deny on aws:TokenIssueTime.
    clock.set_offset(0)
    assert session_iam.get_user()["User"]["UserName"] == "jdoe"
    cutoff = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5))
    iam.put_user_policy(
        UserName="jdoe",
        PolicyName="revoke-older-sessions",
        PolicyDocument=policy(
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}},
            }
        ),
    )
    status, code, message = error_of(session_iam.get_user)
    assert (status, code) == (403, "AccessDenied")
    assert "with an explicit deny in an identity-based policy" in message

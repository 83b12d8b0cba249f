"""The guide's MFA condition, end to end with the real AWS CLI and STS sessions.

"Add this condition block to the statements that grant CreateAccessKey and
DeleteAccessKey": with `aws:MultiFactorAuthPresent` required, jdoe's long-term key is
refused; after enabling a virtual MFA device (codes computed here from its seed) and
`aws sts get-session-token --serial-number ... --token-code ...`, the session may
create his key. Wrong and reused codes fail, and an expired session gets ExpiredToken.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_guide_policy_enforcement import COMBINED_POLICY, guide_developers
from tests.support.awscli import AwsCli
from tests.support.clock import ServerClock
from tests.support.servers import RunningServer, start_server
from tests.support.totp import code_at

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/jdoe"
# What jdoe needs to set up his own device (AWS's self-service MFA example, trimmed).
OWN_MFA_DEVICE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iam:CreateVirtualMFADevice",
            "Resource": "arn:aws:iam::*:mfa/${aws:username}",
        },
        {
            "Effect": "Allow",
            "Action": "iam:EnableMFADevice",
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
    ],
}


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[RunningServer, ServerClock]]:
    # Sessions last at least 15 minutes and requests may be 15 minutes off the server's
    # clock: the server runs 8 minutes behind while the session is issued and is moved
    # 8 minutes ahead to see it expire, so the CLI's requests stay in the window.
    clock = ServerClock(tmp_path / "clock")
    clock.set_offset(-480)
    server = start_server(tmp_path / "data", test_clock_file=clock.path)
    yield server, clock
    server.stop()


def _step_start_margin(clock: ServerClock) -> None:
    """Wait out the last seconds of a 30 s step, so a code is not computed for a step
    that ends before the server checks it."""
    left = 30 - clock.server_time() % 30
    if left < 3:
        time.sleep(left + 0.2)


def _guide_policy_with_mfa_condition() -> dict[str, Any]:
    policy = copy.deepcopy(COMBINED_POLICY)
    for statement in policy["Statement"]:
        if "iam:CreateAccessKey" in statement["Action"]:
            statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return policy


def _set_up(server: RunningServer, tmp_path: Path) -> AwsCli:
    admin = guide_developers(server, tmp_path, _guide_policy_with_mfa_condition())
    (tmp_path / "own-mfa.json").write_text(json.dumps(OWN_MFA_DEVICE))
    admin.run(
        "iam",
        "put-user-policy",
        "--user-name",
        "jdoe",
        "--policy-name",
        "OwnMFADevice",
        "--policy-document",
        "file://own-mfa.json",
    )
    key = admin.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]
    return AwsCli(server, key["AccessKeyId"], key["SecretAccessKey"], tmp_path)


def _session_cli(jdoe: AwsCli, tmp_path: Path, credentials: dict[str, str]) -> AwsCli:
    return AwsCli(
        jdoe.server,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        tmp_path,
        session_token=credentials["SessionToken"],
    )


def test_guide_mfa_condition_with_session_credentials(
    clocked: tuple[RunningServer, ServerClock], tmp_path: Path
) -> None:
    server, clock = clocked
    jdoe = _set_up(server, tmp_path)

    # The long-term key carries no MFA: the conditioned statement does not apply.
    denied = jdoe.run("iam", "create-access-key", check=False)
    assert denied.returncode != 0
    assert "AccessDenied" in denied.stderr
    assert "is not authorized to perform: iam:CreateAccessKey" in denied.stderr

    device = jdoe.run(
        "iam",
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name",
        "jdoe",
        "--outfile",
        str(tmp_path / "seed.txt"),
        "--bootstrap-method",
        "Base32StringSeed",
    ).json()["VirtualMFADevice"]
    assert device["SerialNumber"] == SERIAL
    seed = (tmp_path / "seed.txt").read_text().strip()
    _step_start_margin(clock)
    now = clock.server_time()
    jdoe.run(
        "iam",
        "enable-mfa-device",
        "--user-name",
        "jdoe",
        "--serial-number",
        SERIAL,
        "--authentication-code1",
        code_at(seed, now - 30),
        "--authentication-code2",
        code_at(seed, now),
    )

    # The next step's code (within the accepted window, newer than those used).
    code = code_at(seed, now + 30)
    credentials = jdoe.run(
        "sts", "get-session-token", "--serial-number", SERIAL, "--token-code", code
    ).json()["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    session = _session_cli(jdoe, tmp_path, credentials)
    created = session.run("iam", "create-access-key").json()["AccessKey"]
    assert created["UserName"] == "jdoe"
    assert session.run("sts", "get-caller-identity").json()["Arn"] == (
        f"arn:aws:iam::{ACCOUNT}:user/jdoe"
    )

    # A code is good once; a wrong code never.
    reused = jdoe.run(
        "sts", "get-session-token", "--serial-number", SERIAL, "--token-code", code, check=False
    )
    assert reused.returncode != 0
    assert "MultiFactorAuthentication failed with invalid MFA one time pass code." in (
        reused.stderr
    )
    valid = {code_at(seed, now + 30 * k) for k in range(-2, 4)}
    wrong = next(c for c in ("000000", "123456", "999999") if c not in valid)
    refused = jdoe.run(
        "sts", "get-session-token", "--serial-number", SERIAL, "--token-code", wrong, check=False
    )
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr

    # A short session, then the server's clock moved past its end.
    clock.set_offset(-450)
    _step_start_margin(clock)
    short = jdoe.run(
        "sts",
        "get-session-token",
        "--serial-number",
        SERIAL,
        "--token-code",
        code_at(seed, clock.server_time() + 30),
        "--duration-seconds",
        "900",
    ).json()["Credentials"]
    short_session = _session_cli(jdoe, tmp_path, short)
    key_id = short_session.run("iam", "list-access-keys").json()["AccessKeyMetadata"][0]
    assert key_id["UserName"] == "jdoe"
    clock.set_offset(460)
    expired = short_session.run("iam", "create-access-key", check=False)
    assert expired.returncode != 0
    assert "ExpiredToken" in expired.stderr
    assert "The security token included in the request is expired" in expired.stderr

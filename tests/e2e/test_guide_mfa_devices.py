"""MFA devices with the AWS CLI under the guide's policies.

The guide's combined policy lets jdoe run `iam:ListMFADevices` (its ViewAccountInfo
statement); AWS's documented self-service MFA statements (devices under `mfa/`, the
enabling operations on the user's own ARN) let him set up his own device, and only his.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tests.e2e.test_guide_policy_enforcement import guide_developers
from tests.support.awscli import AwsCli, CliResult
from tests.support.servers import RunningServer

from iamd.auth import totp

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
# The statements of AWS's "manage your own MFA device" example policy that need no MFA.
SELF_MANAGE_MFA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowManageOwnVirtualMFADevice",
            "Effect": "Allow",
            "Action": ["iam:CreateVirtualMFADevice"],
            "Resource": "arn:aws:iam::*:mfa/*",
        },
        {
            "Sid": "AllowManageOwnUserMFA",
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:GetMFADevice",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice",
            ],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
    ],
}


def _two_codes(seed: str) -> tuple[str, str]:
    left = totp.STEP_SECONDS - time.time() % totp.STEP_SECONDS
    if left < 4:
        time.sleep(left + 0.2)
    now = totp.time_step(time.time())
    raw = totp.seed_of_base32(seed)
    return totp.code_at(raw, now - 1), totp.code_at(raw, now)


def _set_up(server: RunningServer, tmp_path: Path) -> tuple[AwsCli, AwsCli]:
    admin = guide_developers(server, tmp_path)
    (tmp_path / "mfa.json").write_text(json.dumps(SELF_MANAGE_MFA, indent=2))
    key = admin.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]
    return admin, AwsCli(server, key["AccessKeyId"], key["SecretAccessKey"], tmp_path)


def _create(cli: AwsCli, name: str, outfile: Path) -> tuple[str, str]:
    """(serial number, base32 seed) of a new device; the CLI writes the seed to `outfile`."""
    device = cli.run(
        "iam",
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name",
        name,
        "--outfile",
        str(outfile),
        "--bootstrap-method",
        "Base32StringSeed",
    ).json()["VirtualMFADevice"]
    return device["SerialNumber"], outfile.read_text().strip()


def _enable(cli: AwsCli, user: str, serial: str, seed: str, *, check: bool = True) -> CliResult:
    first, second = _two_codes(seed)
    return cli.run(
        "iam",
        "enable-mfa-device",
        "--user-name",
        user,
        "--serial-number",
        serial,
        "--authentication-code1",
        first,
        "--authentication-code2",
        second,
        check=check,
    )


def test_guide_policy_lets_jdoe_list_mfa_devices(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    admin, jdoe = _set_up(fresh_server, tmp_path)
    serial, seed = _create(admin, "jdoe-phone", tmp_path / "jdoe-phone.txt")
    _enable(admin, "jdoe", serial, seed)

    for args in ((), ("--user-name", "jdoe")):
        listed = jdoe.run("iam", "list-mfa-devices", *args).json()["MFADevices"]
        assert [(d["UserName"], d["SerialNumber"]) for d in listed] == [("jdoe", serial)]

    # The guide's policy grants no device management.
    denied = jdoe.run(
        "iam",
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name",
        "x",
        "--outfile",
        str(tmp_path / "x.txt"),
        "--bootstrap-method",
        "Base32StringSeed",
        check=False,
    )
    assert denied.returncode != 0
    assert "is not authorized to perform: iam:CreateVirtualMFADevice" in denied.stderr


def test_self_service_mfa_statements_work_for_jdoe_only(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    admin, jdoe = _set_up(fresh_server, tmp_path)
    admin.run(
        "iam",
        "put-user-policy",
        "--user-name",
        "jdoe",
        "--policy-name",
        "SelfManageMFA",
        "--policy-document",
        "file://mfa.json",
    )
    serial, seed = _create(jdoe, "jdoe", tmp_path / "seed.txt")
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/jdoe"

    # Not for alice: EnableMFADevice is authorized against the user it enables for.
    denied = _enable(jdoe, "alice", serial, seed, check=False)
    assert denied.returncode != 0
    assert "is not authorized to perform: iam:EnableMFADevice" in denied.stderr

    _enable(jdoe, "jdoe", serial, seed)
    got = jdoe.run("iam", "get-mfa-device", "--serial-number", serial).json()
    assert (got["UserName"], got["SerialNumber"]) == ("jdoe", serial)
    jdoe.run("iam", "deactivate-mfa-device", "--serial-number", serial)
    assert jdoe.run("iam", "list-mfa-devices").json()["MFADevices"] == []
    # Deleting devices is not in the statements (AWS keeps it behind MFA).
    denied = jdoe.run("iam", "delete-virtual-mfa-device", "--serial-number", serial, check=False)
    assert "is not authorized to perform: iam:DeleteVirtualMFADevice" in denied.stderr
    assert f"on resource: {serial}" in denied.stderr

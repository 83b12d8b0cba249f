"""Writes are all-or-nothing, and the columns hold whatever validation lets through.

On both engines: a CreateVirtualMFADevice whose name is too long is refused before
anything is written (it used to answer 500 after saving a device whose seed nobody
received), and the longest inputs the models accept are stored and read back whole
(PostgreSQL used to answer 500 for an MFA device name over 128 characters, a tag key
that lowercases longer, and failed every last-used flush after a request signed for a
long region).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.iam_helpers import ACCOUNT, error_of, too_long
from tests.support.servers import RunningServer, start_server
from tests.support.signing import send, signed_post

# arn:aws:iam::123456789012:mfa/ leaves this much of a 256-character serial number.
LONGEST_MFA_NAME = 256 - len(f"arn:aws:iam::{ACCOUNT}:mfa/")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("fresh_postgres_url")
    running = start_server(tmp_path / "data", database_url=url)
    yield running
    running.stop()


def _serials(iam: Any) -> list[str]:
    return [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]]


def test_a_too_long_mfa_device_name_is_refused_and_nothing_is_saved(node: RunningServer) -> None:
    iam = node.client()
    name = "m" * 3000
    assert error_of(iam.create_virtual_mfa_device, VirtualMFADeviceName=name) == (
        400,
        "ValidationError",
        too_long(name, "virtualMFADeviceName", LONGEST_MFA_NAME),
    )
    one_over = "n" * (LONGEST_MFA_NAME + 1)
    assert error_of(iam.create_virtual_mfa_device, VirtualMFADeviceName=one_over)[:2] == (
        400,
        "ValidationError",
    )
    # Behind a longer path less of the name fits.
    path = "/" + "p" * 98 + "/"
    assert error_of(
        iam.create_virtual_mfa_device, VirtualMFADeviceName="q" * LONGEST_MFA_NAME, Path=path
    ) == (
        400,
        "ValidationError",
        too_long("q" * LONGEST_MFA_NAME, "virtualMFADeviceName", LONGEST_MFA_NAME - 99),
    )
    assert _serials(iam) == []
    assert "Traceback" not in node.log_text()


def test_the_longest_mfa_device_name_works_end_to_end(node: RunningServer) -> None:
    iam = node.client()
    name = "d" * LONGEST_MFA_NAME
    device = iam.create_virtual_mfa_device(
        VirtualMFADeviceName=name, Tags=[{"Key": "k" * 128, "Value": "v" * 256}]
    )["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/{name}"
    assert len(serial) == 256
    assert device["QRCodePNG"].startswith(b"\x89PNG")
    assert _serials(iam) == [serial]
    # Every operation that takes the serial number can address it.
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "k" * 128, "Value": "v" * 256}
    ]
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert _serials(iam) == []


def test_the_longest_accepted_values_are_stored_whole(node: RunningServer) -> None:
    iam = node.client()
    path = "/" + "p" * 510 + "/"
    user = "u" * 64
    # "İ" (U+0130) lowercases to two code points: the lowered key is 256 long.
    dotted_key = "\u0130" * 128
    iam.create_user(UserName=user, Path=path, Tags=[{"Key": dotted_key, "Value": "é" * 256}])
    assert iam.list_user_tags(UserName=user)["Tags"] == [{"Key": dotted_key, "Value": "é" * 256}]
    iam.create_group(GroupName="g" * 128, Path=path)
    policy = iam.create_policy(
        PolicyName="P" * 128,
        Path=path,
        Description="ü" * 1000,
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Action":"s3:GetObject","Resource":"*"}]}',
        Tags=[{"Key": dotted_key, "Value": "x"}],
    )["Policy"]
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["Description"] == "ü" * 1000
    iam.create_role(
        RoleName="r" * 64,
        Path=path,
        Description="ÿ" * 1000,
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}',
        Tags=[{"Key": dotted_key, "Value": "y"}],
    )
    iam.put_user_policy(
        UserName=user,
        PolicyName="i" * 128,
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Action":"s3:GetObject","Resource":"*"}]}',
    )
    iam.create_account_alias(AccountAlias="a" * 63)
    assert iam.list_account_aliases()["AccountAliases"] == ["a" * 63]
    assert "Traceback" not in node.log_text()


def test_a_request_signed_for_a_long_region_is_recorded(
    node: RunningServer, request: pytest.FixtureRequest
) -> None:
    iam = node.client()
    iam.create_user(UserName="traveller")
    key = iam.create_access_key(UserName="traveller")["AccessKey"]
    region = "r" + "-x" * 60  # 121 characters: any well-formed region is accepted
    # botocore refuses such a region name; a hand-signed request does not.
    signed = signed_post(
        node.endpoint,
        "Action=GetCallerIdentity&Version=2011-06-15",
        key["AccessKeyId"],
        key["SecretAccessKey"],
        region=region,
        service="sts",
    )
    assert send(signed).status == 200
    # Pending uses are written at shutdown; a restarted node reads them from the database.
    assert node.stop() == 0
    database_url = node.env.get("IAMD_DATABASE_URL")
    again = start_server(node.data_dir, database_url=database_url)
    try:
        last_used = again.client().get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        assert last_used["AccessKeyLastUsed"]["Region"] == region
        assert last_used["AccessKeyLastUsed"]["ServiceName"] == "sts"
    finally:
        again.stop()
    assert "Traceback" not in node.log_text()

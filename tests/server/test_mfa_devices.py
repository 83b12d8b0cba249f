"""Virtual MFA devices through boto3, with codes computed here from the seed returned.

The QR code is decoded with zxing-cpp; the seed is looked for, in every form, in the
bytes of the database and of the server log.
"""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from tests.server.iam_helpers import ACCOUNT, all_pages, assert_recent_utc, error_of
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

from iamd.auth import totp

INVALID_CODE = (403, "InvalidAuthenticationCode", "Authentication code for device is not valid.")


def current_step() -> int:
    """This time step, waiting first if it ends within 4 s (the request must land in it)."""
    left = totp.STEP_SECONDS - time.time() % totp.STEP_SECONDS
    if left < 4:
        time.sleep(left + 0.2)
    return totp.time_step(time.time())


def codes(seed: str, *steps: int) -> dict[str, str]:
    """AuthenticationCode1/2 for the given steps of the device with this base32 seed."""
    raw = totp.seed_of_base32(seed)
    names = ("AuthenticationCode1", "AuthenticationCode2")
    return {name: totp.code_at(raw, step) for name, step in zip(names, steps, strict=True)}


def new_device(iam: Any, name: str, **params: Any) -> tuple[str, str, bytes]:
    """(serial number, base32 seed, QR code PNG) of a new virtual device."""
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, **params)["VirtualMFADevice"]
    return device["SerialNumber"], device["Base32StringSeed"].decode("ascii"), device["QRCodePNG"]


def enable(iam: Any, user: str, serial: str, seed: str) -> int:
    """Enable the device for the user with the two latest codes; the step of the second."""
    now = current_step()
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, **codes(seed, now - 1, now))
    return now


def test_create_returns_the_seed_and_a_qr_code_of_its_otpauth_uri(iam: Any, unique: str) -> None:
    name = f"phone-{unique}"
    serial, seed, png = new_device(iam, name, Path="/team/")
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/team/{name}"
    # AWS's seeds: 40 random bytes, 64 base32 characters.
    assert len(seed) == 64
    assert len(totp.seed_of_base32(seed)) == 40
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.format for r in found] == [zxingcpp.BarcodeFormat.QRCode]
    assert found[0].text == (
        f"otpauth://totp/Amazon%20Web%20Services:{name}@{ACCOUNT}"
        f"?secret={seed}&issuer=Amazon%20Web%20Services"
    )
    # Two devices never share a seed.
    assert new_device(iam, f"other-{unique}")[1] != seed


def test_the_cli_writes_the_qr_code_and_the_seed_as_aws_does(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    cli = AwsCli(server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    out = cli.run(
        "iam",
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name",
        f"cli-{unique}",
        "--outfile",
        str(tmp_path / "qr.png"),
        "--bootstrap-method",
        "QRCodePNG",
    ).json()
    serial = out["VirtualMFADevice"]["SerialNumber"]
    text = zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))[0].text
    seed = text.split("secret=")[1].split("&")[0]
    cli.run(
        "iam",
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name",
        f"cli-seed-{unique}",
        "--outfile",
        str(tmp_path / "seed.txt"),
        "--bootstrap-method",
        "Base32StringSeed",
    )
    assert len((tmp_path / "seed.txt").read_text().strip()) == 64
    # The seed read from the QR code works: the device can be enabled with its codes.
    cli.run("iam", "create-user", "--user-name", f"cli-user-{unique}")
    now = current_step()
    pair = codes(seed, now - 1, now)
    cli.run(
        "iam",
        "enable-mfa-device",
        "--user-name",
        f"cli-user-{unique}",
        "--serial-number",
        serial,
        "--authentication-code1",
        pair["AuthenticationCode1"],
        "--authentication-code2",
        pair["AuthenticationCode2"],
    )
    listed = cli.run("iam", "list-mfa-devices", "--user-name", f"cli-user-{unique}").json()
    assert [d["SerialNumber"] for d in listed["MFADevices"]] == [serial]


def test_lifecycle(iam: Any, unique: str) -> None:
    user = f"mfa-user-{unique}"
    created = iam.create_user(UserName=user)["User"]
    serial, seed, _ = new_device(iam, f"life-{unique}", Tags=[{"Key": "team", "Value": "ops"}])

    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    mine = [d for d in unassigned if d["SerialNumber"] == serial]
    # Listings never give the seed, the QR code or the tags back.
    assert mine == [{"SerialNumber": serial}]
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []

    enable(iam, user, serial, seed)
    devices = iam.list_mfa_devices(UserName=user)["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in devices] == [(user, serial)]
    assert_recent_utc(devices[0]["EnableDate"])
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    [entry] = [d for d in assigned if d["SerialNumber"] == serial]
    assert entry["User"]["UserName"] == user
    assert entry["User"]["UserId"] == created["UserId"]
    assert entry["User"]["Arn"] == created["Arn"]
    assert entry["EnableDate"] == devices[0]["EnableDate"]
    got = iam.get_mfa_device(UserName=user, SerialNumber=serial)
    assert (got["UserName"], got["SerialNumber"]) == (user, serial)
    assert all(
        d["SerialNumber"] != serial
        for d in iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    )

    # Enabled: the device cannot be deleted, nor the user, nor the device enabled twice.
    assert error_of(iam.delete_virtual_mfa_device, SerialNumber=serial) == (
        409,
        "DeleteConflict",
        "MFA VirtualDevice in use. Must deactivate first.",
    )
    assert error_of(iam.delete_user, UserName=user) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete MFA device first.",
    )
    other = f"mfa-other-{unique}"
    iam.create_user(UserName=other)
    now = current_step()
    assert error_of(
        iam.enable_mfa_device, UserName=other, SerialNumber=serial, **codes(seed, now, now + 1)
    ) == (409, "EntityAlreadyExists", "MFA Device is already in use.")
    # Another user cannot deactivate it.
    assert error_of(iam.deactivate_mfa_device, UserName=other, SerialNumber=serial) == (
        404,
        "NoSuchEntity",
        "MFA Device invalid for user.",
    )

    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    iam.delete_user(UserName=user)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(iam.delete_virtual_mfa_device, SerialNumber=serial) == (
        404,
        "NoSuchEntity",
        f"VirtualMFADevice with serial number {serial} does not exist.",
    )
    everything = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert all(d["SerialNumber"] != serial for d in everything)


def test_wrong_codes_are_refused(iam: Any, unique: str) -> None:
    user = f"wrong-{unique}"
    iam.create_user(UserName=user)
    serial, seed, _ = new_device(iam, f"wrong-{unique}")
    now = current_step()
    good = codes(seed, now - 1, now)
    wrong = f"{(int(good['AuthenticationCode2']) + 1) % 1_000_000:06d}"
    attempts = [
        {**good, "AuthenticationCode2": wrong},
        # The same code twice is not two consecutive codes.
        {
            "AuthenticationCode1": good["AuthenticationCode2"],
            **{"AuthenticationCode2": good["AuthenticationCode2"]},
        },
        # Swapped codes are not consecutive either.
        {
            "AuthenticationCode1": good["AuthenticationCode2"],
            "AuthenticationCode2": good["AuthenticationCode1"],
        },
        # Two steps ahead of the server's clock: beyond the drift tolerated.
        codes(seed, now + 1, now + 2),
        # Codes from two minutes ago.
        codes(seed, now - 5, now - 4),
    ]
    for attempt in attempts:
        if attempt == good:
            continue  # a chance collision of codes would make this attempt a good one
        assert error_of(iam.enable_mfa_device, UserName=user, SerialNumber=serial, **attempt) == (
            INVALID_CODE
        ), attempt
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    # Errors name what is missing, user first.
    assert error_of(
        iam.enable_mfa_device, UserName=f"ghost-{unique}", SerialNumber=serial, **good
    ) == (404, "NoSuchEntity", f"The user with name ghost-{unique} cannot be found.")
    ghost_serial = f"arn:aws:iam::{ACCOUNT}:mfa/ghost-{unique}"
    assert error_of(iam.enable_mfa_device, UserName=user, SerialNumber=ghost_serial, **good) == (
        404,
        "NoSuchEntity",
        f"VirtualMFADevice with serial number {ghost_serial} does not exist.",
    )


@pytest.mark.parametrize("drift", [-1, 1])
def test_one_step_of_clock_drift_is_tolerated(iam: Any, unique: str, drift: int) -> None:
    user = f"drift{drift + 1}-{unique}"
    iam.create_user(UserName=user)
    serial, seed, _ = new_device(iam, f"drift{drift + 1}-{unique}")
    now = current_step()
    # The device's clock is one step behind (or ahead of) the server's.
    pair = codes(seed, now + drift - 1, now + drift)
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, **pair)
    assert len(iam.list_mfa_devices(UserName=user)["MFADevices"]) == 1


def test_a_code_is_accepted_once(iam: Any, unique: str) -> None:
    user = f"replay-{unique}"
    iam.create_user(UserName=user)
    serial, seed, _ = new_device(iam, f"replay-{unique}")
    now = enable(iam, user, serial, seed)
    # The codes that enabled the device, or any older, do not resynchronise it.
    same = codes(seed, now - 1, now)
    assert error_of(iam.resync_mfa_device, UserName=user, SerialNumber=serial, **same) == (
        INVALID_CODE
    )
    overlapping = codes(seed, now, now + 1)
    assert error_of(iam.resync_mfa_device, UserName=user, SerialNumber=serial, **overlapping) == (
        INVALID_CODE
    )
    # Newer codes do, once.
    newer = codes(seed, now + 1, now + 2)
    iam.resync_mfa_device(UserName=user, SerialNumber=serial, **newer)
    assert error_of(iam.resync_mfa_device, UserName=user, SerialNumber=serial, **newer) == (
        INVALID_CODE
    )
    # Deactivating and enabling again does not make old codes good again.
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert error_of(iam.enable_mfa_device, UserName=user, SerialNumber=serial, **newer) == (
        INVALID_CODE
    )


def test_resync_accepts_a_device_ten_minutes_off_but_not_more(iam: Any, unique: str) -> None:
    user = f"resync-{unique}"
    iam.create_user(UserName=user)
    serial, seed, _ = new_device(iam, f"resync-{unique}")
    now = enable(iam, user, serial, seed)
    # A device whose clock runs 9.5 minutes fast.
    iam.resync_mfa_device(UserName=user, SerialNumber=serial, **codes(seed, now + 18, now + 19))
    far = codes(seed, now + 40, now + 41)
    assert error_of(iam.resync_mfa_device, UserName=user, SerialNumber=serial, **far) == (
        INVALID_CODE
    )
    # Resync is for the user the device is enabled for.
    iam.create_user(UserName=f"resync-other-{unique}")
    assert error_of(
        iam.resync_mfa_device,
        UserName=f"resync-other-{unique}",
        SerialNumber=serial,
        **codes(seed, now + 19, now + 20),
    ) == (404, "NoSuchEntity", "MFA Device invalid for user.")


def test_devices_are_unique_by_path_and_name(iam: Any, unique: str) -> None:
    """iam-facts: "duplicate name+path -> EntityAlreadyExists"; the same name on another
    path is another device (another serial number)."""
    name = f"paths-{unique}"
    first = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path="/a/")
    second = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path="/b/")
    serials = {
        first["VirtualMFADevice"]["SerialNumber"],
        second["VirtualMFADevice"]["SerialNumber"],
    }
    assert serials == {
        f"arn:aws:iam::{ACCOUNT}:mfa/a/{name}",
        f"arn:aws:iam::{ACCOUNT}:mfa/b/{name}",
    }
    assert error_of(
        iam.create_virtual_mfa_device, VirtualMFADeviceName=name.upper(), Path="/a/"
    ) == (409, "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
    listed = {d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]}
    assert serials <= listed
    for serial in serials:
        iam.delete_virtual_mfa_device(SerialNumber=serial)


def test_duplicate_names_and_the_eight_devices_per_user(iam: Any, unique: str) -> None:
    name = f"dup-{unique}"
    new_device(iam, name)
    for other in (name, name.upper()):
        assert error_of(iam.create_virtual_mfa_device, VirtualMFADeviceName=other) == (
            409,
            "EntityAlreadyExists",
            "MFADevice entity at the same path and name already exists.",
        )
    user = f"eight-{unique}"
    iam.create_user(UserName=user)
    devices = [new_device(iam, f"eight{i}-{unique}") for i in range(9)]
    # Each enable needs codes newer than the device's own last step only: one step will do.
    for serial, seed, _ in devices[:8]:
        enable(iam, user, serial, seed)
    serial, seed, _ = devices[8]
    now = current_step()
    assert error_of(
        iam.enable_mfa_device, UserName=user, SerialNumber=serial, **codes(seed, now - 1, now)
    ) == (409, "LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: 8")
    listed, pages = all_pages(iam, "list_mfa_devices", "MFADevices", 3, UserName=user)
    assert sorted(d["SerialNumber"] for d in listed) == sorted(d[0] for d in devices[:8])
    assert pages == 3


def test_list_virtual_mfa_devices_pages_by_status(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    iam.create_user(UserName="pager")
    made = [new_device(iam, f"p{i:02d}") for i in range(7)]
    for serial, seed, _ in made[:3]:
        enable(iam, "pager", serial, seed)
    everything, pages = all_pages(iam, "list_virtual_mfa_devices", "VirtualMFADevices", 2)
    assert sorted(d["SerialNumber"] for d in everything) == sorted(m[0] for m in made)
    assert pages == 4
    assigned, _ = all_pages(
        iam, "list_virtual_mfa_devices", "VirtualMFADevices", 2, AssignmentStatus="Assigned"
    )
    assert sorted(d["SerialNumber"] for d in assigned) == sorted(m[0] for m in made[:3])
    assert all(d["User"]["UserName"] == "pager" for d in assigned)
    unassigned, _ = all_pages(
        iam, "list_virtual_mfa_devices", "VirtualMFADevices", 2, AssignmentStatus="Unassigned"
    )
    assert sorted(d["SerialNumber"] for d in unassigned) == sorted(m[0] for m in made[3:])
    assert all("User" not in d and "EnableDate" not in d for d in unassigned)
    any_status, _ = all_pages(
        iam, "list_virtual_mfa_devices", "VirtualMFADevices", 5, AssignmentStatus="Any"
    )
    assert any_status == everything
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["MFADevices"], summary["MFADevicesInUse"]) == (7, 3)


def test_tags(iam: Any, unique: str) -> None:
    serial, _, _ = new_device(iam, f"tags-{unique}", Tags=[{"Key": "a", "Value": "1"}])
    iam.tag_mfa_device(
        SerialNumber=serial, Tags=[{"Key": "b", "Value": "2"}, {"Key": "A", "Value": "3"}]
    )
    tags = iam.list_mfa_device_tags(SerialNumber=serial)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("A", "3"), ("b", "2")]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["B"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "A", "Value": "3"}]
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert error_of(iam.tag_mfa_device, SerialNumber=serial, Tags=too_many)[:2] == (
        409,
        "LimitExceeded",
    )
    ghost = f"arn:aws:iam::{ACCOUNT}:mfa/none-{unique}"
    assert error_of(iam.list_mfa_device_tags, SerialNumber=ghost)[:2] == (404, "NoSuchEntity")


def test_seeds_are_not_in_plain_text_in_the_database_or_the_log(
    fresh_server: RunningServer,
) -> None:
    iam = fresh_server.client()
    iam.create_user(UserName="secretive")
    seeds = []
    for i in range(3):
        serial, seed, _ = new_device(iam, f"secret{i}")
        seeds.append(seed)
        if i == 0:
            enable(iam, "secretive", serial, seed)
    fresh_server.stop()
    stored = b"".join(
        path.read_bytes() for path in fresh_server.data_dir.rglob("*") if path.is_file()
    )
    log = fresh_server.log_text().encode()
    for seed in seeds:
        raw = totp.seed_of_base32(seed)
        forms = [
            seed.encode(),
            seed.lower().encode(),
            raw,
            raw.hex().encode(),
            base64.b64encode(raw),
            base64.b64encode(seed.encode()),
        ]
        for form in forms:
            assert form not in stored
            assert form not in log

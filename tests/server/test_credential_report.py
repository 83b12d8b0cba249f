"""The credential report through boto3 against a real server, and its life cycle."""

from __future__ import annotations

import csv
import io
import re
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.server.iam_helpers import error_of
from tests.server.test_passwords import sign_in
from tests.support.local_services import MovableClock, local_services
from tests.support.servers import RunningServer
from tests.support.totp import code_at

from iamd.errors import ReportExpired, ReportInProgress
from iamd.services.container import Services
from iamd.services.credential_report import COLUMNS

ACCOUNT = "123456789012"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ5yZ7cY0kH6Kc2B3oGv3yQm0Gf0m2sTqAqkqkqkqkqk"


def generate_until_complete(iam: Any) -> None:
    for _ in range(100):
        if iam.generate_credential_report()["State"] == "COMPLETE":
            return
        time.sleep(0.05)
    raise AssertionError("the report never completed")


def report_rows(iam: Any) -> list[dict[str, str]]:
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    text = report["Content"].decode()
    assert text.endswith("\n")
    assert "\r" not in text
    header = text.split("\n", 1)[0]
    assert tuple(header.split(",")) == COLUMNS
    return list(csv.DictReader(io.StringIO(text)))


def test_report_columns_for_users_in_every_state(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    assert error_of(iam.get_credential_report)[:2] == (410, "ReportNotPresent")

    iam.create_user(UserName="no-credentials")
    iam.create_user(UserName="used-key", Path="/team/")
    used = iam.create_access_key(UserName="used-key")["AccessKey"]
    iam.attach_user_policy(
        UserName="used-key", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )
    fresh_server.client(
        "iam", used["AccessKeyId"], used["SecretAccessKey"], region="eu-west-1"
    ).list_users()
    iam.create_user(UserName="unused-key")
    unused = iam.create_access_key(UserName="unused-key")["AccessKey"]
    iam.create_user(UserName="two-keys")
    first = iam.create_access_key(UserName="two-keys")["AccessKey"]
    iam.create_access_key(UserName="two-keys")
    iam.update_access_key(UserName="two-keys", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    iam.create_user(UserName="ssh-only")
    iam.upload_ssh_public_key(UserName="ssh-only", SSHPublicKeyBody=SSH_KEY)

    started = iam.generate_credential_report()
    assert started == {
        "State": "STARTED",
        "Description": "No report exists. Starting a new report generation task",
        "ResponseMetadata": started["ResponseMetadata"],
    }
    generate_until_complete(iam)
    rows = report_rows(iam)

    assert rows[0]["user"] == "<root_account>"
    assert rows[0]["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert rows[0]["password_enabled"] == "not_supported"
    by_name = {row["user"]: row for row in rows[1:]}
    assert [row["user"] for row in rows[1:]] == sorted(by_name, key=str.lower)
    assert set(by_name) >= {"no-credentials", "used-key", "unused-key", "two-keys", "ssh-only"}

    blank = by_name["no-credentials"]
    assert blank["arn"] == f"arn:aws:iam::{ACCOUNT}:user/no-credentials"
    assert TIMESTAMP.match(blank["user_creation_time"])
    assert blank["password_enabled"] == "false"
    assert blank["password_last_used"] == blank["password_last_changed"] == "N/A"
    assert blank["mfa_active"] == "false"
    for n in (1, 2):
        assert blank[f"access_key_{n}_active"] == "false"
        assert blank[f"access_key_{n}_last_rotated"] == "N/A"
        assert blank[f"access_key_{n}_last_used_date"] == "N/A"
    assert blank["cert_1_active"] == blank["cert_2_active"] == "false"
    assert blank["cert_1_last_rotated"] == blank["cert_2_last_rotated"] == "N/A"
    assert by_name["ssh-only"] == {**blank, **_identity(by_name["ssh-only"])}

    row = by_name["used-key"]
    assert row["arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/used-key"
    assert row["access_key_1_active"] == "true"
    assert TIMESTAMP.match(row["access_key_1_last_rotated"])
    assert TIMESTAMP.match(row["access_key_1_last_used_date"])
    assert row["access_key_1_last_used_region"] == "eu-west-1"
    assert row["access_key_1_last_used_service"] == "iam"
    assert row["access_key_2_active"] == "false"
    last_used = iam.get_access_key_last_used(AccessKeyId=used["AccessKeyId"])["AccessKeyLastUsed"]
    assert row["access_key_1_last_used_date"] == last_used["LastUsedDate"].isoformat(
        timespec="seconds"
    )

    row = by_name["unused-key"]
    assert row["access_key_1_active"] == "true"
    assert TIMESTAMP.match(row["access_key_1_last_rotated"])
    assert row["access_key_1_last_used_date"] == "N/A"
    assert row["access_key_1_last_used_region"] == "N/A"
    assert row["access_key_1_last_used_service"] == "N/A"
    created = iam.list_access_keys(UserName="unused-key")["AccessKeyMetadata"][0]["CreateDate"]
    assert row["access_key_1_last_rotated"] == created.isoformat(timespec="seconds")
    assert unused["AccessKeyId"] not in "".join(",".join(r.values()) for r in rows)

    row = by_name["two-keys"]
    assert row["access_key_1_active"] == "false"  # the older key, set Inactive
    assert row["access_key_2_active"] == "true"
    assert TIMESTAMP.match(row["access_key_2_last_rotated"])


def test_password_columns(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    iam.update_account_password_policy(MinimumPasswordLength=12, MaxPasswordAge=30)
    password = "Correct-Horse-Battery-9"
    for name in ("signed-in", "never-signed-in"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password=password)
    status, outcome, _ = sign_in(fresh_server, "signed-in", password)
    assert status == 200, outcome
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="signed-in")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = time.time()
    iam.enable_mfa_device(
        UserName="signed-in",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=code_at(seed, now - 30),
        AuthenticationCode2=code_at(seed, now),
    )

    generate_until_complete(iam)
    by_name = {row["user"]: row for row in report_rows(iam)}

    signed_in = by_name["signed-in"]
    assert signed_in["password_enabled"] == "true"
    assert TIMESTAMP.match(signed_in["password_last_used"])
    last_used = iam.get_user(UserName="signed-in")["User"]["PasswordLastUsed"]
    assert signed_in["password_last_used"] == last_used.isoformat(timespec="seconds")
    changed = datetime.fromisoformat(signed_in["password_last_changed"])
    created = iam.get_login_profile(UserName="signed-in")["LoginProfile"]["CreateDate"]
    assert abs(changed - created) < timedelta(seconds=1)
    assert datetime.fromisoformat(signed_in["password_next_rotation"]) == changed + timedelta(
        days=30
    )
    assert signed_in["mfa_active"] == "true"
    assert by_name["never-signed-in"]["password_last_used"] == "no_information"
    assert by_name["never-signed-in"]["mfa_active"] == "false"


def _identity(row: dict[str, str]) -> dict[str, str]:
    return {key: row[key] for key in ("user", "arn", "user_creation_time")}


def test_a_recent_report_is_reused(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    generate_until_complete(iam)
    before = report_rows(iam)
    iam.create_user(UserName="later")

    assert iam.generate_credential_report()["State"] == "COMPLETE"
    assert report_rows(iam) == before


def test_a_comma_in_a_user_name_is_quoted(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    iam.create_user(UserName="smith,john")
    generate_until_complete(iam)

    names = [row["user"] for row in report_rows(iam)]
    assert "smith,john" in names


@pytest.fixture
def services(tmp_path: Path) -> Iterator[tuple[Services, MovableClock]]:
    clock = MovableClock()
    with local_services(tmp_path, clock) as built:
        yield built, clock


def _wait_complete(services: Services) -> None:
    for _ in range(200):
        try:
            services.credential_report.get()
            return
        except ReportInProgress:
            time.sleep(0.01)
    raise AssertionError("never completed")


def test_building_shortens_gil_slices_only_while_it_runs(
    services: tuple[Services, MovableClock],
) -> None:
    built, _ = services
    default = sys.getswitchinterval()
    seen: list[float] = []
    original = built.credential_report.build

    def observed_build() -> tuple[bytes, datetime]:
        seen.append(sys.getswitchinterval())
        return original()

    built.credential_report.build = observed_build  # type: ignore[method-assign]
    assert built.credential_report.generate().state == "STARTED"
    _wait_complete(built)

    assert seen == [0.0005]
    assert sys.getswitchinterval() == default


def test_report_expires_after_four_hours_and_is_then_regenerated(
    services: tuple[Services, MovableClock],
) -> None:
    built, clock = services
    assert built.credential_report.generate().state == "STARTED"
    _wait_complete(built)
    clock.when += timedelta(hours=3, minutes=59)
    assert built.credential_report.generate().state == "COMPLETE"
    built.credential_report.get()

    clock.when += timedelta(minutes=1)
    with pytest.raises(ReportExpired):
        built.credential_report.get()
    assert built.credential_report.generate().state == "STARTED"
    _wait_complete(built)


def test_an_abandoned_generation_is_started_again(services: tuple[Services, MovableClock]) -> None:
    built, clock = services
    with built.tx.write() as repos:
        repos.credential_reports.start(clock.now())  # a node died while building

    assert built.credential_report.generate().state == "INPROGRESS"
    with pytest.raises(ReportInProgress):
        built.credential_report.get()
    clock.when += timedelta(minutes=5)
    assert built.credential_report.generate().state == "STARTED"
    _wait_complete(built)

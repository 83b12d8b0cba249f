"""The audit's checks on credential-report rows and policy documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from iamd.services.credential_report import COLUMNS
from iamd.tools.audit.checks import (
    AdvisedEntity,
    PolicyDocument,
    policy_findings,
    report_findings,
    unused_keys,
    unused_service_findings,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LIMIT = timedelta(days=90)


def ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat(timespec="seconds")


def row(user: str, **values: str) -> dict[str, str]:
    base = dict.fromkeys(COLUMNS, "N/A")
    base.update(
        user=user,
        password_enabled="false",
        mfa_active="false",
        access_key_1_active="false",
        access_key_2_active="false",
    )
    base.update(values)
    return base


def key(
    slot: int, *, active: bool = True, created: int = 1, used: int | None = 0
) -> dict[str, str]:
    prefix = f"access_key_{slot}_"
    return {
        prefix + "active": "true" if active else "false",
        prefix + "last_rotated": ago(created),
        prefix + "last_used_date": "N/A" if used is None else ago(used),
    }


def checks(*rows: dict[str, str]) -> list[tuple[str, str, int | None]]:
    return [(f.check, f.subject, f.access_key_slot) for f in report_findings(rows, NOW, LIMIT)]


def test_a_fresh_account_has_no_findings() -> None:
    root = row("<root_account>", password_enabled="not_supported")
    admin = row("admin", **key(1, created=0, used=0))
    assert checks(root, admin) == []


def test_a_key_created_100_days_ago_is_old() -> None:
    assert checks(row("old", **key(1, created=100, used=1))) == [("old-access-key", "old", 1)]


def test_a_key_unused_for_95_days_is_unused() -> None:
    assert checks(row("idle", **key(1, created=30, used=95))) == [("unused-access-key", "idle", 1)]


def test_a_key_never_used_is_unused_once_older_than_the_limit() -> None:
    assert checks(row("new", **key(1, created=10, used=None))) == []
    findings = list(report_findings([row("never", **key(1, created=91, used=None))], NOW, LIMIT))
    assert [(f.check, f.detail) for f in findings] == [
        ("old-access-key", "created 91 days ago (limit 90 days)"),
        ("unused-access-key", "never used in 91 days"),
    ]


def test_inactive_keys_two_active_keys_and_passwords_without_mfa() -> None:
    assert checks(row("lying", **key(1, active=False, created=200, used=None))) == [
        ("inactive-access-key", "lying", 1)
    ]
    assert checks(row("both", **key(1), **key(2))) == [("two-active-access-keys", "both", None)]
    assert checks(row("pw", password_enabled="true")) == [("password-without-mfa", "pw", None)]
    assert checks(row("pw-mfa", password_enabled="true", mfa_active="true")) == []


def test_deactivation_uses_its_own_limit() -> None:
    rows = [row("a", **key(1, created=40, used=35)), row("b", **key(1, created=40, used=5))]
    assert [f.subject for f in unused_keys(rows, NOW, timedelta(days=30))] == ["a"]
    assert list(unused_keys(rows, NOW, LIMIT)) == []


def statement(action: str, resource: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


def test_policies_granting_key_management_on_every_user() -> None:
    policies = [
        PolicyDocument("keys-anywhere", statement("iam:CreateAccessKey", "*")),
        PolicyDocument(
            "ssh-anywhere", statement("iam:UploadSSHPublicKey", "arn:aws:iam::*:user/*")
        ),
        PolicyDocument("admin", statement("*", "*")),
        PolicyDocument(
            "own-keys", statement("iam:*AccessKey*", "arn:aws:iam::*:user/${aws:username}")
        ),
        PolicyDocument("read", statement("iam:ListUsers", "*")),
    ]
    assert [f.subject for f in policy_findings(policies)] == [
        "keys-anywhere",
        "ssh-anywhere",
        "admin",
    ]


def test_unused_services_after_the_limit_and_none_for_a_new_entity() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    services: list[dict[str, Any]] = [
        {"ServiceNamespace": "iam", "LastAuthenticated": now - timedelta(days=3)},
        {"ServiceNamespace": "sts", "LastAuthenticated": now - timedelta(days=91)},
        {"ServiceNamespace": "organizations"},
    ]
    old = AdvisedEntity("user old", now - timedelta(days=200), now, services)
    new = AdvisedEntity("role new", now - timedelta(days=10), now, services[2:])

    found = [(f.subject, f.detail) for f in unused_service_findings([old, new], timedelta(90))]

    assert found == [
        ("user old", "sts: last used 91 days ago (limit 90 days)"),
        ("user old", "organizations: granted, never used in 200 days"),
    ]

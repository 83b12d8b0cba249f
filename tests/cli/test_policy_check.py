"""`iamd policy check`: the real command on policy files, its output and exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamd", "policy", "check", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


SELF_SERVICE = _policy(
    {
        "Sid": "OwnKeys",
        "Effect": "Allow",
        "Action": ["iam:CreateAccessKey", "iam:ListAccessKeys"],
        "Resource": "arn:aws:iam::*:user/${aws:username}",
    },
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
)


def test_a_clean_policy_prints_only_an_ok_summary(tmp_path: Path) -> None:
    result = _run(_write(tmp_path, "ok.json", SELF_SERVICE))
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "OK: 1 file checked as identity policies, 0 errors, 0 warnings\n"


def test_a_failed_check_says_so_with_the_counts(tmp_path: Path) -> None:
    warned = _write(
        tmp_path, "warned.json", _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    )
    result = _run(
        "--strict", "--kind", "boundary", warned, _write(tmp_path, "ok.json", SELF_SERVICE)
    )
    assert result.returncode == 1
    assert result.stderr == "FAILED: 2 files checked as boundary policies, 0 errors, 1 warning\n"


def test_errors_with_file_line_and_column(tmp_path: Path) -> None:
    lines = [
        "{",
        '  "Version": "2012-10-17",',
        '  "Statement": [',
        '    {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"},',
        '    {"Effect": "Allow", "Action": "GetObject", "Resource": "*"},',
        '    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}',
        "  ]",
        "}",
    ]
    path = _write(tmp_path, "bad.json", "\n".join(lines) + "\n")

    def at(line: int, value: str) -> str:
        """FILE:LINE:COL of the first character of `value` on `line` (1-based)."""
        return f"{path}:{line}:{lines[line - 1].index(value) + 1}"

    result = _run(path)
    assert result.returncode == 1
    legacy, vendor, principal = at(4, '"allow"'), at(5, '"GetObject"'), at(6, '"*"')
    assert result.stdout.splitlines() == [
        f"{legacy}: error: The policy failed legacy parsing",
        f"{vendor}: error: Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, "
        "ec2, etc.",
        f"{principal}: error: Policy document should not specify a principal.",
    ]


def test_kind_selects_the_grammar(tmp_path: Path) -> None:
    trust = _policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    path = _write(tmp_path, "trust.json", trust)
    assert _run("--kind", "trust", path).returncode == 0
    as_identity = _run(path)
    assert as_identity.returncode == 1
    assert "error: Policy document should not specify a principal." in as_identity.stdout
    assert "error: Policy statement must contain resources." in as_identity.stdout
    bad_kind = _run("--kind", "session-ish", path)
    assert bad_kind.returncode == 2
    assert "session-ish" in bad_kind.stderr


def test_not_json_and_unreadable_files(tmp_path: Path) -> None:
    broken = _write(tmp_path, "broken.json", '{"Version": "2012-10-17",\n  "Statement": [')
    missing = tmp_path / "missing.json"
    result = _run(broken, missing)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{broken}:2:")
    assert lines[0].endswith(": error: Syntax errors in policy.")
    assert lines[1].startswith(f"{missing}: error: cannot read the file:")


def test_size_limit_is_optional(tmp_path: Path) -> None:
    big = _policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "b" * 7000}
    )
    path = _write(tmp_path, "big.json", big)
    assert _run(path).returncode == 0
    result = _run("--max-size", "6144", path)
    assert result.returncode == 1
    assert f"{path}:1:1: error: Cannot exceed quota for PolicySize: 6144" in result.stdout


WARNINGS = {
    "create-keys": (
        {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"},
        "Allows iam:CreateAccessKey on every user: its holder can create access keys",
    ),
    "iam-star-on-users": (
        {"Effect": "Allow", "Action": "iam:Create*", "Resource": "arn:aws:iam::*:user/*"},
        "Allows iam:Create* on every user: its holder can create access keys",
    ),
    "ssh-keys": (
        {"Effect": "Allow", "Action": "iam:UploadSSHPublicKey", "Resource": "*"},
        "Allows iam:UploadSSHPublicKey on every user: its holder can create SSH public keys",
    ),
    "not-action": (
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        "Allow with NotAction allows every action not listed",
    ),
    "not-resource": (
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"},
        "Allow with NotResource allows every resource not listed",
    ),
    "pass-role": (
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
        "Allows iam:PassRole on every role: its holder can pass any role",
    ),
    "admin": (
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        "Allows every action on every resource: this is administrator access.",
    ),
}


def test_security_warnings(tmp_path: Path) -> None:
    paths = {
        case: _write(tmp_path, f"{case}.json", _policy(st)) for case, (st, _) in WARNINGS.items()
    }
    result = _run(*paths.values())
    # Warnings alone do not fail the check.
    assert result.returncode == 0, result.stdout
    out = result.stdout.splitlines()
    assert all(": warning: " in line for line in out), out
    for case, (_statement, message) in WARNINGS.items():
        mine = [line for line in out if line.startswith(f"{paths[case]}:")]
        assert any(f": warning: {message}" in line for line in mine), (case, mine)
        for line in mine:
            # Each warning points into the statement (line 4 onwards of the indented file).
            _file, line_number, column, _rest = line.split(":", 3)
            assert int(line_number) >= 4
            assert int(column) >= 1
    assert _run("--strict", paths["admin"]).returncode == 1


def test_no_warnings_for_deny_scoped_or_conditioned_statements(tmp_path: Path) -> None:
    quiet = _policy(
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        },
        {
            "Effect": "Allow",
            "Action": "iam:CreateAccessKey",
            "Resource": "arn:aws:iam::123456789012:user/build-bot",
        },
    )
    result = _run(
        "--strict", _write(tmp_path, "quiet.json", quiet), _write(tmp_path, "ok.json", SELF_SERVICE)
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_several_files_errors_and_warnings_together(tmp_path: Path) -> None:
    warned = _write(tmp_path, "warned.json", _policy(WARNINGS["admin"][0]))
    wrong = _write(tmp_path, "wrong.json", _policy({"Effect": "Allow", "Action": []}))
    result = _run(warned, wrong)
    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in out] == [str(warned), str(wrong), str(wrong)]
    assert ": warning: " in out[0]
    assert {line.split(": error: ")[1] for line in out[1:]} == {
        "Policy statement must contain actions.",
        "Policy statement must contain resources.",
    }


def test_service_control_policies_are_checked_with_their_own_grammar_and_limit(
    tmp_path: Path,
) -> None:
    with_principal = _policy(
        {"Effect": "Deny", "Principal": "*", "Action": "iam:CreateUser", "Resource": "*"}
    )
    result = _run("--kind", "scp", _write(tmp_path, "scp.json", with_principal))
    assert result.returncode == 1
    assert "error: Policy document should not specify a principal." in result.stdout
    # White space counts for SCPs: this one is over 5,120 characters only because of it.
    padded = json.dumps(_policy({"Effect": "Allow", "Action": "*", "Resource": "*"})) + " " * 5100
    result = _run("--kind", "scp", _write(tmp_path, "big.json", padded))
    assert result.returncode == 1
    assert "error: Cannot exceed quota for PolicySize: 5120" in result.stdout
    assert _run("--kind", "identity", tmp_path / "big.json").returncode == 0

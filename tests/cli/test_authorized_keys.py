"""`iamd authorized-keys`: the real command against a real server, and against liars.

Keys are made by the real `ssh-keygen`, and fingerprints compared with its
`-l -E sha256` (the form sshd passes as `%f`). The reader credential holds only the
minimal policy the docs give (iam:ListSSHPublicKeys + iam:GetSSHPublicKey). Failures
must be closed: exit 1, nothing on stdout, one line on stderr.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.servers import RunningServer, free_port

from iamd.cli.authorized_keys import authorized_key_line, iam_user_name, sha256_fingerprint

IAMD = Path(sys.executable).with_name("iamd")
READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:ListSSHPublicKeys", "iam:GetSSHPublicKey"],
            "Resource": "arn:aws:iam::123456789012:user/*",
        }
    ],
}


@dataclass(frozen=True)
class Key:
    """A key pair from ssh-keygen: its authorized_keys form and SHA256 fingerprint."""

    private: Path

    @property
    def line(self) -> str:
        return " ".join(self.private.with_suffix(".pub").read_text().split()[:2])

    @property
    def fingerprint(self) -> str:
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", str(self.private.with_suffix(".pub"))],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        return out.split()[1]


@pytest.fixture
def make_key(tmp_path: Path) -> Callable[[str], Key]:
    counter = iter(range(1000))

    def make(kind: str = "ed25519") -> Key:
        path = tmp_path / f"key{next(counter)}"
        extra = ["-b", "2048"] if kind == "rsa" else []
        subprocess.run(
            ["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", "me@host", "-f", str(path)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return Key(path)

    return make


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    # No shared files of the machine's, and no instance-metadata lookups that would wait.
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(extra)
    return env


def run_command(
    env: dict[str, str], *args: str, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IAMD), "authorized-keys", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_failed_closed(done: subprocess.CompletedProcess[str], reason: str) -> None:
    assert done.returncode == 1, done
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("iamd authorized-keys: no keys given, failing closed: ")
    assert reason in lines[0]


@dataclass
class Reader:
    """The dedicated read-only credential, as environment variables for the command."""

    env: dict[str, str]
    key_id: str
    secret: str


def _reader(server: RunningServer, iam: Any, name: str, tmp_path: Path, policy: bool) -> Reader:
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(
            UserName=name, PolicyName="ReadSSHKeys", PolicyDocument=json.dumps(READER_POLICY)
        )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    env = _clean_env(
        tmp_path,
        IAMD_ENDPOINT_URL=server.endpoint,
        AWS_ACCESS_KEY_ID=key["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"],
    )
    return Reader(env, key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture
def reader(server: RunningServer, iam: Any, unique: str, tmp_path: Path) -> Reader:
    return _reader(server, iam, f"{unique}-reader", tmp_path, policy=True)


def _upload(iam: Any, user: str, key: Key) -> str:
    uploaded = iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=key.line + " me@host")
    return str(uploaded["SSHPublicKey"]["SSHPublicKeyId"])


def test_prints_active_keys_and_omits_inactive(
    iam: Any, unique: str, reader: Reader, make_key: Callable[[str], Key]
) -> None:
    user = f"{unique}-alice"
    iam.create_user(UserName=user)
    ed25519, rsa, retired = make_key("ed25519"), make_key("rsa"), make_key("ed25519")
    for key in (ed25519, rsa):
        _upload(iam, user, key)
    retired_id = _upload(iam, user, retired)
    iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=retired_id, Status="Inactive")

    done = run_command(reader.env, user)

    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == sorted([ed25519.line, rsa.line])
    assert done.stdout.endswith("\n")
    assert "me@host" not in done.stdout  # comments are not passed on to sshd


def test_fingerprint_selects_the_key_sshd_offers(
    iam: Any, unique: str, reader: Reader, make_key: Callable[[str], Key]
) -> None:
    user = f"{unique}-bob"
    iam.create_user(UserName=user)
    first, second, inactive = make_key("ed25519"), make_key("rsa"), make_key("ed25519")
    _upload(iam, user, first)
    _upload(iam, user, second)
    inactive_id = _upload(iam, user, inactive)
    iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=inactive_id, Status="Inactive")

    for key in (first, second):
        assert sha256_fingerprint(key.line) == key.fingerprint
        done = run_command(reader.env, user, key.fingerprint)
        assert (done.returncode, done.stdout) == (0, key.line + "\n"), done.stderr
    for fingerprint in (inactive.fingerprint, make_key("ed25519").fingerprint, "MD5:00:11"):
        done = run_command(reader.env, user, fingerprint)
        assert (done.returncode, done.stdout) == (0, ""), done.stderr


def test_local_names_map_to_iam_names(
    iam: Any, unique: str, reader: Reader, make_key: Callable[[str], Key]
) -> None:
    user = f"{unique}+ops=a,b@example.com"
    local = f"{unique}.plus.ops.equal.a.comma.b.at.example.com"
    assert iam_user_name(local) == user
    iam.create_user(UserName=user)
    key = make_key("ed25519")
    _upload(iam, user, key)

    done = run_command(reader.env, local)

    assert (done.returncode, done.stdout) == (0, key.line + "\n"), done.stderr


@pytest.mark.parametrize("local", ["root/../x", "héloïse", "a" * 65, "", "with space"])
def test_names_that_cannot_be_iam_users_get_nothing(reader: Reader, local: str) -> None:
    assert iam_user_name(local) is None
    done = run_command(reader.env, local)
    assert (done.returncode, done.stdout) == (0, "")
    assert "is not a valid IAM user name" in done.stderr


def test_unknown_user_gets_nothing_and_exit_zero(reader: Reader, unique: str) -> None:
    # sshd's "no keys for this user": an answer, not a failure worth an error in its log.
    done = run_command(reader.env, f"{unique}-nobody")
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.count("\n") == 1
    assert "no IAM user" in done.stderr


def test_a_profile_in_a_shared_credentials_file_works(
    server: RunningServer,
    iam: Any,
    unique: str,
    reader: Reader,
    tmp_path: Path,
    make_key: Callable[[str], Key],
) -> None:
    user = f"{unique}-carol"
    iam.create_user(UserName=user)
    key = make_key("ed25519")
    _upload(iam, user, key)
    credentials = tmp_path / "ssh-credentials"
    credentials.write_text(
        f"[iamd-ssh]\naws_access_key_id = {reader.key_id}\n"
        f"aws_secret_access_key = {reader.secret}\n"
    )
    credentials.chmod(0o600)
    env = _clean_env(tmp_path, AWS_SHARED_CREDENTIALS_FILE=str(credentials))

    done = run_command(env, "--endpoint-url", server.endpoint, "--profile", "iamd-ssh", user)
    assert (done.returncode, done.stdout) == (0, key.line + "\n"), done.stderr

    missing = run_command(env, "--endpoint-url", server.endpoint, "--profile", "other", user)
    assert_failed_closed(missing, "no usable AWS configuration")


def test_a_credential_without_the_policy_fails_closed(
    server: RunningServer,
    iam: Any,
    unique: str,
    tmp_path: Path,
    make_key: Callable[[str], Key],
) -> None:
    user = f"{unique}-dave"
    iam.create_user(UserName=user)
    _upload(iam, user, make_key("ed25519"))
    powerless = _reader(server, iam, f"{unique}-powerless", tmp_path, policy=False)

    done = run_command(powerless.env, user)

    assert_failed_closed(done, "ListSSHPublicKeys refused: HTTP 403 AccessDenied")
    assert powerless.secret not in done.stderr


def test_a_wrong_secret_fails_closed(reader: Reader, unique: str) -> None:
    env = {**reader.env, "AWS_SECRET_ACCESS_KEY": "not-the-secret-" + "x" * 25}
    done = run_command(env, f"{unique}-anyone")
    assert_failed_closed(done, "SignatureDoesNotMatch")
    assert "not-the-secret" not in done.stderr


def test_no_credentials_fails_closed(tmp_path: Path, server: RunningServer) -> None:
    done = run_command(_clean_env(tmp_path, IAMD_ENDPOINT_URL=server.endpoint), "alice")
    assert_failed_closed(done, "no AWS credentials found")


def test_server_down_fails_closed_quickly(reader: Reader) -> None:
    env = {**reader.env, "IAMD_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    started = time.monotonic()
    done = run_command(env, "alice")
    assert time.monotonic() - started < 5
    assert_failed_closed(done, "cannot reach http://127.0.0.1:")


def test_a_server_that_never_answers_fails_closed_within_the_timeout(reader: Reader) -> None:
    # Connections are accepted by the kernel (the backlog) and never answered.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {**reader.env, "IAMD_ENDPOINT_URL": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        started = time.monotonic()
        done = run_command(env, "--timeout", "1", "alice")
        elapsed = time.monotonic() - started
    assert_failed_closed(done, "cannot reach")
    assert elapsed < 3


# A fake IAM for the answers a real one never gives: (status, body) per request.
Responder = Callable[[dict[str, str]], tuple[int, str]]


@pytest.fixture
def fake_iam() -> Iterator[Callable[[Responder], str]]:
    servers: list[http.server.HTTPServer] = []

    def start(respond: Responder) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import urllib.parse

                length = int(self.headers["Content-Length"])
                params = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status, body = respond(params)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(httpd)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


NS = 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"'


def _listing(user: str, ids: list[str], marker: str | None) -> str:
    members = "".join(
        f"<member><UserName>{user}</UserName><SSHPublicKeyId>{key_id}</SSHPublicKeyId>"
        "<Status>Active</Status><UploadDate>2026-01-01T00:00:00Z</UploadDate></member>"
        for key_id in ids
    )
    more = f"<IsTruncated>true</IsTruncated><Marker>{marker}</Marker>" if marker else ""
    return (
        f"<ListSSHPublicKeysResponse {NS}><ListSSHPublicKeysResult>"
        f"<SSHPublicKeys>{members}</SSHPublicKeys>{more}"
        "</ListSSHPublicKeysResult></ListSSHPublicKeysResponse>"
    )


def _key(user: str, key_id: str, body: str) -> str:
    return (
        f"<GetSSHPublicKeyResponse {NS}><GetSSHPublicKeyResult><SSHPublicKey>"
        f"<UserName>{user}</UserName><SSHPublicKeyId>{key_id}</SSHPublicKeyId>"
        f"<Fingerprint>00</Fingerprint><SSHPublicKeyBody>{body}</SSHPublicKeyBody>"
        "<Status>Active</Status><UploadDate>2026-01-01T00:00:00Z</UploadDate>"
        "</SSHPublicKey></GetSSHPublicKeyResult></GetSSHPublicKeyResponse>"
    )


def test_markers_are_followed(
    fake_iam: Callable[[Responder], str], tmp_path: Path, make_key: Callable[[str], Key]
) -> None:
    keys = {"APKAFIRST": make_key("ed25519"), "APKASECOND": make_key("ed25519")}

    def respond(params: dict[str, str]) -> tuple[int, str]:
        if params["Action"] == "ListSSHPublicKeys":
            if params.get("Marker") == "page2":
                return 200, _listing("erin", ["APKASECOND"], None)
            return 200, _listing("erin", ["APKAFIRST"], "page2")
        return 200, _key("erin", params["SSHPublicKeyId"], keys[params["SSHPublicKeyId"]].line)

    env = _clean_env(tmp_path, AWS_ACCESS_KEY_ID="AKIAFAKE", AWS_SECRET_ACCESS_KEY="fake-secret")
    done = run_command(env, "--endpoint-url", fake_iam(respond), "erin")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [keys["APKAFIRST"].line, keys["APKASECOND"].line]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((200, "this is not xml"), "not XML"),
        ((200, "<Other/>"), "not an IAM answer"),
        ((200, 'KEY:command="/bin/sh" {line}'), "not an SSH public key"),
        ((200, "KEY:{line}\nssh-ed25519 AAAA"), "more than one line"),
        ((200, "KEY:ssh-ed25519 AAAA!!!!"), "base64"),
        ((200, "KEY:ssh-rsa {blob}"), "type does not match"),
        ((200, "USER:mallory"), "another user's keys"),
        (
            (500, "<ErrorResponse><Error><Code>ServiceFailure</Code></Error></ErrorResponse>"),
            "HTTP 500 ServiceFailure",
        ),
    ],
)
def test_malformed_answers_fail_closed(
    fake_iam: Callable[[Responder], str],
    tmp_path: Path,
    make_key: Callable[[str], Key],
    answer: tuple[int, str],
    reason: str,
) -> None:
    key = make_key("ed25519")
    status, template = answer
    template = template.format(line=key.line, blob=key.line.split()[1])

    def respond(params: dict[str, str]) -> tuple[int, str]:
        if template.startswith("KEY:"):
            if params["Action"] == "ListSSHPublicKeys":
                return 200, _listing("erin", ["APKAONE"], None)
            return 200, _key("erin", "APKAONE", template.removeprefix("KEY:"))
        if template.startswith("USER:"):
            return 200, _listing(template.removeprefix("USER:"), ["APKAONE"], None)
        return status, template

    env = _clean_env(tmp_path, AWS_ACCESS_KEY_ID="AKIAFAKE", AWS_SECRET_ACCESS_KEY="fake-secret")
    done = run_command(env, "--endpoint-url", fake_iam(respond), "erin")
    assert_failed_closed(done, reason)


def test_authorized_key_line_rebuilds_only_checked_keys(make_key: Callable[[str], Key]) -> None:
    key = make_key("ed25519")
    assert authorized_key_line(key.line + " a comment") == key.line


def test_the_trusted_account_is_checked_before_any_key_is_given(
    iam: Any, unique: str, reader: Reader, make_key: Callable[[str], Key]
) -> None:
    user = f"{unique}-acct"
    iam.create_user(UserName=user)
    key = make_key("ed25519")
    _upload(iam, user, key)

    # The reader's credential is of the server's account (GetCallerIdentity says so).
    trusted = run_command(reader.env, "--account", "123456789012", user)
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.splitlines() == [key.line]

    other = run_command(reader.env, "--account", "210987654321", user)
    assert_failed_closed(
        other, "the credential is of account 123456789012, not of the trusted account"
    )

    malformed = run_command(reader.env, "--account", "12345", user)
    assert malformed.returncode == 2
    assert malformed.stdout == ""

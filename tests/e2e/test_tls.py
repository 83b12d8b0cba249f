"""HTTPS on the API port, with the self-signed certificate or the operator's own.

Real clients only: boto3 with ``verify=``, the AWS CLI with ``ca_bundle`` in a profile
written by ``iamd profile --ca-bundle`` and with ``AWS_CA_BUNDLE``, urllib for headers.
``aws:SecureTransport`` is checked through a policy that denies plain HTTP.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from tests.support.awscli import aws_executable
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, start_server
from tests.support.tls import openssl_certificate

pytestmark = pytest.mark.slow

DENY_PLAIN_HTTP = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env.update({"HOME": str(home), "AWS_PAGER": ""})
    return env


def _fingerprint(cert: Path) -> str:
    digest = x509.load_pem_x509_certificate(cert.read_bytes()).fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


def _client(endpoint: str, key_id: str, secret: str, verify: Any) -> Any:
    return boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        verify=verify,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def test_self_signed_certificate_with_boto3_the_aws_cli_and_hsts(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", tls=True)
    try:
        cert = server.data_dir / "tls-self-signed.crt"
        key = server.data_dir / "tls-self-signed.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(cert.stat().st_mode) == 0o600
        log = server.log_text()
        assert str(cert.resolve()) in log
        assert _fingerprint(cert) in log
        names = x509.load_pem_x509_certificate(cert.read_bytes()).extensions
        alternative = names.get_extension_for_class(x509.SubjectAlternativeName).value
        assert {str(ip) for ip in alternative.get_values_for_type(x509.IPAddress)} >= {
            "127.0.0.1",
            "::1",
        }
        assert "localhost" in alternative.get_values_for_type(x509.DNSName)

        # boto3 with verify= the certificate.
        iam = _client(server.endpoint, ADMIN_KEY_ID, ADMIN_SECRET, str(cert))
        assert iam.get_user()["User"]["UserName"] == "admin"
        # Without it the certificate is (rightly) not trusted.
        with pytest.raises(SSLError):
            _client(server.endpoint, ADMIN_KEY_ID, ADMIN_SECRET, None).get_user()

        # HSTS on every answer over TLS.
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(
            f"https://localhost:{server.port}/_iamd/health", context=context, timeout=10
        ) as response:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"

        # The AWS CLI: a profile written by `iamd profile --ca-bundle`...
        home = tmp_path / "home"
        env = _clean_env(home)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "iamd",
                "profile",
                "--name",
                "tls",
                "--endpoint-url",
                server.endpoint,
                "--access-key-id",
                ADMIN_KEY_ID,
                "--secret-access-key",
                ADMIN_SECRET,
                "--ca-bundle",
                str(cert),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert f"ca_bundle = {cert.resolve()}" in (home / ".aws" / "config").read_text()
        by_profile = subprocess.run(
            [aws_executable(), "--profile", "tls", "iam", "get-user", "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert by_profile.returncode == 0, by_profile.stderr
        assert json.loads(by_profile.stdout)["User"]["UserName"] == "admin"

        # ... and AWS_CA_BUNDLE with the keys in the environment.
        bare = _clean_env(tmp_path / "other-home")
        bare.update(
            {
                "AWS_ACCESS_KEY_ID": ADMIN_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": server.endpoint,
            }
        )
        refused = subprocess.run(
            [aws_executable(), "sts", "get-caller-identity"],
            env=bare,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert refused.returncode != 0
        assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr
        trusted = subprocess.run(
            [aws_executable(), "sts", "get-caller-identity", "--output", "json"],
            env={**bare, "AWS_CA_BUNDLE": str(cert)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert trusted.returncode == 0, trusted.stderr
        assert json.loads(trusted.stdout)["Arn"].endswith(":user/admin")
    finally:
        server.stop()


def test_secure_transport_is_true_over_tls_only_and_the_certificate_survives_restarts(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    secured = start_server(data, tls=True)
    try:
        first_fingerprint = _fingerprint(secured.data_dir / "tls-self-signed.crt")
        admin = secured.client()
        admin.create_user(UserName="carol")
        admin.put_user_policy(
            UserName="carol", PolicyName="tls-only", PolicyDocument=DENY_PLAIN_HTTP
        )
        key = admin.create_access_key(UserName="carol")["AccessKey"]
        carol = secured.client(key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
        assert carol.get_user()["User"]["UserName"] == "carol"
    finally:
        assert secured.stop() == 0

    plain = start_server(data)
    try:
        assert plain.endpoint.startswith("http://")
        carol = plain.client(key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
        with pytest.raises(ClientError) as denied:
            carol.get_user()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert "explicit deny" in denied.value.response["Error"]["Message"]
        with urllib.request.urlopen(  # noqa: S310 - our http endpoint
            f"{plain.endpoint}/_iamd/health", timeout=10
        ) as response:
            assert response.headers["Strict-Transport-Security"] is None
    finally:
        assert plain.stop() == 0

    again = start_server(data, tls=True)
    try:
        assert _fingerprint(again.data_dir / "tls-self-signed.crt") == first_fingerprint
        carol = again.client(key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
        assert carol.get_user()["User"]["UserName"] == "carol"
        repository = again.client("codecommit").create_repository(repositoryName="tls-repo")
        assert repository["repositoryMetadata"]["cloneUrlHttp"].startswith(
            f"https://127.0.0.1:{again.port}/"
        )
    finally:
        again.stop()


def _openssl_certificate(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return openssl_certificate(directory / "server.crt", directory / "server.key")


def test_the_operators_certificate_from_the_environment(tmp_path: Path) -> None:
    cert, key = _openssl_certificate(tmp_path)
    server = start_server(
        tmp_path / "data",
        extra_env={"IAMD_TLS_CERT": str(cert), "IAMD_TLS_KEY": str(key)},
        ca_bundle=cert,
    )
    try:
        # The server serves the operator's certificate, and made none of its own.
        assert not (server.data_dir / "tls-self-signed.crt").exists()
        assert server.client().get_user()["User"]["UserName"] == "admin"
        assert _fingerprint(cert) in server.log_text()
    finally:
        server.stop()


def _serve_briefly(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamd", "serve", "--data-dir", str(tmp_path / "d"), *args],
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_unusable_tls_settings_are_one_line_errors(tmp_path: Path) -> None:
    cert, key = _openssl_certificate(tmp_path)
    (tmp_path / "other").mkdir()
    other_cert, _other_key = _openssl_certificate(tmp_path / "other")

    missing = _serve_briefly(
        tmp_path, "--tls-cert", str(tmp_path / "nope.crt"), "--tls-key", str(key)
    )
    assert missing.returncode != 0
    assert "nope.crt does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr

    mismatched = _serve_briefly(tmp_path, "--tls-cert", str(other_cert), "--tls-key", str(key))
    assert mismatched.returncode != 0
    assert "cannot use" in mismatched.stderr
    assert "Traceback" not in mismatched.stderr

    alone = _serve_briefly(tmp_path, "--tls-cert", str(cert))
    assert alone.returncode == 2
    assert "--tls-cert and --tls-key go together" in alone.stderr

    both = _serve_briefly(
        tmp_path, "--tls-self-signed", "--tls-cert", str(cert), "--tls-key", str(key)
    )
    assert both.returncode == 2
    assert "--tls-self-signed replaces" in both.stderr


def test_an_idle_tls_client_that_never_reads_does_not_hold_up_a_shutdown(
    tmp_path: Path,
) -> None:
    """asyncio waits 30 s for a closing TLS peer's close_notify; iamd waits one second,
    so a keep-alive connection left idle does not use up the 20 s shutdown grace."""
    server = start_server(tmp_path / "data", tls=True)
    context = ssl.create_default_context(cafile=str(server.ca_bundle))
    context.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with context.wrap_socket(raw) as idle:
        idle.sendall(b"GET /_iamd/health HTTP/1.1\r\nHost: iamd\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200 ")
        # Keep-alive, never read again: the client never answers the close_notify.
        started = time.monotonic()
        code = server.stop(timeout=15)
        stopped_after = time.monotonic() - started
    assert code == 0
    assert stopped_after < 10, f"stopping took {stopped_after:.1f} s"
    assert "timeout graceful shutdown exceeded" not in server.log_text()

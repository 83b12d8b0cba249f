"""git over SSH in /metrics: sessions by action and outcome, refused keys by reason."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from tests.support.gitssh import GitHome
from tests.support.metrics import metric_value, parse_metrics
from tests.support.servers import start_server

pytestmark = pytest.mark.slow

PULL_ONLY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Action":"codecommit:GitPull","Resource":"*"}]}'
)


def test_git_sessions_and_refused_keys_are_counted(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        iam = server.client()
        iam.create_user(UserName="hank")
        iam.put_user_policy(UserName="hank", PolicyName="pull", PolicyDocument=PULL_ONLY)
        home = GitHome(tmp_path / "hank", server)
        key_id = iam.upload_ssh_public_key(
            UserName="hank", SSHPublicKeyBody=home.public_key.read_text()
        )["SSHPublicKey"]["SSHPublicKeyId"]
        url = server.client("codecommit").create_repository(repositoryName="metered")[
            "repositoryMetadata"
        ]["cloneUrlSsh"]
        home.configure(key_id)
        assert home.git("clone", url, "work").returncode == 0
        work = home.home / "work"
        home.commit(work, "a.txt", "a\n")
        assert home.git("push", "origin", "HEAD:main", cwd=work).returncode != 0
        # A key id iamd never issued: refused at authentication.
        home.configure("APKAAAAAAAAAAAAAAAAA")
        assert home.git("ls-remote", url).returncode != 0

        with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=10) as response:  # noqa: S310
            samples = parse_metrics(response.read().decode())
    finally:
        server.stop()
    assert (
        metric_value(samples, "iamd_git_sessions_total", action="codecommit:GitPull", outcome="ok")
        == 1
    )
    assert (
        metric_value(
            samples,
            "iamd_git_sessions_total",
            action="codecommit:GitPush",
            outcome="AccessDenied",
        )
        == 1
    )
    assert (
        metric_value(
            samples, "iamd_authentication_failures_total", front="ssh", reason="UnknownKey"
        )
        >= 1
    )
    assert metric_value(samples, "iamd_git_sessions_active") == 0

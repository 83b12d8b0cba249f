"""The access advisor sees every front: a user who calls IAM and STS and pushes over
git over SSH has those three services last authenticated, and the service it may use
but never did listed without a date."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_git_over_ssh import ACCOUNT, _allow, _create_repository, _developer, _policy
from tests.support.servers import RunningServer

pytestmark = pytest.mark.slow


def test_iam_sts_and_a_git_push_are_last_accessed(
    server: RunningServer, iam: Any, tmp_path: Path, unique: str
) -> None:
    repository = f"{unique}-repo"
    dev = _developer(
        server,
        tmp_path,
        f"{unique}-dev",
        _policy(
            _allow(
                ["codecommit:GitPull", "codecommit:GitPush"],
                f"arn:aws:codecommit:us-east-1:{ACCOUNT}:{repository}",
            ),
            _allow(["iam:GetUser", "sts:GetCallerIdentity", "organizations:ListRoots"], "*"),
        ),
        key_kind="ed25519",
    )
    url = _create_repository(server, repository)["cloneUrlSsh"]
    assert dev.home.git("clone", url, "work").returncode == 0
    work = dev.home.home / "work"
    dev.home.commit(work, "README.md", "hello\n")
    pushed = dev.home.git("push", "origin", "HEAD", cwd=work)
    assert pushed.returncode == 0, pushed.stderr
    key = iam.create_access_key(UserName=dev.user_name)["AccessKey"]
    server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]).get_user()
    server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    arn = f"arn:aws:iam::{ACCOUNT}:user/{dev.user_name}"

    job_id = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    deadline = time.monotonic() + 20
    while (got := iam.get_service_last_accessed_details(JobId=job_id))["JobStatus"] != "COMPLETED":
        assert got["JobStatus"] == "IN_PROGRESS"
        assert time.monotonic() < deadline
        time.sleep(0.05)

    services = {s["ServiceNamespace"]: s for s in got["ServicesLastAccessed"]}
    assert sorted(services) == ["codecommit", "iam", "organizations", "sts"]
    for used in ("codecommit", "iam", "sts"):
        assert services[used]["LastAuthenticatedEntity"] == arn, used
        assert services[used]["LastAuthenticatedRegion"] == "us-east-1"
    assert services["codecommit"]["ServiceName"] == "AWS CodeCommit"
    assert "LastAuthenticated" not in services["organizations"]

"""CodeCommit repositories with the real AWS CLI: create, get, list, delete.

The admin runs the commands as the CodeCommit user guide writes them (only the endpoint
differs); a user without CodeCommit permissions is refused with AccessDeniedException.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.awscli import AwsCli
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer

pytestmark = pytest.mark.slow

DESCRIPTION = "My demonstration repository"


def test_repository_lifecycle_with_the_aws_cli(fresh_server: RunningServer, tmp_path: Path) -> None:
    admin = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    created = admin.run(
        "codecommit",
        "create-repository",
        "--repository-name",
        "MyDemoRepo",
        "--repository-description",
        DESCRIPTION,
    ).json()["repositoryMetadata"]
    assert created["repositoryName"] == "MyDemoRepo"
    assert created["repositoryDescription"] == DESCRIPTION
    assert created["Arn"] == "arn:aws:codecommit:us-east-1:123456789012:MyDemoRepo"
    assert created["cloneUrlSsh"] == f"ssh://127.0.0.1:{fresh_server.ssh_port}/v1/repos/MyDemoRepo"
    repository_id = created["repositoryId"]
    assert (fresh_server.data_dir / "repositories" / f"{repository_id}.git" / "HEAD").is_file()

    got = admin.run("codecommit", "get-repository", "--repository-name", "MyDemoRepo").json()
    assert got["repositoryMetadata"] == created

    listed = admin.run("codecommit", "list-repositories").json()
    assert listed["repositories"] == [
        {"repositoryName": "MyDemoRepo", "repositoryId": repository_id}
    ]

    duplicate = admin.run(
        "codecommit", "create-repository", "--repository-name", "MyDemoRepo", check=False
    )
    assert duplicate.returncode != 0
    assert "RepositoryNameExistsException" in duplicate.stderr

    deleted = admin.run("codecommit", "delete-repository", "--repository-name", "MyDemoRepo")
    assert deleted.json() == {"repositoryId": repository_id}
    assert admin.run("codecommit", "list-repositories").json()["repositories"] == []
    missing = admin.run(
        "codecommit", "get-repository", "--repository-name", "MyDemoRepo", check=False
    )
    assert missing.returncode != 0
    assert "RepositoryDoesNotExistException" in missing.stderr


def test_user_without_codecommit_permissions_is_denied(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    admin = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    admin.run("iam", "create-user", "--user-name", "jdoe")
    key = admin.run("iam", "create-access-key", "--user-name", "jdoe").json()["AccessKey"]
    jdoe = AwsCli(fresh_server, key["AccessKeyId"], key["SecretAccessKey"], tmp_path)
    denied = jdoe.run(
        "codecommit",
        "create-repository",
        "--repository-name",
        "MyDemoRepo",
        "--repository-description",
        DESCRIPTION,
        check=False,
    )
    assert denied.returncode != 0
    assert "AccessDeniedException" in denied.stderr
    assert "codecommit:CreateRepository" in denied.stderr
    assert admin.run("codecommit", "list-repositories").json()["repositories"] == []

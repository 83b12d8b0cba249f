"""CodeCommit repositories through boto3: the JSON protocol end to end.

Every repository is a row and a real bare git repository under
``<data-dir>/repositories/<repositoryId>.git``; deleting it removes both.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.server.iam_helpers import assert_recent_utc, error_of, validation_message
from tests.support.servers import RunningServer

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture
def codecommit(server: RunningServer) -> Any:
    return server.client("codecommit")


@pytest.fixture
def name(unique: str) -> str:
    return f"repo-{unique}"[:100]


def _git_dir(server: RunningServer, repository_id: str) -> Path:
    return server.data_dir / "repositories" / f"{repository_id}.git"


def test_create_returns_aws_shaped_metadata_and_a_bare_git_repository(
    server: RunningServer, codecommit: Any, name: str
) -> None:
    created = codecommit.create_repository(
        repositoryName=name,
        repositoryDescription="My demonstration repository",
        tags={"team": "blue"},
    )
    meta = created["repositoryMetadata"]
    assert uuid.UUID(meta["repositoryId"]).version == 4
    assert meta["accountId"] == ACCOUNT
    assert meta["repositoryName"] == name
    assert meta["repositoryDescription"] == "My demonstration repository"
    assert meta["Arn"] == f"arn:aws:codecommit:{REGION}:{ACCOUNT}:{name}"
    assert meta["cloneUrlSsh"] == f"ssh://127.0.0.1:{server.ssh_port}/v1/repos/{name}"
    assert meta["cloneUrlHttp"] == f"http://127.0.0.1:{server.port}/v1/repos/{name}"
    assert "defaultBranch" not in meta  # until the first push
    assert_recent_utc(meta["creationDate"])
    assert meta["lastModifiedDate"] == meta["creationDate"]
    assert created["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/x-amz-json-1.1"
    )
    git_dir = _git_dir(server, meta["repositoryId"])
    bare = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-parse", "--is-bare-repository"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert bare.stdout.strip() == "true"

    got = codecommit.get_repository(repositoryName=name)["repositoryMetadata"]
    assert got == meta


def test_names_are_unique(codecommit: Any, name: str) -> None:
    codecommit.create_repository(repositoryName=name)
    status, code, message = error_of(codecommit.create_repository, repositoryName=name)
    assert (status, code) == (400, "RepositoryNameExistsException")
    assert message == f"Repository named {name} already exists"


def test_missing_repository(codecommit: Any) -> None:
    status, code, message = error_of(codecommit.get_repository, repositoryName="no-such-repo")
    assert (status, code) == (400, "RepositoryDoesNotExistException")
    assert message == f"no-such-repo for {ACCOUNT}"
    status, code, _ = error_of(
        codecommit.update_repository_description,
        repositoryName="no-such-repo",
        repositoryDescription="x",
    )
    assert code == "RepositoryDoesNotExistException"


def test_model_validation(codecommit: Any) -> None:
    status, code, message = error_of(codecommit.create_repository, repositoryName="bad name!")
    assert (status, code) == (400, "ValidationException")
    assert message == validation_message(
        "bad name!",
        "repositoryName",
        "Member must satisfy regular expression pattern: [\\w\\.-]+",
    )
    status, code, message = error_of(codecommit.create_repository, repositoryName="r" * 101)
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 100" in message


def test_update_description_changes_last_modified_date(codecommit: Any, name: str) -> None:
    before = codecommit.create_repository(repositoryName=name)["repositoryMetadata"]
    codecommit.update_repository_description(
        repositoryName=name, repositoryDescription="Now described"
    )
    after = codecommit.get_repository(repositoryName=name)["repositoryMetadata"]
    assert after["repositoryDescription"] == "Now described"
    assert after["lastModifiedDate"] >= before["lastModifiedDate"]
    assert after["creationDate"] == before["creationDate"]
    # Without a description, the description is removed.
    codecommit.update_repository_description(repositoryName=name)
    cleared = codecommit.get_repository(repositoryName=name)["repositoryMetadata"]
    assert "repositoryDescription" not in cleared


def test_delete_removes_row_and_git_directory(
    server: RunningServer, codecommit: Any, name: str
) -> None:
    repository_id = codecommit.create_repository(repositoryName=name)["repositoryMetadata"][
        "repositoryId"
    ]
    assert _git_dir(server, repository_id).is_dir()
    deleted = codecommit.delete_repository(repositoryName=name)
    assert deleted["repositoryId"] == repository_id
    assert not _git_dir(server, repository_id).exists()
    assert error_of(codecommit.get_repository, repositoryName=name)[1] == (
        "RepositoryDoesNotExistException"
    )
    # Deleting what is not there succeeds without an id, as on AWS.
    again = codecommit.delete_repository(repositoryName=name)
    assert "repositoryId" not in again
    # The name can be used again, for a new repository.
    renewed = codecommit.create_repository(repositoryName=name)["repositoryMetadata"]
    assert renewed["repositoryId"] != repository_id


def test_list_sorts_and_orders(fresh_server: RunningServer) -> None:
    codecommit = fresh_server.client("codecommit")
    assert codecommit.list_repositories()["repositories"] == []
    ids = {}
    for repo in ("beta", "alpha", "gamma"):
        ids[repo] = codecommit.create_repository(repositoryName=repo)["repositoryMetadata"][
            "repositoryId"
        ]
    codecommit.update_repository_description(repositoryName="alpha", repositoryDescription="x")

    def names(**params: Any) -> list[str]:
        listing = codecommit.list_repositories(**params)
        assert "nextToken" not in listing
        for item in listing["repositories"]:
            assert item["repositoryId"] == ids[item["repositoryName"]]
        return [item["repositoryName"] for item in listing["repositories"]]

    assert names() == ["alpha", "beta", "gamma"]
    assert names(sortBy="repositoryName", order="descending") == ["gamma", "beta", "alpha"]
    assert names(sortBy="lastModifiedDate") == ["beta", "gamma", "alpha"]
    assert names(sortBy="lastModifiedDate", order="descending") == ["alpha", "gamma", "beta"]
    # Not ours; and offsets int() refuses ("²" is a digit to str.isdigit) or the
    # database cannot hold: all the token error, never InternalFailure.
    for token in (
        "not-a-token",
        base64.urlsafe_b64encode("iamdrepos1:²".encode()).decode(),
        base64.urlsafe_b64encode(b"iamdrepos1:" + b"9" * 20).decode(),
    ):
        status, code, _ = error_of(codecommit.list_repositories, nextToken=token)
        assert (token, status, code) == (token, 400, "InvalidContinuationTokenException")


def test_access_is_authorized_by_policy(server: RunningServer, iam: Any, unique: str) -> None:
    user = f"dev-{unique}"[:64]
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    codecommit = server.client("codecommit", key["AccessKeyId"], key["SecretAccessKey"])
    status, code, message = error_of(codecommit.list_repositories)
    assert (status, code) == (403, "AccessDeniedException")
    assert "codecommit:ListRepositories" in message
    # Allowed on one repository ARN only.
    allowed = f"allowed-{unique}"[:100]
    iam.put_user_policy(
        UserName=user,
        PolicyName="repos",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["codecommit:CreateRepository", "codecommit:GetRepository"],
                        "Resource": f"arn:aws:codecommit:{REGION}:{ACCOUNT}:{allowed}",
                    }
                ],
            }
        ),
    )
    codecommit.create_repository(repositoryName=allowed)
    assert codecommit.get_repository(repositoryName=allowed)["repositoryMetadata"]
    status, code, message = error_of(codecommit.create_repository, repositoryName=f"o-{unique}")
    assert (status, code) == (403, "AccessDeniedException")
    assert re.search(r"not authorized to perform: codecommit:CreateRepository on resource", message)
    assert error_of(codecommit.delete_repository, repositoryName=allowed)[1] == (
        "AccessDeniedException"
    )


def test_iam_still_answers_xml(iam: Any) -> None:
    response = iam.get_user()
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/xml"


def test_dates_are_epoch_seconds_on_the_wire(codecommit: Any, name: str) -> None:
    raw: dict[str, Any] = {}

    def capture(http_response: Any, **_: Any) -> None:
        raw["body"] = http_response.content

    codecommit.meta.events.register("after-call.codecommit.CreateRepository", capture)
    codecommit.create_repository(repositoryName=name)
    created = json.loads(raw["body"])["repositoryMetadata"]["creationDate"]
    assert isinstance(created, int | float)
    assert abs(datetime.fromtimestamp(created, UTC) - datetime.now(UTC)) < timedelta(minutes=5)

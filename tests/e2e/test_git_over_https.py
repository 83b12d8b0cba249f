"""git over HTTP with the real `git` client and service-specific credentials, as
CodeCommit users work with HTTPS git credentials: in the URL or from a credential
helper; GitPull and GitPush decided by the policy engine on the repository's ARN."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tests.support.servers import RunningServer

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
CODECOMMIT = "codecommit.amazonaws.com"


def _git(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    return subprocess.run(
        ["git", *args],
        cwd=cwd or home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _developer(server: RunningServer, name: str, actions: list[str], repo: str) -> dict[str, Any]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": actions,
                "Resource": f"arn:aws:codecommit:us-east-1:{ACCOUNT}:{repo}",
            }
        ],
    }
    iam.put_user_policy(UserName=name, PolicyName="git", PolicyDocument=json.dumps(policy))
    credential: dict[str, Any] = iam.create_service_specific_credential(
        UserName=name, ServiceName=CODECOMMIT
    )["ServiceSpecificCredential"]
    return credential


def _with_credentials(url: str, credential: dict[str, Any], password: str | None = None) -> str:
    user = quote(credential["ServiceUserName"], safe="")
    secret = quote(password or credential["ServicePassword"], safe="")
    return url.replace("http://", f"http://{user}:{secret}@", 1)


def _helper(credential: dict[str, Any]) -> str:
    user, password = str(credential["ServiceUserName"]), str(credential["ServicePassword"])
    return f"!f() {{ echo username={user}; echo password={password}; }}; f"


def test_clone_push_with_url_and_helper_and_refusals(
    server: RunningServer, tmp_path: Path, unique: str
) -> None:
    repo = f"{unique}-web"
    url = server.client("codecommit").create_repository(repositoryName=repo)["repositoryMetadata"][
        "cloneUrlHttp"
    ]
    assert url == f"{server.endpoint}/v1/repos/{repo}"
    dev = _developer(server, f"{unique}-dev", ["codecommit:GitPull", "codecommit:GitPush"], repo)
    assert dev["ServiceUserName"] == f"{unique}-dev-at-{ACCOUNT}"

    home = tmp_path / "dev"
    home.mkdir()
    cloned = _git(home, "clone", _with_credentials(url, dev), "first")
    assert cloned.returncode == 0, cloned.stderr
    assert "cloned an empty repository" in cloned.stderr
    work = home / "first"
    (work / "README.md").write_text("hello over HTTP\n")
    assert _git(home, "add", "README.md", cwd=work).returncode == 0
    assert _git(home, "commit", "-q", "-m", "first", cwd=work).returncode == 0
    pushed = _git(home, "push", "origin", "HEAD:main", cwd=work)
    assert pushed.returncode == 0, pushed.stderr
    commit = _git(home, "rev-parse", "HEAD", cwd=work).stdout.strip()

    # A credential helper instead of the URL: the same credential, git asks after the 401.
    again = _git(home, "-c", f"credential.helper={_helper(dev)}", "clone", url, "second")
    assert again.returncode == 0, again.stderr
    second = home / "second"
    assert _git(home, "rev-parse", "HEAD", cwd=second).stdout.strip() == commit
    assert (second / "README.md").read_text() == "hello over HTTP\n"
    metadata = server.client("codecommit").get_repository(repositoryName=repo)["repositoryMetadata"]
    assert metadata["defaultBranch"] == "main"

    # A pusher whose policy allows only GitPull: the clone works, the push gets 403.
    reader = _developer(server, f"{unique}-reader", ["codecommit:GitPull"], repo)
    reader_home = tmp_path / "reader"
    reader_home.mkdir()
    read = _git(reader_home, "clone", _with_credentials(url, reader), "copy")
    assert read.returncode == 0, read.stderr
    copy = reader_home / "copy"
    (copy / "more.txt").write_text("not allowed\n")
    _git(reader_home, "add", "more.txt", cwd=copy)
    _git(reader_home, "commit", "-q", "-m", "nope", cwd=copy)
    denied = _git(reader_home, "push", "origin", "HEAD:main", cwd=copy)
    assert denied.returncode != 0
    assert "403" in denied.stderr, denied.stderr

    # A wrong password: refused, 403 as CodeCommit answers.
    wrong = _git(home, "ls-remote", _with_credentials(url, dev, password="x" * 44))
    assert wrong.returncode != 0
    assert "403" in wrong.stderr, wrong.stderr
    # No credentials at all: 401, and git has no way to ask (no terminal, no helper).
    anonymous = _git(home, "ls-remote", url)
    assert anonymous.returncode != 0
    assert "could not read Username" in anonymous.stderr or "401" in anonymous.stderr

    # An inactive credential is refused at once; active again, it works again.
    iam = server.client("iam")
    iam.update_service_specific_credential(
        UserName=f"{unique}-dev",
        ServiceSpecificCredentialId=dev["ServiceSpecificCredentialId"],
        Status="Inactive",
    )
    inactive = _git(home, "ls-remote", _with_credentials(url, dev))
    assert inactive.returncode != 0
    assert "403" in inactive.stderr, inactive.stderr
    iam.update_service_specific_credential(
        UserName=f"{unique}-dev",
        ServiceSpecificCredentialId=dev["ServiceSpecificCredentialId"],
        Status="Active",
    )
    listed = _git(home, "ls-remote", _with_credentials(url, dev))
    assert listed.returncode == 0, listed.stderr
    assert f"{commit}\trefs/heads/main" in listed.stdout

    # Reset: the old password stops working, the new one opens.
    new = iam.reset_service_specific_credential(
        UserName=f"{unique}-dev", ServiceSpecificCredentialId=dev["ServiceSpecificCredentialId"]
    )["ServiceSpecificCredential"]
    assert _git(home, "ls-remote", _with_credentials(url, dev)).returncode != 0
    assert _git(home, "ls-remote", _with_credentials(url, new)).returncode == 0


def _get(url: str, credential: dict[str, Any] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url)  # noqa: S310 - the test server's http URL
    if credential is not None:
        pair = f"{credential['ServiceUserName']}:{credential['ServicePassword']}"
        request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_http_answers_for_missing_repositories_paths_and_deleted_credentials(
    server: RunningServer, unique: str
) -> None:
    repo = f"{unique}-edge"
    server.client("codecommit").create_repository(repositoryName=repo)
    dev = _developer(server, f"{unique}-edge", ["codecommit:GitPull"], "*")
    base = f"{server.endpoint}/v1/repos"
    refs = f"{base}/{repo}/info/refs?service=git-upload-pack"

    status, headers, _ = _get(refs)
    assert status == 401
    assert headers["www-authenticate"].startswith("Basic ")
    status, headers, body = _get(refs, dev)
    assert status == 200
    assert headers["content-type"] == "application/x-git-upload-pack-advertisement"
    assert body.startswith("001e# service=git-upload-pack\n")
    missing = f"{unique}-missing"
    status, _, body = _get(f"{base}/{missing}/info/refs?service=git-upload-pack", dev)
    assert status == 404
    assert f"Repository {missing} does not exist in account {ACCOUNT}." in body
    # The dumb protocol and paths that are not git's are not served.
    assert _get(f"{base}/{repo}/info/refs", dev)[0] == 403
    assert _get(f"{base}/{repo}/HEAD", dev)[0] == 404
    assert _get(f"{base}/bad%20name/info/refs?service=git-upload-pack", dev)[0] == 404

    server.client("iam").delete_service_specific_credential(
        UserName=f"{unique}-edge", ServiceSpecificCredentialId=dev["ServiceSpecificCredentialId"]
    )
    assert _get(refs, dev)[0] == 403

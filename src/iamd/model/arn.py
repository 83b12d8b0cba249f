"""ARNs of IAM entities (`arn:aws:iam::ACCOUNT:kind{path}{name}`) and CodeCommit repositories."""

from __future__ import annotations

from typing import NewType

Arn = NewType("Arn", str)

AWS_MANAGED_ACCOUNT = "aws"


def iam_arn(account_id: str, kind: str, path: str, name: str) -> Arn:
    """The ARN of an IAM entity; `path` starts and ends with '/'."""
    return Arn(f"arn:aws:iam::{account_id}:{kind}{path}{name}")


def codecommit_repository_arn(region: str, account_id: str, name: str) -> Arn:
    """What GitPull, GitPush and the repository operations are authorized on."""
    return Arn(f"arn:aws:codecommit:{region}:{account_id}:{name}")


def split_policy_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, path, name) of a managed policy ARN, or None when it is not one."""
    prefix = "arn:aws:iam::"
    if not arn.startswith(prefix):
        return None
    account, sep, rest = arn[len(prefix) :].partition(":")
    if not sep or not rest.startswith("policy/"):
        return None
    path_and_name = rest[len("policy") :]
    path, _, name = path_and_name.rpartition("/")
    if not name:
        return None
    return account, path + "/", name


def arn_account(arn: str) -> str | None:
    """The 12-digit account of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`), or None
    when it names none (`*`, an S3 bucket, an AWS managed policy's `aws`)."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4]
    return None

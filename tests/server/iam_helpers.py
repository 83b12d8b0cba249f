"""Helpers shared by the IAM server tests: AWS error capture, documents, id shapes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from tests.support.servers import RunningServer

ACCOUNT = "123456789012"

USER_ID = re.compile(r"AIDA[A-Z2-7]{17}")
GROUP_ID = re.compile(r"AGPA[A-Z2-7]{17}")
POLICY_ID = re.compile(r"ANPA[A-Z2-7]{17}")
ACCESS_KEY_ID = re.compile(r"AKIA[A-Z2-7]{16}")
SECRET_ACCESS_KEY = re.compile(r"[A-Za-z0-9/+]{40}")

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
IAM_FULL_ACCESS = "arn:aws:iam::aws:policy/IAMFullAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"

NAME_PATTERN = r"[\w+=,.@-]+"


def error_of(call: Callable[..., Any], /, **params: Any) -> tuple[int, str, str]:
    """Call a boto3 operation that must fail: (HTTP status, AWS code, message)."""
    try:
        call(**params)
    except ClientError as error:
        response = error.response
        return (
            int(response["ResponseMetadata"]["HTTPStatusCode"]),
            str(response["Error"]["Code"]),
            str(response["Error"]["Message"]),
        )
    raise AssertionError(f"{call.__name__}({params}) succeeded; an error was expected")


def validation_message(value: str, member: str, constraint: str) -> str:
    """AWS's text for one violated model constraint."""
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def too_long(value: str, member: str, limit: int) -> str:
    return validation_message(
        value, member, f"Member must have length less than or equal to {limit}"
    )


def bad_pattern(value: str, member: str, pattern: str = NAME_PATTERN) -> str:
    return validation_message(
        value, member, f"Member must satisfy regular expression pattern: {pattern}"
    )


def assert_recent_utc(when: datetime) -> None:
    """A CreateDate as boto3 parses it: timezone-aware, UTC, and about now."""
    assert when.tzinfo is not None
    assert when.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=5)


def statement(action: str | list[str] = "s3:GetObject", resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def policy_document(
    action: str | list[str] = "s3:GetObject", resource: str = "*"
) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [statement(action, resource)]}


def policy_json(action: str | list[str] = "s3:GetObject", resource: str = "*") -> str:
    return json.dumps(policy_document(action, resource))


def document_of_size(size: int) -> str:
    """A compact policy document of exactly `size` characters (none of them whitespace)."""
    head = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
    head += '"Resource":"arn:aws:s3:::'
    tail = '"}]}'
    padding = size - len(head) - len(tail)
    assert padding >= 1, size
    document = head + "b" * padding + tail
    assert len(document) == size
    json.loads(document)
    return document


def new_user_client(
    server: RunningServer, iam: Any, name: str, policy_arn: str = IAM_FULL_ACCESS
) -> tuple[Any, dict[str, Any]]:
    """A user with an access key and `policy_arn` attached; its IAM client and the key."""
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]), key


def all_pages(iam: Any, operation: str, result_key: str, page_size: int, **params: Any) -> Any:
    """Every item of a List operation through boto3's paginator, and the page count."""
    paginator = iam.get_paginator(operation)
    pages = list(paginator.paginate(PaginationConfig={"PageSize": page_size}, **params))
    items = [item for page in pages for item in page[result_key]]
    for page in pages[:-1]:
        assert page["IsTruncated"] is True
        assert page["Marker"]
    assert pages[-1]["IsTruncated"] is False
    assert "Marker" not in pages[-1]
    return items, len(pages)

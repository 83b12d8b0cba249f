"""The five root-task policies AssumeRoot scopes its sessions with: each validates as
IAM would (a document with an error would compile to deny-everything and the task
would silently never work), and each allows its task only on a root user."""

from __future__ import annotations

import pytest

from iamd.policy import PolicyKind, check_policy, compile_policy
from iamd.policy.context import RequestContext
from iamd.policy.evaluate import Effect, evaluate
from iamd.root_task_policies import (
    ROOT_TASK_ARN_PREFIX,
    ROOT_TASK_POLICIES,
    ROOT_USER_DOCUMENT,
    task_policy_document,
)

ROOT = "arn:aws:iam::210987654321:root"
ALICE = "arn:aws:iam::210987654321:user/alice"


def _effect(name: str, action: str, resource: str, keys: dict[str, str] | None = None) -> Effect:
    policies = [
        compile_policy(ROOT_USER_DOCUMENT, PolicyKind.IDENTITY, "root"),
        compile_policy(ROOT_TASK_POLICIES[name], PolicyKind.IDENTITY, name),
    ]
    context = RequestContext(action, resource, {"aws:PrincipalArn": ROOT, **(keys or {})})
    return evaluate(context, policies).effect


@pytest.mark.parametrize("name", sorted(ROOT_TASK_POLICIES))
def test_each_document_is_valid(name: str) -> None:
    problems = [p for p in check_policy(ROOT_TASK_POLICIES[name], PolicyKind.IDENTITY)]
    assert [p.message for p in problems if p.kind == "error"] == []
    assert task_policy_document(ROOT_TASK_ARN_PREFIX + name) == ROOT_TASK_POLICIES[name]


def test_only_the_five_arns_name_a_task() -> None:
    assert sorted(ROOT_TASK_POLICIES) == [
        "IAMAuditRootUserCredentials",
        "IAMCreateRootUserPassword",
        "IAMDeleteRootUserCredentials",
        "S3UnlockBucketPolicy",
        "SQSUnlockQueuePolicy",
    ]
    for arn in (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        ROOT_TASK_ARN_PREFIX + "iamauditrootusercredentials",
        "arn:aws:iam::123456789012:policy/root-task/IAMAuditRootUserCredentials",
    ):
        assert task_policy_document(arn) is None


def test_the_task_on_the_root_user_and_nothing_else() -> None:
    audit = "IAMAuditRootUserCredentials"
    assert _effect(audit, "iam:ListAccessKeys", ROOT) is Effect.ALLOW
    assert _effect(audit, "iam:ListAccessKeys", ALICE) is Effect.EXPLICIT_DENY
    assert _effect(audit, "iam:CreateUser", ALICE) is Effect.EXPLICIT_DENY
    assert _effect(audit, "iam:DeleteAccessKey", ROOT) is Effect.EXPLICIT_DENY
    delete = "IAMDeleteRootUserCredentials"
    assert _effect(delete, "iam:DeleteAccessKey", ROOT) is Effect.ALLOW
    assert _effect(delete, "iam:DeleteAccessKey", ALICE) is Effect.EXPLICIT_DENY
    password = "IAMCreateRootUserPassword"
    assert _effect(password, "iam:CreateLoginProfile", ROOT) is Effect.ALLOW
    assert _effect(password, "iam:CreateAccessKey", ROOT) is Effect.EXPLICIT_DENY
    bucket = "arn:aws:s3:::locked"
    assert _effect("S3UnlockBucketPolicy", "s3:DeleteBucketPolicy", bucket) is Effect.ALLOW
    assert _effect("S3UnlockBucketPolicy", "s3:GetObject", bucket) is Effect.EXPLICIT_DENY

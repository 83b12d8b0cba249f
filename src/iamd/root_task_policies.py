"""The AWS managed root-task policies that scope an STS AssumeRoot session.

AWS publishes five policies under ``arn:aws:iam::aws:policy/root-task/``; AssumeRoot
takes exactly one of them as its TaskPolicyArn, and the session it issues acts as the
member account's root user (which may do anything) restricted by that policy. Every
published document is made of Deny statements only: one denies every action outside
the task, the next denies the task's actions on anything but a root user. The texts
are the IAM User Guide's ("AWS managed policies for IAM", November 2024, with the
January 2025 removal of iam:DeleteVirtualMFADevice). SQSUnlockQueuePolicy's JSON is
not printed there; its document here follows the guide's description of its three
statements and names SQS's queue-policy actions.

This module is data: it never changes while the process runs.
"""

from __future__ import annotations

import json
from typing import Any

ROOT_TASK_ARN_PREFIX = "arn:aws:iam::aws:policy/root-task/"

_ANY_ROOT = "arn:aws:iam::*:root"

_AUDIT = (
    "iam:ListAccessKeys",
    "iam:ListSigningCertificates",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:GetUser",
    "iam:GetAccessKeyLastUsed",
)
_CREATE_PASSWORD = ("iam:CreateLoginProfile", "iam:GetLoginProfile")
_DELETE_CREDENTIALS = (
    "iam:DeleteAccessKey",
    "iam:DeleteSigningCertificate",
    "iam:DeleteLoginProfile",
    "iam:DeactivateMFADevice",
    "iam:ListAccessKeys",
    "iam:ListSigningCertificates",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:GetUser",
    "iam:GetAccessKeyLastUsed",
)
_S3_UNLOCK = (
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:GetBucketPolicy",
    "s3:ListAllMyBuckets",
)
_SQS_UNLOCK = ("sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes")


def _deny_outside(actions: tuple[str, ...], *extra: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "DenyAllOtherActionsOnAnyResource",
            "Effect": "Deny",
            "NotAction": list(dict.fromkeys(a for group in (actions, *extra) for a in group)),
            "Resource": "*",
        }
    ]


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=4)


#: Policy name -> its document (JSON text).
ROOT_TASK_POLICIES: dict[str, str] = {
    "IAMAuditRootUserCredentials": _document(
        [
            *_deny_outside(_AUDIT, ("iam:GetAccountSummary",)),
            {
                "Sid": "DenyAuditingCredentialsOnNonRootUserResource",
                "Effect": "Deny",
                "Action": list(_AUDIT),
                "NotResource": _ANY_ROOT,
            },
        ]
    ),
    "IAMCreateRootUserPassword": _document(
        [
            *_deny_outside(_CREATE_PASSWORD),
            {
                "Sid": "DenyCreatingPasswordOnNonRootUserResource",
                "Effect": "Deny",
                "Action": list(_CREATE_PASSWORD),
                "NotResource": _ANY_ROOT,
            },
        ]
    ),
    "IAMDeleteRootUserCredentials": _document(
        [
            *_deny_outside(_DELETE_CREDENTIALS),
            {
                "Sid": "DenyDeletingRootUserCredentialsOnNonRootUserResource",
                "Effect": "Deny",
                "Action": list(_DELETE_CREDENTIALS),
                "NotResource": _ANY_ROOT,
            },
        ]
    ),
    "S3UnlockBucketPolicy": _document(
        [
            *_deny_outside(_S3_UNLOCK),
            {
                "Sid": "DenyManagingBucketPolicyForNonRootCallers",
                "Effect": "Deny",
                "Action": list(_S3_UNLOCK),
                "Resource": "*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": _ANY_ROOT}},
            },
        ]
    ),
    "SQSUnlockQueuePolicy": _document(
        [
            *_deny_outside(_SQS_UNLOCK),
            {
                "Sid": "DenyGettingQueueAttributesOnNonOwnQueue",
                "Effect": "Deny",
                "Action": ["sqs:GetQueueAttributes"],
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:ResourceAccount": ["${aws:PrincipalAccount}"]}
                },
            },
            {
                "Sid": "DenyActionsForNonRootUser",
                "Effect": "Deny",
                "Action": list(_SQS_UNLOCK),
                "Resource": "*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": _ANY_ROOT}},
            },
        ]
    ),
}

#: Allows everything: what the root user may do before the task policy restricts it.
ROOT_USER_DOCUMENT = _document([{"Effect": "Allow", "Action": "*", "Resource": "*"}])


def task_policy_document(arn: str) -> str | None:
    """The document of the root-task policy `arn` names, None for any other ARN."""
    if not arn.startswith(ROOT_TASK_ARN_PREFIX):
        return None
    return ROOT_TASK_POLICIES.get(arn[len(ROOT_TASK_ARN_PREFIX) :])

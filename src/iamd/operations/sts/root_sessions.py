"""AssumeRoot: a short session as a member account's root user, scoped to one task.

The pipeline authorizes `sts:AssumeRoot` on the target's root ARN
(`arn:aws:iam::TARGET:root`) with `sts:TaskPolicyArn` in the request context; the
handler then applies the organization's rules (management account, RootSessions on,
a member target) and issues the session. What the session may do is decided on each
of its requests by `principals/credentials.py`: the root user's allow-everything,
cut down by the task policy's Deny statements.
"""

from __future__ import annotations

import re

from iamd.errors import AccessDenied, ValidationError
from iamd.operations.registry import CallContext, Operation, Params, Result
from iamd.operations.sts.sessions import credentials_shape
from iamd.principals.caller import PrincipalType
from iamd.root_task_policies import ROOT_TASK_POLICIES, task_policy_document

_ACCOUNT_ID = re.compile(r"\d{12}")
_ROOT_ARN = re.compile(r"arn:aws:iam::(\d{12}):root")

# AWS does not publish these texts; each names the rule that refused.
BAD_TARGET = "TargetPrincipal must be a 12-digit account ID or arn:aws:iam::ACCOUNT:root"
BAD_TASK_POLICY = "TaskPolicyArn must be one of the AWS managed root-task policies: " + ", ".join(
    f"arn:aws:iam::aws:policy/root-task/{name}" for name in ROOT_TASK_POLICIES
)


def target_account(params: Params) -> str:
    """The account TargetPrincipal names (an account id or its root user's ARN)."""
    target = str(params["TargetPrincipal"])
    if _ACCOUNT_ID.fullmatch(target):
        return target
    found = _ROOT_ARN.fullmatch(target)
    if found is None:
        raise ValidationError(BAD_TARGET)
    return found.group(1)


def target_root_resource(_ctx: CallContext, params: Params) -> str:
    return f"arn:aws:iam::{target_account(params)}:root"


def assume_root(ctx: CallContext, params: Params) -> Result:
    caller = ctx.caller
    if caller.principal_type is PrincipalType.ACCOUNT:
        # AWS: "You cannot use root user credentials to make this call."
        raise AccessDenied("AssumeRoot cannot be called with root user credentials")
    task_policy_arn = params["TaskPolicyArn"].get("arn")
    if not isinstance(task_policy_arn, str) or task_policy_document(task_policy_arn) is None:
        raise ValidationError(BAD_TASK_POLICY)
    target = target_account(params)
    problem = ctx.services.organizations.root_session_problem(caller.account_id, target)
    if problem is not None:
        raise AccessDenied(problem)
    issued = ctx.services.sts.assume_root(target, task_policy_arn, params.get("DurationSeconds"))
    return {"Credentials": credentials_shape(issued)}


OPERATIONS: tuple[Operation, ...] = (
    Operation("sts", "AssumeRoot", assume_root, target_root_resource),
)

"""Decisions per second of iamd's policy engine vs moto's IAM evaluator and cedarpy.

Single thread, same process, same requests for all three. For each engine and workload:
five timed runs, median reported, plus the ratios iamd/moto and iamd/cedar.

Workloads
  (a) the guide's combined self-service policy (three statements, `${aws:username}`);
  (b) a 20-statement policy with mixed conditions (StringEquals, StringLike,
      NumericLessThan, Bool, IpAddress, DateLessThan; 4 Deny statements).

Fairness notes
  - Every engine builds its per-request input inside the timed loop (iamd: a
    RequestContext; moto: the condition dict; cedar: the request dict) and uses
    its compiled / pre-parsed form of the policy (iamd: compile_policy once; moto:
    IAMPolicy once; cedar: PolicySet and Entities parsed once).
  - moto's evaluator (moto.iam.access_control.IAMPolicy) does not substitute policy
    variables and only evaluates StringEquals (other operators are ignored), so for
    (a) it gets the policy with the user name already substituted, and for (b) it does
    less work than the others. Its numbers are throughput, not correctness.
  - cedar gets an equivalent Cedar policy: IAM wildcards become `like`, the caller's
    name, IP (as an `ip` extension value) and time (epoch seconds) come in the context.

Run: .venv/bin/python bench/policy_decisions.py
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import cedarpy
from moto.iam.access_control import IAMPolicy, PermissionResult

from iamd.policy import Effect, PolicyKind, RequestContext, compile_policy, evaluate

ACCOUNT = "123456789012"
KEY_ACTIONS = [
    "iam:CreateAccessKey",
    "iam:DeleteAccessKey",
    "iam:GetAccessKeyLastUsed",
    "iam:ListAccessKeys",
    "iam:UpdateAccessKey",
]
SSH_ACTIONS = [
    "iam:UploadSSHPublicKey",
    "iam:DeleteSSHPublicKey",
    "iam:GetSSHPublicKey",
    "iam:ListSSHPublicKeys",
    "iam:UpdateSSHPublicKey",
]
INFO_ACTIONS = [
    "iam:GetAccountSummary",
    "iam:ListAccountAliases",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
]


def guide_policy(user: str = "${aws:username}") -> str:
    own = f"arn:aws:iam::*:user/{user}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ManageOwnAccessKeys",
                    "Effect": "Allow",
                    "Action": KEY_ACTIONS,
                    "Resource": own,
                },
                {
                    "Sid": "ManageOwnSSHKeys",
                    "Effect": "Allow",
                    "Action": SSH_ACTIONS,
                    "Resource": own,
                },
                {
                    "Sid": "ViewAccountInfo",
                    "Effect": "Allow",
                    "Action": INFO_ACTIONS,
                    "Resource": "*",
                },
            ],
        },
        indent=2,
    )


def cedar_list(actions: list[str]) -> str:
    return " || ".join(f'context.action == "{a.lower()}"' for a in actions)


GUIDE_CEDAR = f"""
permit(principal, action, resource) when {{
  ({cedar_list(KEY_ACTIONS)}) && context.resource like "arn:aws:iam::*:user/*"
  && context has username && context.resource_user == context.username }};
permit(principal, action, resource) when {{
  ({cedar_list(SSH_ACTIONS)}) && context.resource like "arn:aws:iam::*:user/*"
  && context has username && context.resource_user == context.username }};
permit(principal, action, resource) when {{ {cedar_list(INFO_ACTIONS)} }};
"""

# (action, resource, username, expected effect)
GUIDE_REQUESTS = [
    ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/jdoe", "jdoe", True),
    ("iam:ListSSHPublicKeys", f"arn:aws:iam::{ACCOUNT}:user/jdoe", "jdoe", True),
    ("iam:GetAccountSummary", "*", "jdoe", True),
    ("iam:DeleteAccessKey", f"arn:aws:iam::{ACCOUNT}:user/bob", "jdoe", False),
    ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/jdoe", "jdoe", False),
    ("iam:UpdateSSHPublicKey", f"arn:aws:iam::{ACCOUNT}:user/jdoe", "jdoe", True),
]

CONDITIONS: list[tuple[dict[str, Any], str]] = [
    ({"StringEquals": {"aws:PrincipalTag/team": "team{i}"}}, 'context.team == "team{i}"'),
    ({"StringLike": {"s3:prefix": "home/*"}}, 'context.prefix like "home/*"'),
    ({"NumericLessThan": {"s3:max-keys": "100"}}, "context.max_keys < 100"),
    ({"Bool": {"aws:SecureTransport": "true"}}, "context.secure == true"),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, 'context.ip.isInRange(ip("10.0.0.0/8"))'),
    ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, "context.now < 1893456000"),
]


def mixed_policy() -> tuple[str, str]:
    statements = []
    cedar = []
    for i in range(20):
        deny = i % 5 == 4
        actions = [f"svc{i}:Get*", f"svc{i}:List*"]
        resource = f"arn:aws:s3:::bucket{i}/*"
        cond, cedar_cond = CONDITIONS[i % len(CONDITIONS)]
        cond = json.loads(json.dumps(cond).replace("{i}", str(i)))
        statements.append(
            {
                "Sid": f"S{i}",
                "Effect": "Deny" if deny else "Allow",
                "Action": actions,
                "Resource": resource,
                "Condition": cond,
            }
        )
        act = " || ".join(f'context.action like "{a.lower()}"' for a in actions)
        cedar.append(
            f"{'forbid' if deny else 'permit'}(principal, action, resource) when {{ ({act}) && "
            f'context.resource like "{resource}" && {cedar_cond.replace("{i}", str(i))} }};'
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2), "\n".join(
        cedar
    )


def mixed_requests() -> list[tuple[str, str, dict[str, str]]]:
    out = []
    for i in (0, 1, 2, 3, 4, 5, 9, 13, 17, 19):
        out.append(
            (
                f"svc{i}:GetThing",
                f"arn:aws:s3:::bucket{i}/home/k",
                {
                    "aws:PrincipalTag/team": f"team{i}",
                    "s3:prefix": "home/x",
                    "s3:max-keys": "50",
                    "aws:SecureTransport": "true",
                    "aws:SourceIp": "10.1.2.3",
                    "aws:CurrentTime": "2026-01-01T00:00:00Z",
                },
            )
        )
    out.append(("ec2:RunInstances", "*", out[0][2]))
    return out


def cedar_context(action: str, resource: str, keys: dict[str, str]) -> dict[str, Any]:
    return {
        "action": action.lower(),
        "resource": resource,
        "team": keys["aws:PrincipalTag/team"],
        "prefix": keys["s3:prefix"],
        "max_keys": int(keys["s3:max-keys"]),
        "secure": keys["aws:SecureTransport"] == "true",
        "ip": {"__extn": {"fn": "ip", "arg": keys["aws:SourceIp"]}},
        "now": 1767225600,
    }


def measure(run: Callable[[int], int], n: int) -> float:
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        done = run(n)
        rates.append(done / (time.perf_counter() - start))
    return statistics.median(rates)


def bench_guide() -> dict[str, float]:
    iamd_policy = compile_policy(guide_policy(), PolicyKind.IDENTITY, "guide")
    moto_policy = IAMPolicy(guide_policy("jdoe"))
    policy_set = cedarpy.PolicySet.from_str(GUIDE_CEDAR)
    entities = cedarpy.Entities.from_json_str("[]")
    reqs = GUIDE_REQUESTS

    for action, resource, user, allowed in reqs:  # all three agree before timing
        ctx = RequestContext(action, resource, {"aws:username": user})
        assert (evaluate(ctx, [iamd_policy]).effect is Effect.ALLOW) == allowed
        moto = moto_policy.is_action_permitted(action, resource)
        assert (moto == PermissionResult.PERMITTED) == allowed
        cedar = cedarpy.is_authorized(
            _cedar_guide_request(action, resource, user), policy_set, entities
        )
        assert (cedar.decision == cedarpy.Decision.Allow) == allowed

    def run_iamd(n: int) -> int:
        for k in range(n):
            action, resource, user, _ = reqs[k % len(reqs)]
            evaluate(RequestContext(action, resource, {"aws:username": user}), [iamd_policy])
        return n

    def run_moto(n: int) -> int:
        for k in range(n):
            action, resource, user, _ = reqs[k % len(reqs)]
            moto_policy.is_action_permitted(action, resource, None, {"aws:username": user})
        return n

    def run_cedar(n: int) -> int:
        for k in range(n):
            action, resource, user, _ = reqs[k % len(reqs)]
            cedarpy.is_authorized(
                _cedar_guide_request(action, resource, user), policy_set, entities
            )
        return n

    return {
        "iamd": measure(run_iamd, 30000),
        "moto": measure(run_moto, 6000),
        "cedar": measure(run_cedar, 4000),
    }


def _cedar_guide_request(action: str, resource: str, user: str) -> dict[str, Any]:
    return {
        "principal": 'User::"jdoe"',
        "action": 'Action::"call"',
        "resource": 'Resource::"r"',
        "context": {
            "action": action.lower(),
            "resource": resource,
            "resource_user": resource.rpartition(":user/")[2],
            "username": user,
        },
    }


def bench_mixed() -> dict[str, float]:
    text, cedar_text = mixed_policy()
    iamd_policy = compile_policy(text, PolicyKind.IDENTITY, "mixed")
    assert iamd_policy.valid, iamd_policy.problems
    moto_policy = IAMPolicy(text)
    policy_set = cedarpy.PolicySet.from_str(cedar_text)
    entities = cedarpy.Entities.from_json_str("[]")
    reqs = mixed_requests()

    for action, resource, keys in reqs:  # iamd and cedar agree before timing
        iamd = (
            evaluate(RequestContext(action, resource, keys), [iamd_policy]).effect is Effect.ALLOW
        )
        request = {
            "principal": 'User::"u"',
            "action": 'Action::"call"',
            "resource": 'Resource::"r"',
            "context": cedar_context(action, resource, keys),
        }
        cedar = (
            cedarpy.is_authorized(request, policy_set, entities).decision == cedarpy.Decision.Allow
        )
        assert iamd == cedar, (action, iamd, cedar)

    def run_iamd(n: int) -> int:
        for k in range(n):
            action, resource, keys = reqs[k % len(reqs)]
            evaluate(RequestContext(action, resource, keys), [iamd_policy])
        return n

    def run_moto(n: int) -> int:
        for k in range(n):
            action, resource, keys = reqs[k % len(reqs)]
            moto_policy.is_action_permitted(action, resource, None, dict(keys))
        return n

    def run_cedar(n: int) -> int:
        for k in range(n):
            action, resource, keys = reqs[k % len(reqs)]
            request = {
                "principal": 'User::"u"',
                "action": 'Action::"call"',
                "resource": 'Resource::"r"',
                "context": cedar_context(action, resource, keys),
            }
            cedarpy.is_authorized(request, policy_set, entities)
        return n

    return {
        "iamd": measure(run_iamd, 20000),
        "moto": measure(run_moto, 2000),
        "cedar": measure(run_cedar, 3000),
    }


def main() -> None:
    for name, bench in (
        ("(a) guide policy, 3 statements", bench_guide),
        ("(b) 20 statements, mixed conditions", bench_mixed),
    ):
        rates = bench()
        print(name)
        for engine in ("iamd", "moto", "cedar"):
            print(f"  {engine:6} {rates[engine]:12,.0f} decisions/s (median of 5)")
        print(f"  iamd/moto  {rates['iamd'] / rates['moto']:6.1f}x")
        print(f"  iamd/cedar {rates['iamd'] / rates['cedar']:6.1f}x")


if __name__ == "__main__":
    main()

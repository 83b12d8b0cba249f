"""Resource matching with variables: the fast path (variables in the resource part) and the
general path (variables elsewhere) agree with resolving the whole ARN first."""

from __future__ import annotations

import json

import pytest

from iamd.policy import Effect, PolicyKind, RequestContext, compile_policy, evaluate


def _allowed(resource_pattern: str, resource: str, keys: dict[str, str]) -> bool:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource_pattern}
            ],
        }
    )
    policy = compile_policy(text, PolicyKind.IDENTITY, "p")
    assert policy.valid
    return evaluate(RequestContext("s3:GetObject", resource, keys), [policy]).effect is Effect.ALLOW


@pytest.mark.parametrize(
    ("pattern", "resource", "keys", "expected"),
    [
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/al/x", {"aws:username": "al"}, True),
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/al", {"aws:username": "al"}, False),
        ("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/a*", {"aws:username": "a*"}, True),
        ("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/ab", {"aws:username": "a*"}, False),
        ("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b", {"aws:username": "al"}, False),
        ("arn:aws:s3:::b/${aws:username}", "not-an-arn", {"aws:username": "al"}, False),
        (
            "arn:aws:s3:::${aws:username}-bucket/*",
            "arn:aws:s3:::al-bucket/k",
            {"aws:username": "al"},
            True,
        ),
        ("arn:aws:s3:*:*:b/${aws:username}", "arn:aws:s3:r:1:b/al", {"aws:username": "al"}, True),
        ("arn:aws:s3:*:*:b/${aws:username}", "arn:aws:s3:r:1:c/al", {"aws:username": "al"}, False),
        ("arn:aws:s3:::b/x${*}y", "arn:aws:s3:::b/x*y", {}, True),
        ("arn:aws:s3:::b/x${*}y", "arn:aws:s3:::b/xzy", {}, False),
        # a variable before the fifth colon takes the general path
        ("arn:aws:s3:${aws:r}::b/k", "arn:aws:s3:eu::b/k", {"aws:r": "eu"}, True),
        ("arn:aws:s3:${aws:r}::b/k", "arn:aws:s3:us::b/k", {"aws:r": "eu"}, False),
    ],
)
def test_resource_variables(
    pattern: str, resource: str, keys: dict[str, str], expected: bool
) -> None:
    assert _allowed(pattern, resource, keys) is expected

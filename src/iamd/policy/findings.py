"""Security warnings about valid policies, in the spirit of IAM Access Analyzer.

A policy can be perfectly valid and still hand out far more than its author meant. This
module points at the statements that do, each with the location of the element at fault:

- `Allow` with `NotAction` or `NotResource` (allows everything not listed, including
  actions and resources that appear later);
- `Allow` of every action on every resource (administrator access);
- `Allow` of a credential-creating action (access keys, SSH public keys, console
  passwords) on every user: its holder can make credentials for any user and act as them;
- `Allow` of `iam:PassRole` on every role without a condition: its holder can give any
  role to any service.

"Every user" means the statement's resources match arbitrary user ARNs (`*`,
`arn:aws:iam::*:user/*`...); a resource built from `${aws:username}` does not. Pure: text
in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from iamd.policy.jsonscan import JsonError, LineIndex, Node, Position, scan
from iamd.policy.matching import ArnGlob, Glob

# Two user ARNs no policy written for particular users would match both of.
_ANY_USER = (
    "arn:aws:iam::111122223333:user/zz-probe-path/qq-probe-one",
    "arn:aws:iam::444455556666:user/other-probe",
)
_ANY_ROLE = (
    "arn:aws:iam::111122223333:role/zz-probe-path/qq-probe-one",
    "arn:aws:iam::444455556666:role/other-probe",
)
_ANY_ARN = ("arn:aws:s3:::zz-probe-bucket/qq", "arn:aws:ec2:us-east-1:444455556666:instance/i-1")

# (actions that create a credential for the user named in the request, what it makes)
_CREDENTIAL_ACTIONS = (
    (("iam:CreateAccessKey",), "access keys"),
    (("iam:UploadSSHPublicKey", "iam:UpdateSSHPublicKey"), "SSH public keys"),
    (("iam:CreateLoginProfile", "iam:UpdateLoginProfile"), "console passwords"),
)


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    message: str
    start: Position
    end: Position


KINDS = (
    "not-action",
    "not-resource",
    "administrator",
    "credentials-for-every-user",
    "pass-any-role",
)


def security_findings(text: str) -> list[Finding]:
    """Warnings for `text`; empty when it is not JSON (its errors say more)."""
    try:
        root = scan(text)
    except JsonError:
        return []
    lines = LineIndex(text)
    findings: list[Finding] = []
    for statement in _statements(root):
        for kind, message, node in _statement_findings(statement):
            findings.append(
                Finding(kind, message, lines.position(node.start), lines.position(node.end))
            )
    return findings


def _statements(root: Node) -> Iterator[Node]:
    if root.kind != "object":
        return
    statement = root.member("Statement")
    if statement is None:
        return
    items = [statement] if statement.kind == "object" else statement.items
    yield from (item for item in items if item.kind == "object")


def _strings(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.kind == "string":
        return [node]
    return [item for item in node.items if item.kind == "string"]


def _statement_findings(statement: Node) -> Iterator[tuple[str, str, Node]]:
    effect = statement.member("Effect")
    if effect is None or effect.kind != "string" or effect.text != "Allow":
        return
    not_action = statement.member("NotAction")
    not_resource = statement.member("NotResource")
    if not_action is not None:
        yield (
            "not-action",
            "Allow with NotAction allows every action not listed, including actions added "
            "later; list the actions to allow instead.",
            not_action,
        )
    if not_resource is not None:
        yield (
            "not-resource",
            "Allow with NotResource allows every resource not listed, including resources "
            "created later; list the resources to allow instead.",
            not_resource,
        )
    if not_action is not None or not_resource is not None:
        return
    actions = _strings(statement.member("Action"))
    resources = [node.text for node in _strings(statement.member("Resource"))]
    every_resource = _covers(resources, _ANY_ARN + _ANY_USER + _ANY_ROLE)
    for node in actions:
        if every_resource and node.text in ("*", "*:*"):
            yield (
                "administrator",
                "Allows every action on every resource: this is administrator access.",
                node,
            )
            return
    for names, what in _CREDENTIAL_ACTIONS:
        matched = _first_matching(actions, names)
        if matched is not None and _covers(resources, _ANY_USER):
            yield (
                "credentials-for-every-user",
                f"Allows {matched.text} on every user: its holder can create {what} for any "
                "IAM user and act as that user; restrict Resource to "
                "arn:aws:iam::ACCOUNT:user/${aws:username} or to named users.",
                matched,
            )
    passes = _first_matching(actions, ("iam:PassRole",))
    if (
        passes is not None
        and statement.member("Condition") is None
        and _covers(resources, _ANY_ROLE)
    ):
        yield (
            "pass-any-role",
            f"Allows {passes.text} on every role: its holder can pass any role, and its "
            "permissions, to any service; restrict Resource to the roles to pass or add an "
            "iam:PassedToService condition.",
            passes,
        )


def _first_matching(actions: list[Node], names: tuple[str, ...]) -> Node | None:
    for node in actions:
        pattern = Glob.of(node.text, ignore_case=True)
        if any(pattern.matches(name) for name in names):
            return node
    return None


def _covers(resources: list[str], probes: tuple[str, ...]) -> bool:
    """Whether one of the resource patterns matches every probe ARN."""
    return any(
        all(ArnGlob.of(resource).matches(probe) for probe in probes) if resource != "*" else True
        for resource in resources
    )

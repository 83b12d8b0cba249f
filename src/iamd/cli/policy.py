"""`iamd policy ...`: work with IAM policies from the command line.

`iamd policy simulate` answers "may this user do this action on this resource?" and
explains the answer: the matched statements (policy, Sid, line:column), the context keys
the policies needed but were not given, or that no statement allows the action. It asks a
running server (SimulatePrincipalPolicy with boto3, the standard credential chain or a
profile), or evaluates local policy files offline with the same engine the server
enforces with.

Exit codes: 0 every request allowed, 1 some request denied, 2 usage or other errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from iamd.cli.policy_check import check
from iamd.policy import PolicyKind, check_policy
from iamd.services.simulation import (
    CONTEXT_KEY_TYPES,
    PolicySet,
    input_policies,
    simulate,
)


class PolicyCommandError(click.ClickException):
    """An error that is not the answer "denied": exit code 2, like a usage error."""

    exit_code = 2


@click.group()
def policy() -> None:
    """Check and simulate IAM policies."""


@dataclass(frozen=True, slots=True)
class Match:
    policy_id: str
    policy_type: str
    sid: str | None
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Answer:
    action: str
    resource: str
    decision: str  # allowed | explicitDeny | implicitDeny
    matched: tuple[Match, ...]
    missing: tuple[str, ...]
    allowed_by_boundary: bool | None


def parse_context(text: str) -> dict[str, Any]:
    """`key=type:value[,value...]` (type defaults to string) as a ContextEntry.

    Values may hold colons (ARNs, IPv6), so a type is only taken from before the first
    colon when it is one of AWS's ContextKeyType names."""
    key, sep, rest = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r}: expected key=type:value", param_hint="--context")
    key_type, colon, value = rest.partition(":")
    if not colon or key_type not in CONTEXT_KEY_TYPES:
        key_type, value = "string", rest
    values = value.split(",") if key_type.endswith("List") else [value]
    return {"ContextKeyName": key, "ContextKeyValues": values, "ContextKeyType": key_type}


def _offline(
    files: Sequence[Path],
    actions: Sequence[str],
    resources: Sequence[str],
    entries: Sequence[dict[str, Any]],
    username: str | None,
) -> list[Answer]:
    texts = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        problems = [p for p in check_policy(text, PolicyKind.IDENTITY) if p.kind == "error"]
        if problems:
            where = [
                f"{path}:{p.start.line}:{p.start.column}: {p.message}"
                if p.start
                else f"{path}: {p.message}"
                for p in problems
            ]
            raise PolicyCommandError("invalid policy\n" + "\n".join(where))
        texts.append(text)
    compiled = input_policies(texts, "file", PolicyKind.IDENTITY)
    keys: dict[str, Any] = {}
    if username is not None:
        keys["aws:username"] = username
    for entry in entries:
        values = entry["ContextKeyValues"]
        list_type = entry["ContextKeyType"].endswith("List")
        keys[entry["ContextKeyName"]] = tuple(values) if list_type else values[0]
    outcomes = simulate(PolicySet(tuple(compiled)), actions, resources or ["*"], keys)
    answers = []
    for o in outcomes:
        matched = tuple(
            Match(
                str(files[int(m.source_policy_id.split(".")[1]) - 1]),
                "file",
                m.ref.sid,
                (m.ref.start.line, m.ref.start.column),
                (m.ref.end.line, m.ref.end.column),
            )
            for m in o.matched
        )
        answers.append(
            Answer(
                o.action,
                o.resource,
                o.decision.effect.value,
                matched,
                o.decision.missing_context_keys,
                o.decision.allowed_by_boundary,
            )
        )
    return answers


def _online(
    user: str,
    actions: Sequence[str],
    resources: Sequence[str],
    entries: Sequence[dict[str, Any]],
    profile: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> list[Answer]:
    import boto3  # noqa: PLC0415 - only the online mode needs it
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        iam = session.client("iam", endpoint_url=endpoint_url)
        arn = user if user.startswith("arn:") else iam.get_user(UserName=user)["User"]["Arn"]
        params: dict[str, Any] = {"PolicySourceArn": arn, "ActionNames": list(actions)}
        if resources:
            params["ResourceArns"] = list(resources)
        if entries:
            params["ContextEntries"] = list(entries)
        pages = iam.get_paginator("simulate_principal_policy").paginate(**params)
        results = [r for page in pages for r in page["EvaluationResults"]]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise PolicyCommandError(f"{error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise PolicyCommandError(str(exc)) from exc
    return [_answer_of(r) for r in results]


def _answer_of(result: dict[str, Any]) -> Answer:
    # The wire's columns are one past the character (AWS's convention); show the character.
    matched = tuple(
        Match(
            m.get("SourcePolicyId", "?"),
            m.get("SourcePolicyType", "none"),
            None,  # the API does not return Sids
            (m["StartPosition"]["Line"], m["StartPosition"]["Column"] - 1),
            (m["EndPosition"]["Line"], m["EndPosition"]["Column"] - 1),
        )
        for m in result.get("MatchedStatements", [])
    )
    detail = result.get("PermissionsBoundaryDecisionDetail")
    return Answer(
        result["EvalActionName"],
        result["EvalResourceName"],
        result["EvalDecision"],
        matched,
        tuple(result.get("MissingContextValues", [])),
        None if detail is None else bool(detail.get("AllowedByPermissionsBoundary")),
    )


def explain(answer: Answer) -> list[str]:
    """Human-readable lines for one answer."""
    verdict = {
        "allowed": "ALLOWED",
        "explicitDeny": "DENIED (explicit deny)",
        "implicitDeny": "DENIED (implicit deny)",
    }.get(answer.decision, answer.decision)
    lines = [f"{answer.action} on {answer.resource}: {verdict}"]
    verb = "denied by" if answer.decision == "explicitDeny" else "allowed by"
    for m in answer.matched:
        sid = f" statement {m.sid}" if m.sid else " statement"
        where = f"{m.start[0]}:{m.start[1]}-{m.end[0]}:{m.end[1]}"
        kind = "" if m.policy_type in ("file", "none") else f" ({m.policy_type})"
        lines.append(f"  {verb} {m.policy_id}{kind}{sid} at {where}")
    if answer.decision == "implicitDeny":
        if answer.allowed_by_boundary is False:
            lines.append(f"  no permissions boundary statement allows {answer.action}")
        else:
            lines.append(f"  no statement allows {answer.action} on {answer.resource}")
    if answer.missing:
        lines.append("  missing context keys: " + ", ".join(answer.missing))
    return lines


@policy.command()
@click.option("--user", help="User name or ARN to simulate on a running server.")
@click.option(
    "--policy-file",
    "policy_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Evaluate this identity policy offline (repeatable).",
)
@click.option("--action", "actions", multiple=True, required=True, help="e.g. iam:CreateAccessKey")
@click.option("--resource", "resources", multiple=True, help="Resource ARN (default *).")
@click.option(
    "--context",
    "contexts",
    multiple=True,
    help="Context key: key=type:value[,value...], e.g. aws:MultiFactorAuthPresent=boolean:true",
)
@click.option("--username", help="Offline: the aws:username of the simulated caller.")
@click.option("--profile", help="AWS CLI profile for --user.")
@click.option("--endpoint-url", envvar="IAMD_ENDPOINT_URL", help="Server URL for --user.")
@click.option("--region", default=None, help="Region for the client (any works for iamd).")
def simulate_command(
    user: str | None,
    policy_files: tuple[Path, ...],
    actions: tuple[str, ...],
    resources: tuple[str, ...],
    contexts: tuple[str, ...],
    username: str | None,
    profile: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> None:
    """May this user (or these policies) perform ACTION on RESOURCE? Explains why."""
    if (user is None) == (not policy_files):
        raise click.UsageError("give exactly one of --user or --policy-file")
    if user is not None and username is not None:
        raise click.UsageError("--username is for --policy-file; --user simulates that user")
    entries = [parse_context(c) for c in contexts]
    if user is not None:
        answers = _online(user, actions, resources, entries, profile, endpoint_url, region)
    else:
        answers = _offline(policy_files, actions, resources, entries, username)
    for answer in answers:
        for line in explain(answer):
            click.echo(line)
    if any(a.decision != "allowed" for a in answers):
        raise SystemExit(1)


simulate_command.name = "simulate"
policy.add_command(check)

"""GetHumanReadableSummary's text: a delegation request's permissions in plain English.

AWS writes its summary with a large language model; iamd writes a deterministic one
from the request and its permission policy, statement by statement: what it allows or
denies, grouped by service, with each action's access level as its name says it
(`List*` list, `Get*`/`Describe*`/`Simulate*` read, `Tag*`/`Untag*` tagging, anything
else write; `*` in an action: every matching action), the resources, and whether
conditions restrict it. It states what the policy says, never what it means for the
account's resources.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from iamd.model.delegation import DelegationRequest

_LEVELS = (
    (("List",), "list"),
    (("Get", "Describe", "Simulate", "BatchGet"), "read"),
    (("Tag", "Untag"), "tagging"),
)


def access_level(action_name: str) -> str:
    if "*" in action_name or "?" in action_name:
        return "any"
    for prefixes, level in _LEVELS:
        if action_name.startswith(prefixes):
            return level
    return "write"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _actions(actions: Iterable[str]) -> str:
    by_service: dict[str, list[str]] = {}
    for action in actions:
        if action == "*":
            by_service.setdefault("*", []).append("*")
            continue
        service, _, name = action.partition(":")
        by_service.setdefault(service.lower(), []).append(name)
    parts = []
    for service in sorted(by_service):
        names = sorted(set(by_service[service]))
        if service == "*":
            parts.append("every action of every service")
            continue
        levels = sorted({access_level(n) for n in names})
        shown = ", ".join(f"{service}:{n}" for n in names)
        if levels == ["any"]:
            parts.append(f"{service} actions matching {shown}")
        else:
            parts.append(f"{service} ({'/'.join(levels)} access: {shown})")
    return "; ".join(parts)


def _statement(statement: dict[str, Any]) -> str:
    effect = "Allows" if statement.get("Effect") == "Allow" else "Denies"
    if "NotAction" in statement:
        what = f"every action except {_actions(_strings(statement['NotAction']))}"
    else:
        what = _actions(_strings(statement.get("Action")))
    if "NotResource" in statement:
        where = "every resource except " + ", ".join(_strings(statement["NotResource"]))
    else:
        resources = _strings(statement.get("Resource"))
        where = "all resources" if resources == ["*"] else ", ".join(resources)
    text = f"{effect} {what} on {where}"
    condition = statement.get("Condition")
    if isinstance(condition, dict) and condition:
        keys = sorted({k for block in condition.values() if isinstance(block, dict) for k in block})
        text += f", only when conditions on {', '.join(keys)} hold"
    return text + "."


def summarize(request: DelegationRequest) -> str:
    target = request.owner_account or "an account not chosen yet"
    hours = request.session_duration / 3600
    lines = [
        f"{request.requestor_name} (account {request.requestor_account}) asks for temporary "
        f"access to {target} for {hours:g} hour{'s' if hours != 1 else ''} after the token "
        "is sent.",
    ]
    try:
        document = json.loads(request.permission_policy or "{}")
    except ValueError:
        document = {}
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        lines.append("Its permission policy has no statements: it grants nothing.")
        return "\n".join(lines)
    lines.append("The permissions it asks for:")
    lines.extend(f"- {_statement(s)}" for s in statements if isinstance(s, dict))
    return "\n".join(lines)

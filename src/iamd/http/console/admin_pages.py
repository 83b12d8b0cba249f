"""The administrator console: the users list (search and pages, create, delete with
AWS's DeleteConflict shown), the readers of the groups and roles lists (their pages are
entity_pages.py), and a policy editor that shows `iamd policy check`'s
findings with their line and column.

As everywhere in the console, each read and write is the IAM operation run as the
signed-in user: whoever may not ListUsers sees AWS's AccessDenied in place of the
list. The editor's check is `iamd policy check`'s own (the pure policy engine and its
security findings, `iamd.policy`); creating the policy is CreatePolicy.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from iamd.errors import AwsError, DeleteConflict, LimitExceeded
from iamd.http.console import pages
from iamd.http.console.as_user import AsUser, Section, bar
from iamd.http.console.credentials_page import when
from iamd.http.console.editor_targets import (
    TRUST_TEMPLATE,
    current_document,
    old_versions,
    save,
    target_of,
)
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.policy import PolicyKind, check_policy
from iamd.policy.findings import security_findings
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession

USERS_PAGE = f"{pages.PREFIX}/users"
GROUPS_PAGE = f"{pages.PREFIX}/groups"
ROLES_PAGE = f"{pages.PREFIX}/roles"
POLICY_EDITOR = f"{pages.PREFIX}/policies/new"
POLICY_CHECK = f"{pages.PREFIX}/policies/check"
PAGE_SIZE = 50
#: ListUsers' largest page: a search reads the account's users in pages of this size.
_SEARCH_PAGE = 1000
_MAX_DOCUMENT = 131_072


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    column: int
    severity: str  # error | warning
    message: str


def _query(request: HttpRequest) -> dict[str, str]:
    try:
        return dict(parse_qsl(request.raw_query.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


class AdminPages:
    def __init__(self, pipeline: AwsPipeline) -> None:
        self._pipeline = pipeline

    # -- users -------------------------------------------------------------------------

    def users(
        self,
        request: HttpRequest,
        session: ConsoleSession,
        credential: ResolvedCredential,
        fields: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        call = AsUser(self._pipeline, request, credential, session)
        problem = done = cleanup = None
        status = 200
        if fields is not None:
            try:
                done = self._user_action(call, fields)
            except DeleteConflict as conflict:
                problem, status = pages.refusal(conflict)
                # The user's page lists what is left, each with its remove button.
                cleanup = fields.get("name", "").strip()[:128]
            except AwsError as error:
                problem, status = pages.refusal(error)
            except ValueError as bad:
                problem, status = str(bad), 400
        query = _query(request)
        search = query.get("search", "").strip()[:64]
        marker = query.get("marker", "")[:320] or None
        listing = call.section(lambda c: self._list(c, search, marker))
        return pages.render(
            status,
            "users.html",
            title="Users",
            **bar(session),
            problem=problem,
            done=done,
            cleanup=cleanup,
            search=search,
            listing=listing,
        )

    @staticmethod
    def _list(call: AsUser, search: str, marker: str | None) -> dict[str, Any]:
        if not search:
            params = {"MaxItems": str(PAGE_SIZE)}
            if marker:
                params["Marker"] = marker
            found = call("ListUsers", **params)
            return {
                "rows": [_user_row(u) for u in found["Users"]],
                "next": found.get("Marker") if found.get("IsTruncated") else None,
                "more": False,
            }
        # ListUsers filters by path only: a name search reads every page and filters.
        needle = search.lower()
        rows: list[dict[str, str]] = []
        next_marker: str | None = None
        more = False
        while True:
            params = {"MaxItems": str(_SEARCH_PAGE)}
            if next_marker:
                params["Marker"] = next_marker
            found = call("ListUsers", **params)
            for user in found["Users"]:
                if needle in user["UserName"].lower():
                    if len(rows) == PAGE_SIZE:
                        more = True
                        break
                    rows.append(_user_row(user))
            if more or not found.get("IsTruncated"):
                break
            next_marker = found.get("Marker")
        return {"rows": rows, "next": None, "more": more}

    @staticmethod
    def _user_action(call: AsUser, fields: Mapping[str, str]) -> str:
        action = fields.get("action", "")
        name = fields.get("name", "").strip()[:128]
        if action == "create-user":
            params = {"UserName": name}
            key = fields.get("tag_key", "").strip()[:128]
            if key:
                params["Tags.member.1.Key"] = key
                params["Tags.member.1.Value"] = fields.get("tag_value", "")[:256]
            call("CreateUser", **params)
            return f"User {name} was created."
        if action == "delete-user":
            call("DeleteUser", UserName=name)
            return f"User {name} was deleted."
        raise ValueError("Unknown action. Nothing was changed.")

    # -- the policy editor -------------------------------------------------------------

    def policy_editor(
        self,
        request: HttpRequest,
        session: ConsoleSession,
        credential: ResolvedCredential,
        fields: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """The editor, writing to its target (editor_targets.py): a new policy by
        default, or an inline policy, a new version, a role's trust policy."""
        call = AsUser(self._pipeline, request, credential, session)
        target = target_of(fields if fields is not None else _query(request))
        if fields is not None:
            document = fields.get("document", "")[:_MAX_DOCUMENT]
            name = fields.get("name", "").strip()[:128]
        else:
            start = current_document(call, target)
            if start is None:
                start = (
                    TRUST_TEMPLATE.format(account=session.account_id)
                    if target.kind == "trust"
                    else _TEMPLATE
                )
            document, name = start, target.policy
        action = (fields or {}).get("action", "")
        findings = check_document(document, target.policy_kind) if fields is not None else []
        problem = done = created_arn = None
        status = 200
        room: list[str] = []
        simulated: Section | None = None
        if fields is not None and fields.get("delete_version"):
            version = fields["delete_version"].strip()[:128]
            try:
                call("DeletePolicyVersion", PolicyArn=target.name, VersionId=version)
            except AwsError as error:
                problem, status = pages.refusal(error)
            else:
                done = f"Version {version} was deleted. Save the document again."
        elif action == "simulate":
            simulated = _simulate(call, document, fields or {})
        elif action in ("create", "save"):
            if any(f.severity == "error" for f in findings):
                nothing = "Nothing was created." if not target.kind else "Nothing was saved."
                problem, status = f"The policy has errors (marked below). {nothing}", 400
            else:
                try:
                    done, created_arn = save(
                        call, target, name, document, bool((fields or {}).get("set_default"))
                    )
                except LimitExceeded as error:
                    problem, status = pages.refusal(error)
                    room = old_versions(call, target)
                except AwsError as error:
                    problem, status = pages.refusal(error)
        lines = _marked_lines(document, findings)
        return pages.render(
            status,
            "policy_editor.html",
            scripts=True,
            check_url=POLICY_CHECK,
            title=target.title,
            **bar(session),
            problem=problem,
            done=done,
            target=target,
            room=room,
            name=name,
            document=document,
            findings=findings,
            checked=fields is not None,
            lines=lines,
            simulated=simulated,
            created_arn=created_arn,
            actions=(fields or {}).get("actions", ""),
            resource=(fields or {}).get("resource", ""),
        )


def _simulate(call: AsUser, document: str, fields: Mapping[str, str]) -> Section:
    """SimulateCustomPolicy of the edited document, run as the user: each action's
    decision and the statements (line, column) that decided it."""
    actions = [a for a in fields.get("actions", "").replace(",", " ").split() if a][:20]
    resource = fields.get("resource", "").strip()[:2048] or "*"
    params = {"PolicyInputList.member.1": document, "ResourceArns.member.1": resource}
    for n, action in enumerate(actions, start=1):
        params[f"ActionNames.member.{n}"] = action[:128]

    def run(c: AsUser) -> list[dict[str, str]]:
        found = c("SimulateCustomPolicy", **params)["EvaluationResults"]
        rows = []
        for result in found:
            where = ", ".join(
                f"line {m['StartPosition']['Line']}, column {m['StartPosition']['Column']}"
                for m in result.get("MatchedStatements", [])
            )
            rows.append(
                {
                    "action": result["EvalActionName"],
                    "resource": result.get("EvalResourceName", resource),
                    "decision": result["EvalDecision"],
                    "matched": where or "no statement matched",
                }
            )
        return rows

    if not actions:
        return Section(denied="Name at least one action, such as iam:GetUser.")
    return call.section(run)


def _marked_lines(document: str, findings: list[Finding]) -> list[dict[str, Any]]:
    """The document's numbered lines; on a line with a finding, the character at the
    first finding's column is set apart (`at`), as an editor's caret would."""
    columns: dict[int, int] = {}
    for finding in findings:
        columns.setdefault(finding.line, finding.column)
    lines = []
    for number, text in enumerate(document.split("\n"), start=1):
        line: dict[str, Any] = {"number": number, "marked": number in columns, "text": text}
        if number in columns:
            at = max(0, columns[number] - 1)
            line.update(before=text[:at], at=text[at : at + 1] or " ", after=text[at + 1 :])
        lines.append(line)
    return lines


def check_answer(fields: Mapping[str, str]) -> HttpResponse:
    """The editor's check as you type: the findings of the posted document, as JSON
    (a trust policy's when `kind` is `trust`)."""
    kind = PolicyKind.TRUST if fields.get("kind") == "trust" else PolicyKind.IDENTITY
    findings = check_document(fields.get("document", "")[:_MAX_DOCUMENT], kind)
    return pages.json_answer(
        200,
        {
            "findings": [
                {"line": f.line, "column": f.column, "severity": f.severity, "message": f.message}
                for f in findings
            ]
        },
    )


def check_document(document: str, kind: PolicyKind = PolicyKind.IDENTITY) -> list[Finding]:
    """`iamd policy check`'s errors and warnings for a policy of `kind`, in order."""
    found = [
        Finding(
            p.start.line if p.start else 1, p.start.column if p.start else 1, "error", p.message
        )
        for p in check_policy(document, kind)
    ]
    found.extend(
        Finding(f.start.line, f.start.column, "warning", f.message)
        for f in security_findings(document)
    )
    return sorted(found, key=lambda f: (f.line, f.column))


def _page_params(marker: str | None) -> dict[str, str]:
    params = {"MaxItems": str(PAGE_SIZE)}
    if marker:
        params["Marker"] = marker
    return params


def _next(found: Mapping[str, Any]) -> str | None:
    return found.get("Marker") if found.get("IsTruncated") else None


def read_groups(call: AsUser, marker: str | None) -> dict[str, Any]:
    found = call("ListGroups", **_page_params(marker))
    rows = [
        {"name": g["GroupName"], "arn": g["Arn"], "created": when(g.get("CreateDate"))}
        for g in found["Groups"]
    ]
    return {"rows": rows, "next": _next(found)}


def read_roles(call: AsUser, marker: str | None) -> dict[str, Any]:
    found = call("ListRoles", **_page_params(marker))
    rows = []
    for role in found["Roles"]:
        trust = role.get("AssumeRolePolicyDocument") or ""
        with contextlib.suppress(ValueError):  # else shown as stored
            trust = json.dumps(json.loads(trust), indent=2)
        rows.append(
            {
                "name": role["RoleName"],
                "arn": role["Arn"],
                "created": when(role.get("CreateDate")),
                "description": role.get("Description", ""),
                "trust": trust,
            }
        )
    return {"rows": rows, "next": _next(found)}


def _user_row(user: Mapping[str, Any]) -> dict[str, str]:
    return {
        "name": user["UserName"],
        "arn": user["Arn"],
        "created": when(user.get("CreateDate")),
        "password_last_used": when(user.get("PasswordLastUsed")),
    }


_TEMPLATE = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "iam:GetUser",
      "Resource": "*"
    }
  ]
}"""

"""Customer managed policies (`/console/policies` and `/console/policy?arn=ARN`): the
account's policies, and one policy's versions (any version's document, the default's
unless another is asked for), where it is attached, and the actions on them: set a
version as the default, delete a version,
detach it from a user, group or role, delete the policy. Each is the IAM operation,
run as the signed-in user (or its role); new documents and new versions are written in
the policy editor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from iamd.errors import AwsError
from iamd.http.console import pages
from iamd.http.console.as_user import AsUser, Section, bar
from iamd.http.console.credentials_page import when
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession

POLICIES_PAGE = f"{pages.PREFIX}/policies"
POLICY_PAGE = f"{pages.PREFIX}/policy"
POLICY_EDITOR = f"{pages.PREFIX}/policies/new"
_PAGE_SIZE = "50"


def _query(request: HttpRequest) -> dict[str, str]:
    try:
        return dict(parse_qsl(request.raw_query.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        return {}


class PolicyPages:
    def __init__(self, pipeline: AwsPipeline) -> None:
        self._pipeline = pipeline

    def policies(
        self, request: HttpRequest, session: ConsoleSession, credential: ResolvedCredential
    ) -> HttpResponse:
        call = AsUser(self._pipeline, request, credential, session)
        marker = _query(request).get("marker", "")[:320]

        def read(c: AsUser) -> dict[str, Any]:
            params = {"Scope": "Local", "MaxItems": _PAGE_SIZE}
            if marker:
                params["Marker"] = marker
            found = c("ListPolicies", **params)
            return {
                "rows": [
                    {
                        "name": p["PolicyName"],
                        "arn": p["Arn"],
                        "attachments": p.get("AttachmentCount", 0),
                        "updated": when(p.get("UpdateDate")),
                    }
                    for p in found["Policies"]
                ],
                "next": found.get("Marker") if found.get("IsTruncated") else None,
            }

        return pages.render(
            200, "policies.html", title="Policies", **bar(session), listing=call.section(read)
        )

    def policy(
        self,
        request: HttpRequest,
        session: ConsoleSession,
        credential: ResolvedCredential,
        fields: Mapping[str, str] | None,
    ) -> HttpResponse:
        arn = ((fields or {}).get("arn") or _query(request).get("arn", "")).strip()[:2048]
        call = AsUser(self._pipeline, request, credential, session)
        problem = done = None
        status = 200
        if fields is not None:
            done, problem, status = pages.attempt(lambda: _act(call, arn, fields))
            if done == "deleted":
                return pages.redirect(POLICIES_PAGE)
        policy = call.section(lambda c: c("GetPolicy", PolicyArn=arn)["Policy"])
        versions: Section = Section(data=[])
        attached: Section = Section(data={})
        document = shown = ""
        if policy.data is not None:
            versions = call.section(lambda c: _versions(c, arn))
            attached = call.section(lambda c: _attached(c, arn))
            shown = _query(request).get("version", "")[:128] if fields is None else ""
            shown = shown or policy.data.get("DefaultVersionId", "")
            try:
                text = call("GetPolicyVersion", PolicyArn=arn, VersionId=shown)["PolicyVersion"][
                    "Document"
                ]
                document = _pretty(text)
            except AwsError as error:
                problem, status = error.message or error.code, 404
        return pages.render(
            status if policy.data is not None or fields is not None else 404,
            "policy.html",
            title=f"Policy {policy.data['PolicyName']}" if policy.data else "Policy",
            **bar(session),
            problem=problem,
            done=done,
            arn=arn,
            policy=policy,
            versions=versions,
            attached=attached,
            document=document,
            shown=shown,
            new_version=f"{POLICY_EDITOR}?{urlencode({'target': 'version', 'arn': arn})}",
        )


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def _versions(call: AsUser, arn: str) -> list[dict[str, Any]]:
    found = call("ListPolicyVersions", PolicyArn=arn)["Versions"]
    return [
        {"id": v["VersionId"], "default": v["IsDefaultVersion"], "created": when(v["CreateDate"])}
        for v in found
    ]


def _attached(call: AsUser, arn: str) -> dict[str, list[str]]:
    found = call("ListEntitiesForPolicy", PolicyArn=arn)
    return {
        "users": [u["UserName"] for u in found.get("PolicyUsers", [])],
        "groups": [g["GroupName"] for g in found.get("PolicyGroups", [])],
        "roles": [r["RoleName"] for r in found.get("PolicyRoles", [])],
    }


def _act(call: AsUser, arn: str, fields: Mapping[str, str]) -> str:
    action = fields.get("action", "")
    value = fields.get("value", "").strip()[:128]
    actions: dict[str, Callable[[], Any]] = {
        "set-default": lambda: call("SetDefaultPolicyVersion", PolicyArn=arn, VersionId=value),
        "delete-version": lambda: call("DeletePolicyVersion", PolicyArn=arn, VersionId=value),
        "detach-user": lambda: call("DetachUserPolicy", PolicyArn=arn, UserName=value),
        "detach-group": lambda: call("DetachGroupPolicy", PolicyArn=arn, GroupName=value),
        "detach-role": lambda: call("DetachRolePolicy", PolicyArn=arn, RoleName=value),
        "delete-policy": lambda: call("DeletePolicy", PolicyArn=arn),
    }
    run = actions.get(action)
    if run is None:
        raise ValueError("Unknown action. Nothing was changed.")
    run()
    if action == "delete-policy":
        return "deleted"
    return "Done: " + action.replace("-", " ") + (f" {value}" if value else "")

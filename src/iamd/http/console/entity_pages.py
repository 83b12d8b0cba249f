"""Groups and roles for an administrator: the lists (`/console/groups`,
`/console/roles`: create, delete) and one group's or role's page (`/console/group?name=`,
`/console/role?name=`): a group's members (add, remove), a role's description, maximum
session duration and trust policy (edited in the policy editor), and for both their
managed policies (attach from a picker, detach), inline policies and the delete button
(AWS's DeleteConflict shown until they are detached and deleted).

Every read and action is the IAM operation, run as the signed-in user (or its role).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from iamd.http.console import attachments, pages
from iamd.http.console.admin_pages import GROUPS_PAGE, ROLES_PAGE, read_groups, read_roles
from iamd.http.console.as_user import AsUser, Section, bar
from iamd.http.console.credentials_page import when
from iamd.http.console.editor_targets import TRUST_TEMPLATE
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession

GROUP_PAGE = f"{pages.PREFIX}/group"
ROLE_PAGE = f"{pages.PREFIX}/role"
_MAX_DOCUMENT = 131_072


def _query(request: HttpRequest) -> dict[str, str]:
    try:
        return dict(parse_qsl(request.raw_query.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


class EntityPages:
    def __init__(self, pipeline: AwsPipeline) -> None:
        self._pipeline = pipeline

    # -- the lists ---------------------------------------------------------------------

    def listing(
        self,
        path: str,
        request: HttpRequest,
        session: ConsoleSession,
        credential: ResolvedCredential,
        fields: Mapping[str, str] | None,
    ) -> HttpResponse:
        call = AsUser(self._pipeline, request, credential, session)
        roles = path == ROLES_PAGE
        problem = done = None
        status = 200
        if fields is not None:
            done, problem, status = pages.attempt(lambda: _list_action(call, roles, fields))
        marker = _query(request).get("marker", "")[:320] or None
        listing = call.section(lambda c: read_roles(c, marker) if roles else read_groups(c, marker))
        return pages.render(
            status,
            "roles.html" if roles else "groups.html",
            title="Roles" if roles else "Groups",
            **bar(session),
            problem=problem,
            done=done,
            listing=listing,
            values=fields or {},
            trust_template=TRUST_TEMPLATE.format(account=session.account_id),
        )

    # -- one group or role -------------------------------------------------------------

    def entity(
        self,
        path: str,
        request: HttpRequest,
        session: ConsoleSession,
        credential: ResolvedCredential,
        fields: Mapping[str, str] | None,
    ) -> HttpResponse:
        kind = "role" if path == ROLE_PAGE else "group"
        name = ((fields or {}).get("name") or _query(request).get("name", "")).strip()[:128]
        call = AsUser(self._pipeline, request, credential, session)
        problem = done = None
        status = 200
        if fields is not None:
            done, problem, status = pages.attempt(lambda: _entity_action(call, kind, name, fields))
            if done == "deleted":
                return pages.redirect(ROLES_PAGE if kind == "role" else GROUPS_PAGE)
        read: Callable[[AsUser], Any] = (
            (lambda c: _role(c, name)) if kind == "role" else (lambda c: _group(c, name))
        )
        entity = call.section(read)
        if entity.denied is not None and not name:
            entity = Section(denied=f"Name a {kind}.")
        picker = attachments.picker_wanted(_query(request), fields)
        policies = attachments.sections(call, kind, name, picker) if entity.data is not None else {}
        return pages.render(
            status if entity.data is not None or fields is not None else 404,
            f"{kind}.html",
            title=f"{kind.capitalize()} {name}" if name else kind.capitalize(),
            **bar(session),
            problem=problem,
            done=done,
            name=name,
            entity=entity,
            policies=policies,
            page_path=path[len(pages.PREFIX) :],
            new_inline=attachments.editor_link(kind, name),
        )


def _list_action(call: AsUser, roles: bool, fields: Mapping[str, str]) -> str:
    action = fields.get("action", "")
    name = fields.get("name", "").strip()[:128]
    if action == "create-group" and not roles:
        call("CreateGroup", GroupName=name)
        return f"Group {name} was created."
    if action == "delete-group" and not roles:
        call("DeleteGroup", GroupName=name)
        return f"Group {name} was deleted."
    if action == "create-role" and roles:
        params = {
            "RoleName": name,
            "AssumeRolePolicyDocument": fields.get("trust", "")[:_MAX_DOCUMENT],
        }
        description = fields.get("description", "").strip()[:1000]
        if description:
            params["Description"] = description
        call("CreateRole", **params)
        return f"Role {name} was created."
    if action == "delete-role" and roles:
        call("DeleteRole", RoleName=name)
        return f"Role {name} was deleted."
    raise ValueError("Unknown action. Nothing was changed.")


def _entity_action(call: AsUser, kind: str, name: str, fields: Mapping[str, str]) -> str:
    action = fields.get("action", "")
    value = fields.get("value", "").strip()[:2048]
    done = attachments.act(call, attachments.KINDS[kind], name, action, value)
    if done is not None:
        return done
    if kind == "group" and action == "add-user":
        call("AddUserToGroup", GroupName=name, UserName=value)
        return f"User {value} was added to the group."
    if kind == "group" and action == "remove-user":
        call("RemoveUserFromGroup", GroupName=name, UserName=value)
        return f"User {value} was removed from the group."
    if kind == "group" and action == "delete":
        call("DeleteGroup", GroupName=name)
        return "deleted"
    if kind == "role" and action == "update-role":
        duration = fields.get("max_session_duration", "").strip()[:10]
        params = {"RoleName": name, "Description": fields.get("description", "")[:1000]}
        if duration:
            params["MaxSessionDuration"] = duration
        call("UpdateRole", **params)
        return "The role's settings were saved."
    if kind == "role" and action == "delete":
        call("DeleteRole", RoleName=name)
        return "deleted"
    raise ValueError("Unknown action. Nothing was changed.")


def _group(call: AsUser, name: str) -> dict[str, Any]:
    found = call("GetGroup", GroupName=name)
    group = found["Group"]
    return {
        "arn": group["Arn"],
        "created": when(group.get("CreateDate")),
        "members": [u["UserName"] for u in found.get("Users", [])],
    }


def _role(call: AsUser, name: str) -> dict[str, Any]:
    role = call("GetRole", RoleName=name)["Role"]
    trust = role.get("AssumeRolePolicyDocument") or ""
    with contextlib.suppress(ValueError):  # else shown as stored
        trust = json.dumps(json.loads(trust), indent=2)
    return {
        "arn": role["Arn"],
        "created": when(role.get("CreateDate")),
        "description": role.get("Description", ""),
        "max_session_duration": role.get("MaxSessionDuration", 3600),
        "trust": trust,
    }

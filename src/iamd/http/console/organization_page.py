"""The organization's accounts (`/console/organization`), read-only, for the
organization's management account: its accounts (ListAccounts) and its tree of
organizational units from the root (ListRoots, ListOrganizationalUnitsForParent,
ListAccountsForParent). Each is the Organizations operation run as the signed-in user
(or its role), so its policies and the organization decide what is shown; an account
that is in no organization, or is a member, is told so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iamd.errors import AwsError
from iamd.http.console import pages
from iamd.http.console.as_user import bar
from iamd.http.console.credentials_page import when
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession

ORGANIZATION_PAGE = f"{pages.PREFIX}/organization"
#: AWS allows five levels of OUs under the root; deeper is not walked.
_MAX_DEPTH = 5
#: Pages of each listing read at most (20 items each, the Organizations default).
_MAX_PAGES = 50

Call = Callable[[str, dict[str, Any]], dict[str, Any]]


class OrganizationPage:
    def __init__(self, pipeline: AwsPipeline) -> None:
        self._pipeline = pipeline

    def __call__(
        self, request: HttpRequest, session: ConsoleSession, credential: ResolvedCredential
    ) -> HttpResponse:
        def call(operation: str, body: dict[str, Any]) -> dict[str, Any]:
            found = self._pipeline.run_json_as(
                request, credential, "organizations", operation, body
            )
            return found or {}

        values: dict[str, Any] = {"problem": None, "organization": None}
        status = 200
        try:
            organization = call("DescribeOrganization", {})["Organization"]
            caller_account = credential.caller.account_id
            if organization.get("MasterAccountId") != caller_account:
                values["problem"] = (
                    f"Account {caller_account} is a member of organization "
                    f"{organization.get('Id', '')}: its accounts are shown to its management "
                    f"account, {organization.get('MasterAccountId', '')}."
                )
            else:
                values["organization"] = organization
                values["accounts"] = [
                    _account(a) for a in _all(call, "ListAccounts", {}, "Accounts")
                ]
                values["tree"] = [
                    _unit(call, root, "root", 0) for root in _all(call, "ListRoots", {}, "Roots")
                ]
        except AwsError as error:
            values["problem"] = error.message or error.code
            status = 400 if error.status < 500 else 500
        return pages.render(
            status, "organization.html", title="Organization", **bar(session), **values
        )


def _all(call: Call, operation: str, body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    token = None
    for _ in range(_MAX_PAGES):
        found = call(operation, {**body, "NextToken": token} if token else body)
        rows.extend(found.get(key, []))
        token = found.get("NextToken")
        if not token:
            break
    return rows


def _account(account: dict[str, Any]) -> dict[str, str]:
    return {
        "id": account.get("Id", ""),
        "name": account.get("Name", ""),
        "email": account.get("Email", ""),
        "status": account.get("Status", ""),
        "joined": when(account.get("JoinedTimestamp")),
    }


def _unit(call: Call, node: dict[str, Any], kind: str, depth: int) -> dict[str, Any]:
    """A root or OU with its accounts and the OUs under it, to AWS's depth."""
    parent = {"ParentId": node["Id"]}
    children = []
    if depth < _MAX_DEPTH:
        children = [
            _unit(call, unit, "ou", depth + 1)
            for unit in _all(
                call, "ListOrganizationalUnitsForParent", parent, "OrganizationalUnits"
            )
        ]
    return {
        "id": node["Id"],
        "name": node.get("Name", ""),
        "kind": kind,
        "accounts": [_account(a) for a in _all(call, "ListAccountsForParent", parent, "Accounts")],
        "children": children,
    }

"""The policies of a user, group or role on its console page: the managed policies
attached to it (attach one from a picker over ListPolicies, AWS managed and customer
managed; detach), and its inline policies (written in the policy editor; delete).

Each read and action is the IAM operation for that kind of entity, run as the
signed-in user: `AttachGroupPolicy` for a group, `DeleteRolePolicy` for a role's
inline policy, and so on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from iamd.http.console import pages
from iamd.http.console.as_user import AsUser

POLICY_EDITOR = f"{pages.PREFIX}/policies/new"
#: ListPolicies' largest page, and how many pages the picker reads at most (the
#: account's PoliciesPerAccount quota is 1,500, AWS's managed policies are fewer).
_PICKER_PAGE = 1000
_PICKER_PAGES = 5


@dataclass(frozen=True, slots=True)
class Kind:
    """The IAM words for one kind of entity that policies are attached to."""

    noun: str  # User, Group, Role: the operations' names are built from it
    key: str  # UserName, GroupName, RoleName

    def op(self, verb: str, suffix: str = "Policy") -> str:
        """`op("Attach")` is AttachUserPolicy for a user."""
        return f"{verb}{self.noun}{suffix}"


KINDS = {
    "user": Kind("User", "UserName"),
    "group": Kind("Group", "GroupName"),
    "role": Kind("Role", "RoleName"),
}


def editor_link(kind: str, name: str, policy: str = "") -> str:
    """The policy editor, writing an inline policy of `name` (a new one, or `policy`)."""
    query = {"target": kind, "name": name}
    if policy:
        query["policy"] = policy
    return f"{POLICY_EDITOR}?{urlencode(query)}"


def attached(call: AsUser, kind: Kind, name: str) -> list[dict[str, str]]:
    found = call(kind.op("ListAttached", "Policies"), **{kind.key: name})["AttachedPolicies"]
    return [{"name": p["PolicyName"], "arn": p["PolicyArn"]} for p in found]


def inline(call: AsUser, kind: Kind, name: str) -> list[str]:
    found: list[str] = call(kind.op("List", "Policies"), **{kind.key: name})["PolicyNames"]
    return found


def choices(call: AsUser) -> list[dict[str, Any]]:
    """Every policy one may attach, AWS managed ones first (ListPolicies, Scope=All)."""
    rows: list[dict[str, Any]] = []
    marker = ""
    for _ in range(_PICKER_PAGES):
        params = {"Scope": "All", "MaxItems": str(_PICKER_PAGE)}
        if marker:
            params["Marker"] = marker
        found = call("ListPolicies", **params)
        rows.extend(
            {
                "arn": p["Arn"],
                "name": p["PolicyName"],
                "aws": p["Arn"].startswith("arn:aws:iam::aws:"),
            }
            for p in found["Policies"]
        )
        if not found.get("IsTruncated"):
            break
        marker = found.get("Marker", "")
    return sorted(rows, key=lambda r: (not r["aws"], r["name"].lower()))


def picker_wanted(query: Mapping[str, str], fields: Mapping[str, str] | None) -> bool:
    """Whether the page shows the picker: asked for by its link (`attach=1`), or the
    post was an attach (so a refused one can be tried again). Only then does the page
    read ListPolicies, the dearest of its reads."""
    if fields is not None:
        return fields.get("action") == "attach-policy"
    return query.get("attach") == "1"


def sections(call: AsUser, kind_key: str, name: str, picker: bool) -> dict[str, Any]:
    """What forms.html's entity_policies shows: attached, inline (each with its editor
    link) and the picker's choices (None: not asked for), each a Section, and the
    link that asks for the picker."""
    kind = KINDS[kind_key]
    return {
        "attached": call.section(lambda c: attached(c, kind, name)),
        "inline": call.section(
            lambda c: [
                {"name": policy, "edit": editor_link(kind_key, name, policy)}
                for policy in inline(c, kind, name)
            ]
        ),
        "choices": call.section(choices) if picker else None,
        "picker_link": f"?{urlencode({'name': name, 'attach': '1'})}#attached",
    }


def act(call: AsUser, kind: Kind, name: str, action: str, value: str) -> str | None:
    """Run a policy action on the entity; what it did, in words, or None when `action`
    is not a policy action."""
    if action == "attach-policy":
        if not value:
            raise ValueError("Choose a policy to attach. Nothing was changed.")
        call(kind.op("Attach"), **{kind.key: name, "PolicyArn": value})
        return f"Policy {value} was attached."
    if action == "detach-policy":
        call(kind.op("Detach"), **{kind.key: name, "PolicyArn": value})
        return f"Policy {value} was detached."
    if action == "delete-inline-policy":
        call(kind.op("Delete"), **{kind.key: name, "PolicyName": value})
        return f"Inline policy {value} was deleted."
    return None

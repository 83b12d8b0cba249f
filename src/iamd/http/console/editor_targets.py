"""What the policy editor writes its document to: a new customer managed policy
(CreatePolicy, the default), an inline policy of a user, group or role
(Put{User,Group,Role}Policy), a new version of a managed policy (CreatePolicyVersion,
made the default or not) or a role's trust policy (UpdateAssumeRolePolicy).

The target travels in the editor's URL (`?target=role&name=ci`) and then in its form's
hidden fields; the document it opens with is the one it will replace (GetUserPolicy,
the default version, the role's trust policy), read as the signed-in user.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from iamd.errors import AwsError
from iamd.http.console import pages
from iamd.http.console.as_user import AsUser
from iamd.http.console.attachments import KINDS
from iamd.policy import PolicyKind

TARGETS = ("", "user", "group", "role", "version", "trust")
_LINKS = {
    "user": f"{pages.PREFIX}/user?name=",
    "group": f"{pages.PREFIX}/group?name=",
    "role": f"{pages.PREFIX}/role?name=",
    "trust": f"{pages.PREFIX}/role?name=",
    "version": f"{pages.PREFIX}/policy?arn=",
}


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # one of TARGETS
    name: str  # the user, group or role; the policy's ARN for "version"
    policy: str = ""  # the inline policy's name, when editing one

    @property
    def policy_kind(self) -> PolicyKind:
        return PolicyKind.TRUST if self.kind == "trust" else PolicyKind.IDENTITY

    @property
    def names_policy(self) -> bool:
        """Whether the form asks for a policy name (a new policy, an inline policy)."""
        return self.kind in ("", "user", "group", "role")

    @property
    def hidden(self) -> dict[str, str]:
        return {"target": self.kind, "name_of": self.name} if self.kind else {}

    @property
    def title(self) -> str:
        if self.kind in KINDS:
            return f"Inline policy of {self.kind} {self.name}"
        if self.kind == "version":
            return "New version of " + self.name.rsplit("/", 1)[-1]
        if self.kind == "trust":
            return f"Trust policy of role {self.name}"
        return "Policy editor"

    @property
    def save_label(self) -> str:
        return {
            "": "Create policy",
            "version": "Save as a new version",
            "trust": "Update trust policy",
        }.get(self.kind, "Save inline policy")

    @property
    def back(self) -> tuple[str, str] | None:
        """The page the document belongs to: its link and words."""
        if not self.kind:
            return None
        return _LINKS[self.kind] + quote(self.name, safe=""), "Back to " + (
            "the policy" if self.kind == "version" else f"{self.name}"
        )


def target_of(values: Mapping[str, str]) -> Target:
    """The target named by a query (`target`, `name`, `arn`, `policy`) or by the
    editor's own form (`target`, `name_of`); an unknown one is a new policy."""
    kind = values.get("target", "")
    if kind not in TARGETS or not kind:
        return Target("", "")
    name = values.get("name_of") or values.get("arn") or values.get("name", "")
    return Target(kind, name.strip()[:2048], values.get("policy", "").strip()[:128])


def current_document(call: AsUser, target: Target) -> str | None:
    """The document the target holds now, pretty-printed; None for a new one (or one
    the user may not read: saving is what the policies decide)."""
    with contextlib.suppress(AwsError, KeyError):
        if target.kind in KINDS and target.policy:
            kind = KINDS[target.kind]
            found = call(kind.op("Get"), **{kind.key: target.name, "PolicyName": target.policy})
            return _pretty(found["PolicyDocument"])
        if target.kind == "version":
            policy = call("GetPolicy", PolicyArn=target.name)["Policy"]
            version = call(
                "GetPolicyVersion", PolicyArn=target.name, VersionId=policy["DefaultVersionId"]
            )
            return _pretty(version["PolicyVersion"]["Document"])
        if target.kind == "trust":
            role = call("GetRole", RoleName=target.name)["Role"]
            return _pretty(role["AssumeRolePolicyDocument"])
    return None


def save(
    call: AsUser, target: Target, policy_name: str, document: str, set_default: bool
) -> tuple[str, str | None]:
    """Write the document to the target: what was done, in words, and the new
    policy's ARN when one was created."""
    if target.kind in KINDS:
        kind = KINDS[target.kind]
        call(
            kind.op("Put"),
            **{kind.key: target.name, "PolicyName": policy_name, "PolicyDocument": document},
        )
        return f"Inline policy {policy_name} of {target.kind} {target.name} was saved.", None
    if target.kind == "version":
        made = call(
            "CreatePolicyVersion",
            PolicyArn=target.name,
            PolicyDocument=document,
            SetAsDefault="true" if set_default else "false",
        )["PolicyVersion"]
        default = " and made the default" if made.get("IsDefaultVersion") else ""
        return f"Version {made['VersionId']} was created{default}.", None
    if target.kind == "trust":
        call("UpdateAssumeRolePolicy", RoleName=target.name, PolicyDocument=document)
        return f"The trust policy of role {target.name} was updated.", None
    made = call("CreatePolicy", PolicyName=policy_name, PolicyDocument=document)["Policy"]
    return f"Policy {made['Arn']} was created.", made["Arn"]


def old_versions(call: AsUser, target: Target) -> list[str]:
    """The versions one may delete to make room for a new one (all but the default)."""
    if target.kind != "version":
        return []
    with contextlib.suppress(AwsError):
        found = call("ListPolicyVersions", PolicyArn=target.name)["Versions"]
        return [v["VersionId"] for v in found if not v["IsDefaultVersion"]]
    return []


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


TRUST_TEMPLATE = """{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Effect": "Allow",
      "Principal": {{"AWS": "arn:aws:iam::{account}:root"}},
      "Action": "sts:AssumeRole"
    }}
  ]
}}"""

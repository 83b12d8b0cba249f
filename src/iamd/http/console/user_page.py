"""One user, for an administrator (`/console/user?name=NAME`): its groups, policies
(attach from a picker, detach; inline ones written in the policy editor),
credentials, MFA devices, password and tags, each with the action that removes it, and
the delete button: the guided cleanup AWS's DeleteConflict asks for ("must delete
access keys first"). Every read and action is the IAM operation, run as the signed-in
user (or the role it switched to).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, quote

from iamd.errors import AwsError, NoSuchEntity
from iamd.http.console import attachments, pages
from iamd.http.console.as_user import AsUser, Section, bar
from iamd.http.console.credentials_page import GIT_SERVICE, when
from iamd.http.console.sessions_page import SessionsPage
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession

USER_PAGE = f"{pages.PREFIX}/user"


@dataclass(frozen=True, slots=True)
class Item:
    """Something the user holds: shown, and removed by `action` with `value`."""

    label: str
    action: str
    value: str


def user_link(name: str) -> str:
    return f"{USER_PAGE}?name={quote(name, safe='')}"


class UserPage:
    def __init__(self, pipeline: AwsPipeline, sessions: SessionsPage) -> None:
        self._pipeline = pipeline
        self._sessions = sessions

    def __call__(
        self,
        request: HttpRequest,
        token: str,
        session: ConsoleSession,
        credential: ResolvedCredential,
        fields: Mapping[str, str] | None,
    ) -> HttpResponse:
        try:
            query = dict(parse_qsl(request.raw_query.decode("utf-8")))
        except (UnicodeDecodeError, ValueError):
            query = {}
        name = (fields or {}).get("name") or query.get("name", "")
        name = name.strip()[:128]
        call = AsUser(self._pipeline, request, credential, session)
        problem = done = None
        new_key: dict[str, str] | None = None
        status = 200
        if fields is not None and fields.get("action") == "create-access-key":
            try:
                made = call("CreateAccessKey", UserName=name)["AccessKey"]
            except AwsError as error:
                problem, status = pages.refusal(error)
            else:
                new_key = {"id": made["AccessKeyId"], "secret": made["SecretAccessKey"]}
                done = "Access key created. This is the only time its secret is shown."
        elif fields is not None and fields.get("action") == "end-sessions":
            try:
                target = call("GetUser", UserName=name)["User"]
                done = self._sessions.end_of_user(request, credential, target, token)
            except AwsError as error:
                problem, status = pages.refusal(error)
        elif fields is not None:
            done, problem, status = pages.attempt(lambda: _act(call, name, fields))
            if done == "deleted":
                return pages.redirect(f"{pages.PREFIX}/users")
        user = call.section(lambda c: c("GetUser", UserName=name)["User"])
        if user.denied is not None and not name:
            user = Section(denied="Name a user.")
        sections: dict[str, Section] = {}
        policies: dict[str, Any] = {}
        console_sessions = Section(data=[])
        if user.data is not None:
            for key, read in _READS.items():
                sections[key] = call.section(partial(_read_for, read, name))
            picker = attachments.picker_wanted(query, fields)
            policies = attachments.sections(call, "user", name, picker)
            console_sessions = self._sessions.of_user(request, credential, user.data)
        return pages.render(
            status if user.data is not None or fields is not None else 404,
            "user.html",
            title=f"User {name}" if name else "User",
            **bar(session),
            problem=problem,
            done=done,
            name=name,
            user=user,
            created=when(user.data.get("CreateDate")) if user.data else "-",
            sections=sections,
            titles=_TITLES,
            new_key=new_key,
            policies=policies,
            console_sessions=console_sessions,
            new_inline=attachments.editor_link("user", name),
        )


def _read_for(read: Callable[[AsUser, str], list[Item]], name: str, call: AsUser) -> list[Item]:
    return read(call, name)


def _groups(call: AsUser, name: str) -> list[Item]:
    found = call("ListGroupsForUser", UserName=name)["Groups"]
    return [Item(g["GroupName"], "remove-from-group", g["GroupName"]) for g in found]


def _keys(call: AsUser, name: str) -> list[Item]:
    found = call("ListAccessKeys", UserName=name)["AccessKeyMetadata"]
    return [
        Item(f"{k['AccessKeyId']} ({k['Status']})", "delete-access-key", k["AccessKeyId"])
        for k in found
    ]


def _ssh(call: AsUser, name: str) -> list[Item]:
    found = call("ListSSHPublicKeys", UserName=name)["SSHPublicKeys"]
    return [
        Item(f"{k['SSHPublicKeyId']} ({k['Status']})", "delete-ssh-key", k["SSHPublicKeyId"])
        for k in found
    ]


def _git(call: AsUser, name: str) -> list[Item]:
    found = call("ListServiceSpecificCredentials", UserName=name, ServiceName=GIT_SERVICE)
    return [
        Item(c["ServiceUserName"], "delete-git-credential", c["ServiceSpecificCredentialId"])
        for c in found["ServiceSpecificCredentials"]
    ]


def _certificates(call: AsUser, name: str) -> list[Item]:
    found = call("ListSigningCertificates", UserName=name)["Certificates"]
    return [Item(c["CertificateId"], "delete-certificate", c["CertificateId"]) for c in found]


def _mfa(call: AsUser, name: str) -> list[Item]:
    found = call("ListMFADevices", UserName=name)["MFADevices"]
    return [Item(d["SerialNumber"], "deactivate-mfa", d["SerialNumber"]) for d in found]


def _password(call: AsUser, name: str) -> list[Item]:
    try:
        profile = call("GetLoginProfile", UserName=name)["LoginProfile"]
    except NoSuchEntity:
        return []
    label = "Console password" + (
        " (must be changed at next sign-in)" if profile.get("PasswordResetRequired") else ""
    )
    return [Item(label, "delete-login-profile", name)]


def _tags(call: AsUser, name: str) -> list[Item]:
    found = call("ListUserTags", UserName=name)["Tags"]
    return [Item(f"{t['Key']} = {t['Value']}", "untag", t["Key"]) for t in found]


_READS: dict[str, Callable[[AsUser, str], list[Item]]] = {
    "groups": _groups,
    "keys": _keys,
    "ssh": _ssh,
    "git": _git,
    "certificates": _certificates,
    "mfa": _mfa,
    "password": _password,
    "tags": _tags,
}
_TITLES = {
    "groups": "Groups",
    "keys": "Access keys",
    "ssh": "SSH public keys",
    "git": "HTTPS Git credentials",
    "certificates": "Signing certificates",
    "mfa": "MFA devices",
    "password": "Console password",
    "tags": "Tags",
}


def _set_password(call: AsUser, name: str, fields: Mapping[str, str]) -> None:
    """A console password for the user: CreateLoginProfile, or UpdateLoginProfile when
    it has one; the account's password policy applies either way."""
    password = fields.get("password", "")
    if password != fields.get("confirm_password", ""):
        raise ValueError("The passwords do not match. Nothing was changed.")
    reset = "true" if fields.get("reset_required") else "false"
    try:
        call("GetLoginProfile", UserName=name)
    except NoSuchEntity:
        call("CreateLoginProfile", UserName=name, Password=password, PasswordResetRequired=reset)
    else:
        call("UpdateLoginProfile", UserName=name, Password=password, PasswordResetRequired=reset)


def _act(call: AsUser, name: str, fields: Mapping[str, str]) -> str:
    """Run the posted action on user `name`; what it did, in words."""
    action = fields.get("action", "")
    value = fields.get("value", "").strip()[:2048]
    one: dict[str, Callable[[], Any]] = {
        "remove-from-group": lambda: call("RemoveUserFromGroup", UserName=name, GroupName=value),
        "add-to-group": lambda: call("AddUserToGroup", UserName=name, GroupName=value),
        "delete-access-key": lambda: call("DeleteAccessKey", UserName=name, AccessKeyId=value),
        "delete-ssh-key": lambda: call("DeleteSSHPublicKey", UserName=name, SSHPublicKeyId=value),
        "delete-git-credential": lambda: call(
            "DeleteServiceSpecificCredential", UserName=name, ServiceSpecificCredentialId=value
        ),
        "delete-certificate": lambda: call(
            "DeleteSigningCertificate", UserName=name, CertificateId=value
        ),
        "deactivate-mfa": lambda: call("DeactivateMFADevice", UserName=name, SerialNumber=value),
        "delete-login-profile": lambda: call("DeleteLoginProfile", UserName=name),
        "untag": lambda: call("UntagUser", UserName=name, **{"TagKeys.member.1": value}),
        "tag": lambda: call(
            "TagUser",
            UserName=name,
            **{
                "Tags.member.1.Key": value,
                "Tags.member.1.Value": fields.get("tag_value", "")[:256],
            },
        ),
        "delete-user": lambda: call("DeleteUser", UserName=name),
        "set-password": lambda: _set_password(call, name, fields),
    }
    policies = attachments.act(call, attachments.KINDS["user"], name, action, value)
    if policies is not None:
        return policies
    run = one.get(action)
    if run is None:
        raise ValueError("Unknown action. Nothing was changed.")
    run()
    if action == "delete-user":
        return "deleted"
    if action == "set-password":
        return "The console password was set."
    return "Done: " + action.replace("-", " ") + (f" {value}" if value and value != name else "")

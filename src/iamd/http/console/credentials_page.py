"""My security credentials (`/console/security-credentials`): what AWS's page offers,
each part read and changed by the IAM operation itself, run as the signed-in user.

Every section is one or more operations through `AwsPipeline.run_as`, so the user's
policies decide what the page can do: a section whose read is refused shows AWS's
AccessDenied message in its place, and an action that is refused shows it above the
page, having changed nothing. Secrets (a new access key's secret, an HTTPS git
password) are shown in the answer to the action that created them, never again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iamd.errors import AwsError, EntityAlreadyExists
from iamd.http.console import pages
from iamd.http.console.as_user import AsUser, bar
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession
from iamd.services.container import Services
from iamd.services.password_rules import DEFAULT_MINIMUM_LENGTH

GIT_SERVICE = "codecommit.amazonaws.com"
_STATUSES = ("Active", "Inactive")


@dataclass(slots=True)
class Notice:
    """What the last action did (or why it did nothing), shown above the page."""

    problem: str | None = None
    done: str | None = None
    # Shown once: a new access key with its secret, an HTTPS git password, a device.
    access_key: dict[str, str] | None = None
    git_credential: dict[str, str] | None = None
    mfa_setup: dict[str, str] | None = None


class CredentialsPage:
    def __init__(self, services: Services, pipeline: AwsPipeline) -> None:
        self._services = services
        self._pipeline = pipeline
        self._actions: dict[str, Action] = {
            "change-password": _change_password,
            "create-access-key": _create_access_key,
            "update-access-key": _status_change(
                "UpdateAccessKey",
                "AccessKeyId",
                "Access key {id} is now {status}.",
                of_user=False,
            ),
            "delete-access-key": _deletion(
                "DeleteAccessKey", "AccessKeyId", "Access key {id} was deleted.", of_user=False
            ),
            "upload-ssh-key": _upload_ssh_key,
            "update-ssh-key": _status_change(
                "UpdateSSHPublicKey", "SSHPublicKeyId", "SSH public key {id} is now {status}."
            ),
            "delete-ssh-key": _deletion(
                "DeleteSSHPublicKey", "SSHPublicKeyId", "SSH public key {id} was deleted."
            ),
            "create-mfa": _create_mfa,
            "enable-mfa": _enable_mfa,
            "resync-mfa": _resync_mfa,
            "remove-mfa": _remove_mfa,
            "create-git-credential": _create_git_credential,
            "reset-git-credential": _reset_git_credential,
            "update-git-credential": _status_change(
                "UpdateServiceSpecificCredential",
                "ServiceSpecificCredentialId",
                "The HTTPS Git credentials are now {status}.",
            ),
            "delete-git-credential": _deletion(
                "DeleteServiceSpecificCredential",
                "ServiceSpecificCredentialId",
                "The HTTPS Git credentials were deleted.",
            ),
            "upload-certificate": _upload_certificate,
            "update-certificate": _status_change(
                "UpdateSigningCertificate",
                "CertificateId",
                "The signing certificate is now {status}.",
            ),
            "delete-certificate": _deletion(
                "DeleteSigningCertificate", "CertificateId", "The signing certificate was deleted."
            ),
        }

    def show(
        self,
        request: HttpRequest,
        session: ConsoleSession,
        credential: ResolvedCredential,
        *,
        problem: str | None = None,
        status: int = 200,
        notice: Notice | None = None,
    ) -> HttpResponse:
        notice = notice or Notice(problem=problem)
        call = AsUser(self._pipeline, request, credential, session)
        account = self._services.in_account(session.account_id)
        values: dict[str, Any] = {
            "title": "My security credentials",
            **bar(session),
            "user_arn": credential.caller.arn,
            "notice": notice,
            "user": call.section(_user),
            "policy_rules": _rules(account),
            "access_keys": call.section(_access_keys),
            "ssh_keys": call.section(_ssh_keys),
            "ssh_clone_example": self._clone_example(account),
            "mfa_devices": call.section(_mfa_devices),
            "git_credentials": call.section(_git_credentials),
            "certificates": call.section(_certificates),
            "statuses": _STATUSES,
        }
        return pages.render(status, "credentials.html", **values)

    def act(
        self,
        request: HttpRequest,
        session: ConsoleSession,
        credential: ResolvedCredential,
        fields: dict[str, str],
    ) -> HttpResponse:
        action = self._actions.get(fields.get("action", ""))
        if action is None:
            return self.show(
                request,
                session,
                credential,
                problem="Unknown action. Nothing was changed.",
                status=400,
            )
        notice = Notice()
        status = 200
        try:
            action(AsUser(self._pipeline, request, credential, session), fields, notice)
        except AwsError as error:
            notice.problem = error.message or error.code
            status = 400 if error.status < 500 else error.status
        if notice.problem is not None and status == 200:
            status = 400
        return self.show(request, session, credential, notice=notice, status=status)

    def _clone_example(self, account: Services) -> str:
        # The host and port iamd reports as cloneUrlSsh; the key id is the SSH user.
        return account.clone_urls.ssh("REPOSITORY").replace("ssh://", "ssh://{id}@", 1)


# -- reads ------------------------------------------------------------------------------


def when(moment: Any) -> str:
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return "-"


def _user(call: AsUser) -> dict[str, str]:
    user = call("GetUser")["User"]
    return {
        "name": user["UserName"],
        "arn": user["Arn"],
        "created": when(user.get("CreateDate")),
        "password_last_used": when(user.get("PasswordLastUsed")),
    }


def _rules(account: Services) -> list[str]:
    """The account's password rules in words. Shown to everyone who may change their
    password (as AWS's change-password page does), whether or not they may read the
    policy itself with GetAccountPasswordPolicy; ChangePassword enforces them."""
    policy = account.passwords.current_policy()
    if policy is None:
        # AWS's default policy (services/password_rules.py).
        return [
            f"At least {DEFAULT_MINIMUM_LENGTH} characters (no account password policy is "
            "set: AWS's default applies).",
            "At least three of: uppercase letters, lowercase letters, numbers, symbols.",
            "Not the account's ID or alias.",
        ]
    rules = [f"At least {policy.minimum_password_length} characters."]
    for flag, words in (
        (policy.require_uppercase_characters, "an uppercase letter (A-Z)"),
        (policy.require_lowercase_characters, "a lowercase letter (a-z)"),
        (policy.require_numbers, "a number (0-9)"),
        (policy.require_symbols, "a symbol such as ! @ # $ %"),
    ):
        if flag:
            rules.append(f"At least one {words}.")
    if policy.password_reuse_prevention:
        rules.append(f"Not one of your last {policy.password_reuse_prevention} passwords.")
    if policy.max_password_age:
        rules.append(f"Expires after {policy.max_password_age} days.")
    return rules


def _access_keys(call: AsUser) -> list[dict[str, str]]:
    keys = call("ListAccessKeys")["AccessKeyMetadata"]
    rows = []
    for key in keys:
        row = {
            "id": key["AccessKeyId"],
            "status": key["Status"],
            "created": when(key.get("CreateDate")),
            "last_used": "-",
            "service": "-",
            "region": "-",
        }
        try:
            used = call("GetAccessKeyLastUsed", AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        except AwsError as error:
            row["last_used"] = error.message or error.code
        else:
            row["last_used"] = (
                when(used.get("LastUsedDate")) if used.get("LastUsedDate") else "Never"
            )
            row["service"] = used.get("ServiceName", "N/A")
            row["region"] = used.get("Region", "N/A")
        rows.append(row)
    return rows


def _ssh_keys(call: AsUser) -> list[dict[str, str]]:
    return [
        {"id": key["SSHPublicKeyId"], "status": key["Status"], "uploaded": when(key["UploadDate"])}
        for key in call("ListSSHPublicKeys")["SSHPublicKeys"]
    ]


def _mfa_devices(call: AsUser) -> list[dict[str, str]]:
    return [
        {"serial": device["SerialNumber"], "enabled": when(device.get("EnableDate"))}
        for device in call("ListMFADevices")["MFADevices"]
    ]


def _git_credentials(call: AsUser) -> list[dict[str, str]]:
    found = call("ListServiceSpecificCredentials", ServiceName=GIT_SERVICE)
    return [
        {
            "id": item["ServiceSpecificCredentialId"],
            "user": item["ServiceUserName"],
            "status": item["Status"],
            "created": when(item.get("CreateDate")),
        }
        for item in found["ServiceSpecificCredentials"]
    ]


def _certificates(call: AsUser) -> list[dict[str, str]]:
    return [
        {
            "id": cert["CertificateId"],
            "status": cert["Status"],
            "uploaded": when(cert["UploadDate"]),
        }
        for cert in call("ListSigningCertificates")["Certificates"]
    ]


# -- actions ----------------------------------------------------------------------------


def _field(fields: Mapping[str, str], name: str, limit: int = 256) -> str:
    return fields.get(name, "").strip()[:limit]


def _status(fields: Mapping[str, str]) -> str:
    # Anything but the two statuses goes to the operation, which refuses it.
    return _field(fields, "status", 16)


Action = Callable[[AsUser, dict[str, str], Notice], None]


def _owned(call: AsUser, of_user: bool) -> dict[str, str]:
    # The access-key operations name no user: the caller's own keys.
    return {"UserName": call.user_name} if of_user else {}


def _status_change(operation: str, id_param: str, done: str, *, of_user: bool = True) -> Action:
    """Activate or deactivate one of the user's credentials; `done` has `{id}` and
    `{status}` slots."""

    def act(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
        item_id = _field(fields, "id", 128)
        status = _status(fields)
        call(operation, **_owned(call, of_user), **{id_param: item_id}, Status=status)
        notice.done = done.format(id=item_id, status=status.lower())

    return act


def _deletion(operation: str, id_param: str, done: str, *, of_user: bool = True) -> Action:
    """Delete one of the user's credentials; `done` has an `{id}` slot."""

    def act(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
        item_id = _field(fields, "id", 128)
        call(operation, **_owned(call, of_user), **{id_param: item_id})
        notice.done = done.format(id=item_id)

    return act


def _change_password(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
    new = fields.get("new_password", "")
    if new != fields.get("confirm_password", ""):
        notice.problem = "The new passwords do not match. Nothing was changed."
        return
    call("ChangePassword", OldPassword=fields.get("old_password", ""), NewPassword=new)
    notice.done = "Your password was changed."


def _create_access_key(call: AsUser, _fields: dict[str, str], notice: Notice) -> None:
    key = call("CreateAccessKey")["AccessKey"]
    csv = f"Access key ID,Secret access key\n{key['AccessKeyId']},{key['SecretAccessKey']}\n"
    notice.access_key = {
        "id": key["AccessKeyId"],
        "secret": key["SecretAccessKey"],
        "csv": "data:text/csv;base64," + base64.b64encode(csv.encode()).decode("ascii"),
        "csv_name": f"{call.user_name}_accessKeys.csv",
    }
    notice.done = "Access key created. This is the only time the secret access key is shown."


def _upload_ssh_key(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
    body = fields.get("key_file", "").strip() or fields.get("key_text", "").strip()
    if not body:
        notice.problem = "Choose a public key file or paste a public key. Nothing was uploaded."
        return
    key = call("UploadSSHPublicKey", UserName=call.user_name, SSHPublicKeyBody=body)
    key_id = key["SSHPublicKey"]["SSHPublicKeyId"]
    notice.done = f"SSH public key uploaded. Its SSH key ID, your SSH user name, is {key_id}."


def _create_mfa(call: AsUser, _fields: dict[str, str], notice: Notice) -> None:
    name = call.user_name
    try:
        created = call("CreateVirtualMFADevice", VirtualMFADeviceName=name)
    except EntityAlreadyExists:
        # A device left unassigned by an earlier, unfinished set-up: its seed was shown
        # once and is gone, so it is replaced (an assigned one refuses with DeleteConflict).
        call("DeleteVirtualMFADevice", SerialNumber=f"arn:aws:iam::{call.account_id}:mfa/{name}")
        created = call("CreateVirtualMFADevice", VirtualMFADeviceName=name)
    device = created["VirtualMFADevice"]
    notice.mfa_setup = {
        "serial": device["SerialNumber"],
        "seed": bytes(device["Base32StringSeed"]).decode("ascii"),
        "qr": "data:image/png;base64," + base64.b64encode(bytes(device["QRCodePNG"])).decode(),
    }


def _codes(fields: Mapping[str, str]) -> tuple[str, str]:
    return _field(fields, "code1", 16), _field(fields, "code2", 16)


def _enable_mfa(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
    code1, code2 = _codes(fields)
    call(
        "EnableMFADevice",
        UserName=call.user_name,
        SerialNumber=_field(fields, "serial", 256),
        AuthenticationCode1=code1,
        AuthenticationCode2=code2,
    )
    notice.done = "The MFA device is assigned. Sign in with a code from it from now on."


def _resync_mfa(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
    code1, code2 = _codes(fields)
    call(
        "ResyncMFADevice",
        UserName=call.user_name,
        SerialNumber=_field(fields, "serial", 256),
        AuthenticationCode1=code1,
        AuthenticationCode2=code2,
    )
    notice.done = "The MFA device was resynchronized."


def _remove_mfa(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
    serial = _field(fields, "serial", 256)
    call("DeactivateMFADevice", UserName=call.user_name, SerialNumber=serial)
    if serial.startswith("arn:"):
        call("DeleteVirtualMFADevice", SerialNumber=serial)
    notice.done = "The MFA device was removed."


def _git_shown(notice: Notice, item: Mapping[str, Any]) -> None:
    notice.git_credential = {
        "user": item["ServiceUserName"],
        "password": item["ServicePassword"],
    }


def _create_git_credential(call: AsUser, _fields: dict[str, str], notice: Notice) -> None:
    made = call("CreateServiceSpecificCredential", UserName=call.user_name, ServiceName=GIT_SERVICE)
    _git_shown(notice, made["ServiceSpecificCredential"])
    notice.done = "HTTPS Git credentials created. This is the only time the password is shown."


def _reset_git_credential(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
    made = call(
        "ResetServiceSpecificCredential",
        UserName=call.user_name,
        ServiceSpecificCredentialId=_field(fields, "id", 128),
    )
    _git_shown(notice, made["ServiceSpecificCredential"])
    notice.done = "A new password was generated. This is the only time it is shown."


def _upload_certificate(call: AsUser, fields: dict[str, str], notice: Notice) -> None:
    body = fields.get("certificate_file", "").strip() or fields.get("certificate", "").strip()
    if not body:
        notice.problem = "Choose a certificate file or paste a PEM certificate."
        return
    made = call("UploadSigningCertificate", UserName=call.user_name, CertificateBody=body)
    notice.done = f"Signing certificate {made['Certificate']['CertificateId']} uploaded."

"""`iamd authorized-keys USER [FINGERPRINT]`: IAM SSH keys for OpenSSH's AuthorizedKeysCommand.

sshd runs it as `AuthorizedKeysCommand /path/to/iamd authorized-keys %u %f` on every
public-key login attempt. It prints the Active SSH public keys of the IAM user named
like the local account, one `authorized_keys` line each (`ssh-ed25519 AAAA...`), or only
the key whose SHA256 fingerprint is FINGERPRINT (sshd's `%f`, `SHA256:base64`).

Local account names map to IAM user names by the usual convention, because `+ = , @`
are legal in IAM names but awkward or illegal in local ones: `.plus.` -> `+`,
`.equal.` -> `=`, `.comma.` -> `,`, `.at.` -> `@` (so the local account
`jane.at.example.com` logs in with the keys of the IAM user `jane@example.com`).

It asks the IAM endpoint (iamd or AWS) with ListSSHPublicKeys (following Marker) and
GetSSHPublicKey (Encoding SSH), signed with SigV4 by botocore, with a credential that
should be allowed nothing but those two actions. It fails closed: when it cannot get a
trustworthy answer in time (server down, credential refused, malformed answer, anything
unexpected) it prints nothing, says why in one line on stderr and exits non-zero, so sshd
grants nothing through it.

Exit codes (sshd ignores the output of a command that exits non-zero):
  0  answered: the keys printed, or none (unknown user, a name that is not a valid IAM
     user name, no Active key, no key with that fingerprint), as sshd expects for
     "no keys for this user"
  1  no trustworthy answer (fail closed); the reason is on stderr
  2  usage error

This runs on every login attempt, so it must start fast: it imports only click and
botocore's credential chain and signer (lazily), never boto3, SQLAlchemy or the server,
and talks HTTP with the standard library instead of building a full botocore client
(which would load the IAM service model, about a quarter of a second).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import click

if TYPE_CHECKING:
    import http.client

IAM_API_VERSION = "2010-05-08"
STS_API_VERSION = "2011-06-15"
DEFAULT_ENDPOINT_URL = "http://127.0.0.1:4580"

# IAM's user name pattern ([\w+=,.@-]+ in the model, ASCII in practice), 1-64 chars.
_IAM_USER_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
_LOCAL_TO_IAM = ((".plus.", "+"), (".equal.", "="), (".comma.", ","), (".at.", "@"))
# Key types sshd accepts in authorized_keys that IAM (or iamd's `all` mode) stores.
_KEY_TYPES = frozenset(
    {
        "ssh-rsa",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
    }
)
_MAX_PAGES = 100  # IAM allows a handful of keys per user; more pages means a broken server


class LookupFailed(Exception):
    """No trustworthy answer: the command prints nothing and exits 1 (fail closed)."""


class UnknownUser(Exception):
    """The IAM user does not exist: no keys, which is an answer, not a failure."""


def iam_user_name(local_name: str) -> str | None:
    """The IAM user name for a local account name, or None when it cannot be one."""
    name = local_name
    for local, iam in _LOCAL_TO_IAM:
        name = name.replace(local, iam)
    return name if _IAM_USER_NAME.fullmatch(name) else None


def sha256_fingerprint(key_line: str) -> str:
    """OpenSSH's fingerprint of an `authorized_keys` line: `SHA256:` + unpadded base64."""
    blob = base64.b64decode(key_line.split()[1], validate=True)
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def authorized_key_line(body: str) -> str:
    """`type base64` rebuilt from a checked key, or LookupFailed.

    The line is rebuilt rather than echoed so that nothing the server sends (a comment,
    an `authorized_keys` option such as `command=`, a second line) can reach sshd.
    """
    if "\n" in body.strip() or "\r" in body:
        raise LookupFailed("the server sent a key of more than one line")
    fields = body.split()
    if len(fields) < 2 or fields[0] not in _KEY_TYPES:
        raise LookupFailed("the server sent a key that is not an SSH public key")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError):
        raise LookupFailed("the server sent a key whose base64 is malformed") from None
    # The blob starts with its own type as an SSH string; it must agree with the prefix.
    if len(blob) < 4 or blob[4 : 4 + int.from_bytes(blob[:4], "big")] != fields[0].encode():
        raise LookupFailed("the server sent a key whose type does not match its data")
    return f"{fields[0]} {base64.b64encode(blob).decode()}"


# _parse_note: answers are parsed with the standard library's ElementTree, not defusedxml
# (one more dependency on a path that must stay small): ElementTree never fetches external
# entities, the bundled expat (>= 2.4) refuses entity-expansion bombs, and answers are
# capped at 1 MiB before parsing. A server that lies gets LookupFailed, never keys.


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element: ElementTree.Element, name: str) -> str:
    child = _child(element, name)
    if child is None or child.text is None:
        raise LookupFailed(f"the server's answer has no {name}")
    return child.text.strip()


@dataclass
class IamClient:
    """IAM's query protocol over one HTTP(S) connection, signed with botocore's SigV4."""

    endpoint_url: str
    region: str
    credentials: Any  # botocore.credentials.ReadOnlyCredentials
    deadline: float  # time.monotonic() after which every call fails
    _connection: http.client.HTTPConnection | None = None
    # The same query protocol serves STS's GetCallerIdentity (--account).
    service: str = "iam"
    api_version: str = IAM_API_VERSION

    def call(self, action: str, params: dict[str, str]) -> ElementTree.Element:
        """The `<{action}Result>` element; UnknownUser or LookupFailed otherwise.

        One retry, only for a dropped connection or a 5xx/throttling answer, and only
        while the deadline allows it.
        """
        body = urllib.parse.urlencode({"Action": action, "Version": self.api_version, **params})
        for attempt in (1, 2):
            try:
                status, payload = self._send(body)
            except OSError as exc:  # refused, reset, timed out, TLS failures
                self._close()
                if attempt == 2 or self._remaining() <= 0:
                    raise LookupFailed(
                        f"cannot reach {self.endpoint_url}: {_reason(exc)}"
                    ) from None
                continue
            if status == 200:
                return self._result(action, payload)
            code, message = _error_of(payload)
            if code == "NoSuchEntity":
                raise UnknownUser(message)
            if (status >= 500 or code == "Throttling") and attempt == 1 and self._remaining() > 0:
                continue
            raise LookupFailed(f"{action} refused: HTTP {status} {code}: {message}")
        raise AssertionError("unreachable")

    def _send(self, body: str) -> tuple[int, bytes]:
        from botocore.auth import SigV4Auth  # noqa: PLC0415 - slow import, only on use
        from botocore.awsrequest import AWSRequest  # noqa: PLC0415

        remaining = self._remaining()
        if remaining <= 0:
            raise TimeoutError("the time allowed ran out")
        url = urllib.parse.urlsplit(self.endpoint_url)
        headers = {
            "Host": url.netloc,
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        request = AWSRequest(method="POST", url=self.endpoint_url, data=body, headers=headers)
        SigV4Auth(self.credentials, self.service, self.region).add_auth(request)
        if self._connection is None:
            self._connection = _connect(url, remaining)
        # The same bound covers connecting and every read: the whole command has one budget.
        self._connection.timeout = remaining
        if self._connection.sock is not None:
            self._connection.sock.settimeout(remaining)
        self._connection.request(
            "POST",
            url.path or "/",
            body=body.encode(),
            headers={name: str(value) for name, value in request.headers.items()},
        )
        response = self._connection.getresponse()
        # IAM's answers for one user's keys are small; a huge one is not IAM.
        payload = response.read(1 << 20)
        if not response.isclosed() and response.read(1):
            raise LookupFailed("the server's answer is too large")
        return response.status, payload

    def _result(self, action: str, payload: bytes) -> ElementTree.Element:
        try:
            root = ElementTree.fromstring(payload)  # noqa: S314 - see _parse_note
        except ElementTree.ParseError:
            raise LookupFailed(f"the server's {action} answer is not XML") from None
        result = _child(root, f"{action}Result")
        if _local(root.tag) != f"{action}Response" or result is None:
            raise LookupFailed(
                f"the server's {action} answer is not an {self.service.upper()} answer"
            )
        return result

    def _remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        self._close()


def _connect(url: urllib.parse.SplitResult, timeout: float) -> http.client.HTTPConnection:
    import http.client  # noqa: PLC0415

    if url.scheme == "http":
        return http.client.HTTPConnection(url.netloc, timeout=timeout)
    if url.scheme == "https":
        import os  # noqa: PLC0415
        import ssl  # noqa: PLC0415

        # AWS_CA_BUNDLE is how the AWS tools are pointed at a private CA.
        context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
        return http.client.HTTPSConnection(url.netloc, timeout=timeout, context=context)
    raise LookupFailed(f"the endpoint URL must be http:// or https://, not {url.scheme!r}")


def _error_of(payload: bytes) -> tuple[str, str]:
    """Code and message of an IAM error answer (placeholders when it is not one)."""
    try:
        root = ElementTree.fromstring(payload)  # noqa: S314 - see _parse_note
    except ElementTree.ParseError:
        return "(not XML)", ""
    error = _child(root, "Error")
    if error is None:
        return "(no error code)", ""
    code = _child(error, "Code")
    message = _child(error, "Message")
    return (
        (code.text or "").strip() if code is not None else "(no error code)",
        " ".join((message.text or "").split())[:300] if message is not None else "",
    )


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def active_keys(client: IamClient, user_name: str) -> Iterator[str]:
    """The `authorized_keys` lines of the user's Active keys; UnknownUser if no such user."""
    marker: str | None = None
    for _ in range(_MAX_PAGES):
        params = {"UserName": user_name}
        if marker is not None:
            params["Marker"] = marker
        result = client.call("ListSSHPublicKeys", params)
        keys = _child(result, "SSHPublicKeys")
        if keys is None:
            raise LookupFailed("the server's ListSSHPublicKeys answer has no SSHPublicKeys")
        for member in keys:
            if _text(member, "UserName") != user_name:
                raise LookupFailed("the server listed another user's keys")
            if _text(member, "Status") != "Active":
                continue
            key_id = _text(member, "SSHPublicKeyId")
            try:
                got = client.call(
                    "GetSSHPublicKey",
                    {"UserName": user_name, "SSHPublicKeyId": key_id, "Encoding": "SSH"},
                )
            except UnknownUser:
                continue  # deleted since it was listed: not a key any more
            key = _child(got, "SSHPublicKey")
            if key is None:
                raise LookupFailed("the server's GetSSHPublicKey answer has no SSHPublicKey")
            if _text(key, "UserName") != user_name or _text(key, "SSHPublicKeyId") != key_id:
                raise LookupFailed("the server sent another key than the one asked for")
            # Re-checked: the key may have been made Inactive since it was listed.
            if _text(key, "Status") == "Active":
                yield authorized_key_line(_text(key, "SSHPublicKeyBody"))
        truncated = _child(result, "IsTruncated")
        if truncated is None or (truncated.text or "").strip() != "true":
            return
        marker = _text(result, "Marker")
    raise LookupFailed(f"the server kept paging after {_MAX_PAGES} pages")


def credential_account(client: IamClient) -> str:
    """The account of the credential (STS GetCallerIdentity, which needs no permission)."""
    result = client.call("GetCallerIdentity", {})
    account = _text(result, "Account")
    if not re.fullmatch(r"\d{12}", account):
        raise LookupFailed("the server's GetCallerIdentity answer names no account")
    return account


def _client(
    endpoint_url: str | None, profile: str | None, region: str | None, deadline: float
) -> IamClient:
    """An IamClient with the standard AWS credential chain (env, shared files, profile)."""
    import os  # noqa: PLC0415

    import botocore.exceptions  # noqa: PLC0415 - slow import, only on use
    import botocore.session  # noqa: PLC0415

    try:
        session = botocore.session.Session(profile=profile)
        credentials = session.get_credentials()
        config = session.get_scoped_config()
    except botocore.exceptions.BotoCoreError as exc:
        raise LookupFailed(f"no usable AWS configuration: {_reason(exc)}") from None
    if credentials is None:
        raise LookupFailed("no AWS credentials found (set --profile or AWS_* variables)")
    endpoint = (
        endpoint_url
        or config.get("endpoint_url")
        or os.environ.get("AWS_ENDPOINT_URL_IAM")
        or os.environ.get("AWS_ENDPOINT_URL")
        or DEFAULT_ENDPOINT_URL
    )
    return IamClient(
        endpoint_url=endpoint,
        region=region or config.get("region") or "us-east-1",
        credentials=credentials.get_frozen_credentials(),
        deadline=deadline,
    )


def lookup(
    user: str,
    fingerprint: str | None,
    *,
    endpoint_url: str | None,
    profile: str | None,
    region: str | None,
    timeout: float,
    account: str | None = None,
) -> list[str]:
    """The lines to print; LookupFailed when there is no trustworthy answer.

    With `account`, the keys are given only if the credential is of that account (the
    users whose keys IAM lists are the credential's account's): a credential of another
    account is refused, failing closed.
    """
    deadline = time.monotonic() + timeout
    user_name = iam_user_name(user)
    if user_name is None:
        _log(f"{user!r} is not a valid IAM user name: no keys")
        return []
    client = _client(endpoint_url, profile, region, deadline)
    if account is not None:
        _check_account(client, account)
    try:
        lines = list(active_keys(client, user_name))
    except UnknownUser:
        _log(f"no IAM user {user_name!r}: no keys")
        return []
    finally:
        client.close()
    if fingerprint is not None:
        lines = [line for line in lines if sha256_fingerprint(line) == fingerprint]
    return lines


def _check_account(client: IamClient, account: str) -> None:
    import os  # noqa: PLC0415

    sts = IamClient(
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL_STS") or client.endpoint_url,
        region=client.region,
        credentials=client.credentials,
        deadline=client.deadline,
        service="sts",
        api_version=STS_API_VERSION,
    )
    try:
        found = credential_account(sts)
    except UnknownUser as exc:
        raise LookupFailed(f"GetCallerIdentity refused: {exc}") from None
    finally:
        sts.close()
    if found != account:
        raise LookupFailed(
            f"the credential is of account {found}, not of the trusted account {account}"
        )


def _log(message: str) -> None:
    sys.stderr.write(f"iamd authorized-keys: {message}\n")


def _account_option(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"\d{12}", value):
        raise click.BadParameter("an account id is 12 digits")
    return value


@click.command("authorized-keys")
@click.argument("user")
@click.argument("fingerprint", required=False)
@click.option(
    "--endpoint-url",
    envvar="IAMD_ENDPOINT_URL",
    default=None,
    help="The IAM endpoint (default: the profile's endpoint_url, AWS_ENDPOINT_URL_IAM, "
    f"AWS_ENDPOINT_URL, then {DEFAULT_ENDPOINT_URL}).",
)
@click.option("--profile", default=None, help="AWS profile holding the read-only credential.")
@click.option(
    "--account",
    envvar="IAMD_TRUSTED_ACCOUNT",
    default=None,
    callback=lambda _ctx, _param, value: _account_option(value),
    help="The 12-digit account whose users may log in: keys are refused (fail closed) "
    "unless the credential is of this account (checked with STS GetCallerIdentity, at "
    "AWS_ENDPOINT_URL_STS or the IAM endpoint).",
)
@click.option("--region", default=None, help="Signing region (default: profile's, us-east-1).")
@click.option(
    "--timeout",
    default=3.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds for the whole lookup, connecting and reading included.",
)
def authorized_keys(
    user: str,
    fingerprint: str | None,
    endpoint_url: str | None,
    profile: str | None,
    account: str | None,
    region: str | None,
    timeout: float,
) -> None:
    """Print USER's Active IAM SSH keys in authorized_keys format (for sshd).

    \b
    sshd_config:
      AuthorizedKeysCommand /path/to/iamd authorized-keys %u %f
      AuthorizedKeysCommandUser iamd-keys   (a dedicated account that can read the key)

    Exits 1 with nothing printed when it cannot get a trustworthy answer (fail closed).
    See docs/ssh-logins.md.
    """
    try:
        lines = lookup(
            user,
            fingerprint,
            endpoint_url=endpoint_url,
            profile=profile,
            region=region,
            timeout=timeout,
            account=account,
        )
    except LookupFailed as exc:
        _log(f"no keys given, failing closed: {exc}")
        sys.exit(1)
    except Exception as exc:  # anything unexpected must still fail closed
        _log(f"no keys given, failing closed: unexpected {_reason(exc)}")
        sys.exit(1)
    # Written in one piece only after the whole answer is known: never a partial list.
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()

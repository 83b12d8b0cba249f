"""The audit trail's recorder: every front hands it each finished request.

A front describes the request as a `RequestEvent` (who, what, where, the outcome, and
*callables* that give the redacted requestParameters/responseElements: the record is
built lazily, off the hot path). Two ways into the store (docs/trail.md):

- a write's event rides in the write's own transaction: `begin()` registers it for
  the request (a context variable read by `store/transactions.py`), so a write that is
  acknowledged has its event; the response, known only after the commit, completes the
  stored record through the batch;
- everything else (reads, denials, failures, a write that rolled back) is queued and
  written in batches by a background thread, and `close()` writes what is left.

Redaction is not done here: the fronts pass what `protocol/trail_redaction.py` (API
requests) or their own secret-free fields (sign-in, git) produce.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from contextvars import Token
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import orjson

from iamd.errors import ServiceUnavailable
from iamd.principals.caller import Caller, PrincipalType
from iamd.store.database import Database
from iamd.store.sql.trail import (
    PendingWriteEvent,
    StoredEvent,
    delete_older_than,
    insert_events,
    lookup,
    pending_write_event,
)
from iamd.store.transactions import Transactions

log = logging.getLogger(__name__)

EVENT_VERSION = "1.11"
DEFAULT_RETENTION_DAYS = 90
#: What a user name typed at sign-in becomes when no such user exists, as AWS logs it
#: (a password typed into the user-name box is never stored).
HIDDEN_USER_NAME = "HIDDEN_DUE_TO_SECURITY_REASONS"

EVENT_SOURCES = {
    "iam": "iam.amazonaws.com",
    "sts": "sts.amazonaws.com",
    "organizations": "organizations.amazonaws.com",
    "codecommit": "codecommit.amazonaws.com",
    "cloudtrail": "cloudtrail.amazonaws.com",
    "signin": "signin.amazonaws.com",
    "sso-admin": "sso.amazonaws.com",
}

_READ_PREFIXES = ("Get", "List", "Describe", "Simulate", "Lookup", "BatchGet")
# STS calls that CloudTrail marks read-only although their names do not say so.
_READ_NAMES = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "AssumeRoot",
        "DecodeAuthorizationMessage",
        "GitPull",
    }
)

# Reads whose response CloudTrail keeps: the credentials STS issued (without their
# secret, and here without the session token either).
_RESPONSE_KEPT = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "AssumeRoot",
        "GetSessionToken",
        "GetFederationToken",
    }
)

#: Request members naming a resource, for the ResourceType/ResourceName lookups.
_RESOURCE_MEMBERS = {
    "UserName": "AWS::IAM::User",
    "GroupName": "AWS::IAM::Group",
    "RoleName": "AWS::IAM::Role",
    "PolicyArn": "AWS::IAM::Policy",
    "InstanceProfileName": "AWS::IAM::InstanceProfile",
    "AccessKeyId": "AWS::IAM::AccessKey",
    "SerialNumber": "AWS::IAM::MFADevice",
    "ServerCertificateName": "AWS::IAM::ServerCertificate",
    "RoleArn": "AWS::IAM::Role",
    "repositoryName": "AWS::CodeCommit::Repository",
    "AccountId": "AWS::Organizations::Account",
    "PolicyId": "AWS::Organizations::Policy",
}
_RESOURCE_ORDER = {member: n for n, member in enumerate(_RESOURCE_MEMBERS)}

_ARN_TYPES = {
    ("iam", "user"): "AWS::IAM::User",
    ("iam", "group"): "AWS::IAM::Group",
    ("iam", "role"): "AWS::IAM::Role",
    ("iam", "policy"): "AWS::IAM::Policy",
    ("iam", "instance-profile"): "AWS::IAM::InstanceProfile",
    ("iam", "mfa"): "AWS::IAM::MFADevice",
    ("iam", "server-certificate"): "AWS::IAM::ServerCertificate",
    ("sts", "assumed-role"): "AWS::STS::AssumedRole",
    ("organizations", "account"): "AWS::Organizations::Account",
    ("organizations", "policy"): "AWS::Organizations::Policy",
    ("organizations", "ou"): "AWS::Organizations::OrganizationalUnit",
    ("organizations", "organization"): "AWS::Organizations::Organization",
}


def is_read_only(event_name: str) -> bool:
    return event_name in _READ_NAMES or event_name.startswith(_READ_PREFIXES)


def resources_named(params: Any) -> tuple[tuple[str, str], ...]:
    """(type, name) of the resources a request names, from its non-secret members."""
    if not isinstance(params, dict):
        return ()
    # A request has a few members and the table many: look each member up, then put
    # them in the table's order.
    found: list[tuple[int, str, str]] = []
    for member, value in params.items():
        kind = _RESOURCE_MEMBERS.get(member)
        if kind is not None and isinstance(value, str) and value:
            found.append((_RESOURCE_ORDER[member], kind, value[:2000]))
    if len(found) == 1:
        return ((found[0][1], found[0][2]),)
    found.sort()
    return tuple((kind, name) for _, kind, name in found)


def arn_resource(arn: str | None) -> dict[str, str] | None:
    """A record's `resources` entry for an ARN (None for `*` or a non-ARN); the caller
    must not change it (the same few ARNs recur, so entries are shared)."""
    if not arn or not arn.startswith("arn:"):
        return None
    return _arn_resource(arn)


@lru_cache(maxsize=4096)
def _arn_resource(arn: str) -> dict[str, str] | None:
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    service, account, rest = parts[2], parts[4], parts[5]
    kind = _ARN_TYPES.get((service, rest.split("/", 1)[0]))
    if kind is None and service == "codecommit":
        kind = "AWS::CodeCommit::Repository"
    if kind is None:
        return None
    entry = {"ARN": arn, "type": kind}
    if account:
        entry["accountId"] = account
    return entry


_last_iso: list[tuple[int, str]] = [(-1, "")]  # one entry, replaced whole


def _iso(moment: datetime) -> str:
    """CloudTrail's eventTime (whole seconds). The last second's text is kept: a busy
    trail formats each second once, not once per event."""
    return _iso_second(int(moment.timestamp()))


def _iso_second(second: int) -> str:
    cached = _last_iso[0]
    if cached[0] == second:
        return cached[1]
    text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _last_iso[0] = (second, text)
    return text


def user_identity(caller: Caller, recipient_account: str | None = None) -> dict[str, Any]:
    """CloudTrail's userIdentity for an authenticated caller.

    A caller of another account than the one the event is recorded in appears there as
    `AWSAccount` (as CloudTrail logs cross-account calls in the resource's account).
    """
    if recipient_account is not None and recipient_account != caller.account_id:
        return {
            "type": "AWSAccount",
            "principalId": caller.user_id,
            "accountId": caller.account_id,
        }
    identity: dict[str, Any]
    session = caller.session
    if caller.principal_type is PrincipalType.ACCOUNT:
        identity = {
            "type": "Root",
            "principalId": caller.account_id,
            "arn": f"arn:aws:iam::{caller.account_id}:root",
            "accountId": caller.account_id,
            "accessKeyId": caller.access_key_id,
        }
    elif caller.principal_type is PrincipalType.ASSUMED_ROLE and session is not None:
        identity = {
            "type": "AssumedRole",
            "principalId": f"{session.principal_id}:{session.session_name or ''}",
            "arn": caller.arn,
            "accountId": caller.account_id,
            "accessKeyId": caller.access_key_id,
        }
    elif caller.principal_type is PrincipalType.FEDERATED_USER:
        identity = {
            "type": "FederatedUser",
            "principalId": caller.user_id,
            "arn": caller.arn,
            "accountId": caller.account_id,
            "accessKeyId": caller.access_key_id,
        }
    else:
        identity = {
            "type": "IAMUser",
            "principalId": caller.user_id,
            "arn": caller.arn,
            "accountId": caller.account_id,
            "accessKeyId": caller.access_key_id,
            "userName": caller.user_name,
        }
    if session is not None:
        context: dict[str, Any] = {
            "attributes": {
                "creationDate": _iso(datetime.fromtimestamp(session.issued, UTC)),
                "mfaAuthenticated": "true" if session.mfa_authenticated is not None else "false",
            }
        }
        if caller.principal_type is PrincipalType.ASSUMED_ROLE:
            context["sessionIssuer"] = {
                "type": "Role",
                "principalId": session.principal_id,
                "arn": caller.role_arn,
                "accountId": caller.account_id,
                "userName": caller.role_name,
            }
        elif caller.principal_type is PrincipalType.FEDERATED_USER and caller.issuer_user:
            issuer = caller.issuer_user
            context["sessionIssuer"] = {
                "type": "IAMUser",
                "principalId": issuer.user_id,
                "arn": issuer.arn,
                "accountId": caller.account_id,
                "userName": issuer.name,
            }
        if session.source_identity:
            context["sourceIdentity"] = session.source_identity
        identity["sessionContext"] = context
    return identity


def lookup_username(caller: Caller) -> str | None:
    """The Username LookupEvents matches: the user, the role session's name, or root."""
    if caller.principal_type is PrincipalType.ACCOUNT:
        return "root"
    if (
        caller.principal_type in (PrincipalType.ASSUMED_ROLE, PrincipalType.FEDERATED_USER)
        and caller.session is not None
    ):
        return caller.session.session_name
    return caller.user_name


def sign_in_event(
    account_id: str,
    when: datetime,
    source_ip: str,
    user_agent: str | None,
    request_id: str,
    user_name: str,
    succeeded: bool,
    user_id: str | None,
    user_arn: str | None,
    find_user: Callable[[str], tuple[str, str] | None],
    mfa_used: bool = False,
) -> RequestEvent:
    """A ConsoleLogin event, as CloudTrail records password sign-ins.

    A failure names the user only if the user exists (`find_user(name)` gives its id and
    ARN, looked up by the writer thread); otherwise the name is masked, as AWS does, so
    a password typed into the user-name box never reaches the trail.
    """

    def identity(known: tuple[str, str], name: str) -> dict[str, Any]:
        return {
            "type": "IAMUser",
            "principalId": known[0],
            "arn": known[1],
            "accountId": account_id,
            "userName": name,
        }

    def resolve_failure(event: RequestEvent) -> None:
        try:
            known = find_user(user_name)
        except Exception:
            known = None
        if known is None:
            event.identity = {
                "type": "IAMUser",
                "accountId": account_id,
                "userName": HIDDEN_USER_NAME,
                "principalId": account_id,
            }
            event.username = HIDDEN_USER_NAME
            event.error_message = "No username found in supplied account"
        else:
            event.identity = identity(known, user_name)
            event.username = user_name

    event = _console_sign_in_event(
        "ConsoleLogin",
        "Success" if succeeded else "Failure",
        account_id,
        when,
        source_ip,
        user_agent,
        request_id,
        additional_event_data={
            "LoginTo": "iamd",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if mfa_used else "No",
        },
    )
    if not succeeded:
        event.error_message = "Failed authentication"
    if succeeded and user_id is not None and user_arn is not None:
        event.identity = identity((user_id, user_arn), user_name)
        event.username = user_name
    else:
        event.resolve = resolve_failure
    return event


def check_mfa_event(
    account_id: str,
    when: datetime,
    source_ip: str,
    user_agent: str | None,
    request_id: str,
    user_name: str,
    user_id: str,
) -> RequestEvent:
    """The CheckMfa event CloudTrail records when a console sign-in's password was right
    and the user has an MFA device: the sign-in goes on to the code. Its ConsoleLogin
    comes with the code (a wrong one is a Failure); a sign-in abandoned at the code has
    this event only. iamd's devices are virtual (TOTP): MfaType "Virtual MFA"."""
    event = _console_sign_in_event(
        "CheckMfa",
        "Success",
        account_id,
        when,
        source_ip,
        user_agent,
        request_id,
        additional_event_data={"MfaType": "Virtual MFA"},
    )
    event.identity = {
        "type": "IAMUser",
        "principalId": user_id,
        "accountId": account_id,
        "accessKeyId": "",
        "userName": user_name,
    }
    event.username = user_name
    return event


def _console_sign_in_event(
    event_name: str,
    outcome: str,
    account_id: str,
    when: datetime,
    source_ip: str,
    user_agent: str | None,
    request_id: str,
    *,
    additional_event_data: dict[str, Any],
) -> RequestEvent:
    """A sign-in page's AwsConsoleSignIn event; CloudTrail writes its outcome in
    responseElements, success or not."""
    event = RequestEvent(
        account_id=account_id,
        event_time=when,
        event_source=EVENT_SOURCES["signin"],
        event_name=event_name,
        region="us-east-1",
        source_ip=source_ip,
        user_agent=user_agent,
        request_id=request_id,
        identity=None,
        username=None,
        access_key_id=None,
        read_only=False,
        event_type="AwsConsoleSignIn",
        additional_event_data=additional_event_data,
    )
    event.response_elements = lambda: {event_name: outcome}
    event.force_response = True
    return event


def git_event(
    caller: Caller | None,
    account_id: str,
    event_name: str,
    repository: str,
    region: str,
    when: datetime,
    source_ip: str,
    user_agent: str | None,
    session_id: str,
    ssh_public_key_id: str | None,
    error_code: str | None,
    error_message: str | None,
    *,
    protocol: str = "SSH",
) -> RequestEvent:
    """A GitPull / GitPush event over SSH or HTTP, as CodeCommit logs git requests."""
    arn = f"arn:aws:codecommit:{region}:{account_id}:{repository}"
    event = RequestEvent(
        account_id=caller.account_id if caller is not None else account_id,
        event_time=when,
        event_source=EVENT_SOURCES["codecommit"],
        event_name=event_name,
        region=region,
        source_ip=source_ip,
        user_agent=user_agent,
        request_id=session_id,
        identity=user_identity(caller) if caller is not None else None,
        username=lookup_username(caller) if caller is not None else None,
        access_key_id=None,
        read_only=event_name == "GitPull",
        error_code=error_code,
        error_message=error_message,
        additional_event_data={"protocol": protocol, "repositoryName": repository}
        | ({"sshPublicKeyId": ssh_public_key_id} if ssh_public_key_id else {}),
        resources=({"ARN": arn, "accountId": account_id, "type": "AWS::CodeCommit::Repository"},),
        lookup_resources=(("AWS::CodeCommit::Repository", repository),),
        tls_host=None,
    )
    if event.identity is not None:
        event.identity.pop("accessKeyId", None)
    return event


#: An event id needs to be unique, not secret (it grants nothing): a generator seeded from
#: the system's entropy, without a system call per event; a forked child reseeds, or it
#: would repeat its parent's ids.
_ID_BITS = random.Random(os.urandom(32))  # noqa: S311
os.register_at_fork(after_in_child=lambda: _ID_BITS.seed(os.urandom(32)))


def new_event_id(micros: int | None = None) -> str:
    """A UUID of RFC 9562's version 7: its first 48 bits are the Unix time in ms (of
    `micros`, the event's time, when given), the other 74 random.

    CloudTrail's eventID is an opaque GUID. One that carries the event's millisecond lets
    an EventId look-up go straight to the batches of that millisecond (store/sql/trail.py)
    with no key row per event.
    """
    millis = (time.time_ns() // 1000 if micros is None else micros) // 1000
    random_bits = _ID_BITS.getrandbits(80)
    value = (millis & (1 << 48) - 1) << 80 | 0x7 << 76 | (random_bits >> 68) << 64
    value |= 0b10 << 62 | random_bits & (1 << 62) - 1
    # Formatted directly: a uuid.UUID object costs more than the rest of the event.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _nothing() -> Any:
    return None


class Redaction(Protocol):
    """The wire layer's redaction of a request and its result (protocol/trail_redaction),
    handed in by the front: one long-lived object, so an event costs no closure."""

    def request(self, service: str, operation: str, params: Any) -> Any:
        """requestParameters without secrets."""

    def response(self, service: str, operation: str, result: Any) -> Any:
        """responseElements without secrets."""


# Dates and dataclasses as the json module gave them (str), not orjson's own forms.
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=_ORJSON_OPTIONS).decode()


_RECORD_START = _json({"eventVersion": EVENT_VERSION})[:-1] + ","


class IdentityTexts:
    """userIdentity JSON and Username per caller, for one batch: the events of a batch
    mostly share a few callers (the caller objects are the credential cache's)."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        # By object identity: the Caller is held by the entry, so its id stays unique.
        self._known: dict[int, tuple[Caller, str, str | None]] = {}

    def of(self, caller: Caller) -> tuple[str, str | None]:
        known = self._known.get(id(caller))
        if known is None:
            known = (caller, _json(user_identity(caller)), lookup_username(caller))
            self._known[id(caller)] = known
        return known[1], known[2]


@dataclass(slots=True)
class RequestEvent:
    """One finished (or running) request, as a front describes it."""

    account_id: str  # recipientAccountId: the account the request acted in
    event_time: datetime
    event_source: str
    event_name: str
    region: str
    source_ip: str
    user_agent: str | None
    request_id: str
    identity: dict[str, Any] | None
    username: str | None
    access_key_id: str | None
    read_only: bool
    event_type: str = "AwsApiCall"
    error_code: str | None = None
    error_message: str | None = None
    request_parameters: Callable[[], Any] = _nothing
    response_elements: Callable[[], Any] = _nothing
    additional_event_data: dict[str, Any] | None = None
    # An AwsServiceEvent's outcome (Identity Center's sign-in steps).
    service_event_details: dict[str, Any] | None = None
    resources: tuple[dict[str, str], ...] = ()
    lookup_resources: tuple[tuple[str, str], ...] = ()
    tls_host: str | None = None  # set when the request came over TLS
    # The connection's negotiated (protocol version, cipher suite), as OpenSSL names
    # them ("TLSv1.3", "TLS_AES_256_GCM_SHA384"), which are CloudTrail's names too.
    tls: tuple[str, str] | None = None
    api_version: str | None = None
    # Work the front defers to the writer thread (the sign-in front's look-up of whether
    # the user name exists: done there, it adds nothing to the attempt's timing).
    resolve: Callable[[RequestEvent], None] | None = None
    # responseElements even for a failure (ConsoleLogin: {"ConsoleLogin": "Failure"}).
    force_response: bool = False
    # Made from the event's time when the event is stored (new_event_id); a front that
    # must know it earlier sets it.
    event_id: str = ""
    # What the writer thread derives the record from, so that a queued event is one
    # object for the garbage collector rather than a graph of dicts and closures (which
    # cost the hot path more than building them: docs/trail.md, "Cost"). `caller` gives
    # `identity` and `username` unless they are set; `redaction` with `service`,
    # `params` and `result` gives the request parameters and response elements;
    # `resource_arn` the record's resources; `params` the lookup resources.
    caller: Caller | None = None
    redaction: Redaction | None = None
    service: str = ""
    params: Any = None
    result: Any = None
    resource_arn: str | None = None
    # A web console page's call (http/console): CloudTrail's
    # "sessionCredentialFromConsole": "true".
    from_console: bool = False

    def keeps_response(self) -> bool:
        """CloudTrail leaves a read's response out (and every failed request's)."""
        if self.force_response:
            return True
        if self.error_code is not None:
            return False
        return not self.read_only or self.event_name in _RESPONSE_KEPT

    def _resolve_caller(self) -> None:
        if self.caller is not None:
            if self.identity is None:
                self.identity = user_identity(self.caller)
            if self.username is None:
                self.username = lookup_username(self.caller)
            self.caller = None

    def record(self, *, with_identity: bool = True, micros: int | None = None) -> dict[str, Any]:
        self._resolve_caller()
        record: dict[str, Any] = {"eventVersion": EVENT_VERSION}
        if self.identity is not None and with_identity:
            record["userIdentity"] = self.identity
        if micros is None:
            micros = _micros(self.event_time)
        record["eventTime"] = _iso_second(micros // 1_000_000)
        record["eventSource"] = self.event_source
        record["eventName"] = self.event_name
        record["awsRegion"] = self.region
        record["sourceIPAddress"] = self.source_ip
        record["userAgent"] = self.user_agent
        if self.error_code is not None:
            record["errorCode"] = self.error_code
        if self.error_message is not None:
            record["errorMessage"] = self.error_message
        redaction = self.redaction
        if redaction is not None:
            record["requestParameters"] = redaction.request(
                self.service, self.event_name, self.params
            )
            record["responseElements"] = (
                redaction.response(self.service, self.event_name, self.result)
                if self.keeps_response()
                else None
            )
        else:
            record["requestParameters"] = self.request_parameters()
            record["responseElements"] = self.response_elements() if self.keeps_response() else None
        if self.additional_event_data is not None:
            record["additionalEventData"] = self.additional_event_data
        record["requestID"] = self.request_id
        record["eventID"] = self.event_id
        record["readOnly"] = self.read_only
        resources = self.resources
        if not resources and self.resource_arn is not None:
            found = arn_resource(self.resource_arn)
            resources = (found,) if found is not None else ()
        if resources:
            record["resources"] = list(resources)
        record["eventType"] = self.event_type
        if self.api_version is not None:
            record["apiVersion"] = self.api_version
        record["managementEvent"] = True
        record["recipientAccountId"] = self.account_id
        if self.service_event_details is not None:
            record["serviceEventDetails"] = self.service_event_details
        record["eventCategory"] = "Management"
        if self.tls_host is not None:
            details: dict[str, str] = {}
            if self.tls is not None:
                details["tlsVersion"], details["cipherSuite"] = self.tls
            details["clientProvidedHostHeader"] = self.tls_host
            record["tlsDetails"] = details
        if self.from_console:
            record["sessionCredentialFromConsole"] = "true"
        return record

    def record_text(
        self, identities: IdentityTexts | None = None, micros: int | None = None
    ) -> str:
        """The record's JSON text. `identities` serializes each caller's userIdentity once
        per batch (the costliest part of most records)."""
        if micros is None:
            micros = _micros(self.event_time)
        if not self.event_id:
            self.event_id = new_event_id(micros)
        identity_text: str | None = None
        if self.caller is not None and self.identity is None and identities is not None:
            identity_text, username = identities.of(self.caller)
            if self.username is None:
                self.username = username
        elif self.identity is not None or self.caller is not None:
            self._resolve_caller()
            identity_text = _json(self.identity) if self.identity is not None else None
        body = _json(self.record(with_identity=False, micros=micros))
        if identity_text is None:
            return body
        return f'{_RECORD_START}"userIdentity":{identity_text},{body[len(_RECORD_START) :]}'

    def stored(self, identities: IdentityTexts | None = None) -> StoredEvent:
        if self.resolve is not None:
            resolve, self.resolve = self.resolve, None
            resolve(self)
        micros = _micros(self.event_time)
        record = self.record_text(identities, micros)
        return StoredEvent(
            event_id=self.event_id,
            account_id=self.account_id,
            event_time=micros,
            event_name=self.event_name,
            event_source=self.event_source,
            username=self.username,
            access_key_id=self.access_key_id,
            read_only=self.read_only,
            record=record,
            resources=self.lookup_resources or resources_named(self.params),
            region=self.region or "us-east-1",
        )


@dataclass(frozen=True, slots=True)
class FoundEvent:
    """One event as LookupEvents returns it."""

    event_id: str
    event_name: str
    read_only: bool
    access_key_id: str | None
    event_time: datetime
    event_source: str
    username: str | None
    resources: tuple[tuple[str, str], ...]
    record: str
    cursor: tuple[int, str]  # (time µs, event id): where the next page starts


def lookup_events(
    tx: Transactions,
    attribute: tuple[str, str] | None,
    start: datetime,
    end: datetime,
    limit: int,
    after: tuple[int, str] | None,
) -> list[FoundEvent]:
    """The account's events, newest first (`tx` is the caller's account's)."""
    with tx.read() as repos:
        events = lookup(
            repos.conn, tx.account_id, attribute, _micros(start), _micros(end), limit, after
        )
    return [
        FoundEvent(
            event_id=e.event_id,
            event_name=e.event_name,
            read_only=e.read_only,
            access_key_id=e.access_key_id,
            event_time=datetime.fromtimestamp(e.event_time / 1_000_000, UTC),
            event_source=e.event_source,
            username=e.username,
            resources=e.resources,
            record=e.record,
            cursor=e.order,
        )
        for e in events
    ]


def _micros(moment: datetime) -> int:
    # timestamp() of an aware time is its UTC instant, and zone offsets are whole
    # minutes, so the microsecond field is the instant's: no conversion is needed (it
    # cost as much as the rest of this). A naive time is taken as UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


class PendingWrite:
    """The event a request's first committed write carries (store/sql/trail.py)."""

    __slots__ = ("_state", "event", "token")

    def __init__(self, event: RequestEvent) -> None:
        self.event = event
        self.token: Token[PendingWriteEvent | None] | None = None
        self._state = "pending"  # -> "taken" -> "inserted" | back to "pending"

    def take(self) -> StoredEvent | None:
        if self._state != "pending":
            return None
        try:
            stored = self.event.stored()
        except Exception:
            # Never fail the user's write over its record: the batch records it later.
            log.exception("could not build the audit event of request %s", self.event.request_id)
            return None
        self._state = "taken"
        return stored

    def committed(self) -> None:
        self._state = "inserted"

    def rolled_back(self) -> None:
        self._state = "pending"

    @property
    def inserted(self) -> bool:
        return self._state == "inserted"


def _built(events: list[RequestEvent]) -> list[StoredEvent]:
    """The stored form of each event; one that cannot be built is logged and dropped
    (a bug must not stall the whole trail behind it)."""
    built: list[StoredEvent] = []
    identities = IdentityTexts()
    for event in events:
        try:
            built.append(event.stored(identities))
        except Exception:
            log.exception("could not build the audit event of request %s", event.request_id)
    return built


class TrailRecorder:
    def __init__(
        self,
        database: Database,
        flush_seconds: float = 1.0,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._retention = timedelta(days=retention_days)
        self._now = now
        self._queue: list[RequestEvent] = []
        self._amend: list[RequestEvent] = []
        self._swap_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sweep: datetime | None = None

    def begin(self, event: RequestEvent) -> PendingWrite:
        """Before the request's operation runs: its first write commits `event` with it.

        The front fills in the outcome and calls `finish()` (always, in a `finally`).
        """
        pending = PendingWrite(event)
        pending.token = pending_write_event.set(pending)
        return pending

    @staticmethod
    def release(pending: PendingWrite) -> None:
        """The operation has returned (or raised): later writes on this thread are not its."""
        if pending.token is not None:
            pending_write_event.reset(pending.token)
            pending.token = None

    def finish(self, pending: PendingWrite) -> None:
        """The request is over: queue its event, or its completion if a write carried it."""
        self.release(pending)
        with self._swap_lock:
            (self._amend if pending.inserted else self._queue).append(pending.event)

    def record(self, event: RequestEvent) -> None:
        """Queue an event for the next batch (one list append on the hot path)."""
        with self._swap_lock:
            self._queue.append(event)

    def flush(self) -> int:
        with self._flush_lock:
            with self._swap_lock:
                queue, self._queue = self._queue, []
                amend, self._amend = self._amend, []
            if not queue and not amend:
                return 0
            try:
                completed = _built(amend)
                stored = _built(queue) + completed
                with self._database.write() as conn:
                    replacing = [e.event_id for e in completed]
                    insert_events(conn, stored, replacing=replacing)
            except Exception:
                with self._swap_lock:
                    self._queue[:0] = queue
                    self._amend[:0] = amend
                raise
            return len(queue) + len(amend)

    def sweep(self) -> int:
        """Drop events older than the retention period."""
        cutoff = self._now() - self._retention
        micros = int(cutoff.timestamp()) * 1_000_000 + cutoff.microsecond
        with self._database.write() as conn:
            return delete_older_than(conn, micros)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="iamd-trail", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            try:
                self.flush()
                now = self._now()
                if self._last_sweep is None or now - self._last_sweep > timedelta(hours=1):
                    self._last_sweep = now
                    self.sweep()
            except ServiceUnavailable:
                pass  # the database is away (logged once by it); kept for the next try
            except Exception:
                log.exception("could not write audit trail events; will retry")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

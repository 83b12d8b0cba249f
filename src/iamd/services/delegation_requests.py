"""Delegation requests: a partner asks a customer's account for temporary access
(docs/delegation.md has the state machine, and says where iamd decides what AWS does
not document).

The partner's account creates a request; an identity of the customer's account
associates it (becoming its owner), may forward it for approval (Update), and an
identity of that account accepts or rejects it; SendDelegationToken then releases the
exchange token to the partner's notification channel. Every state expires (to
EXPIRED): UNASSIGNED after 1 day, the others 7 days after they were entered.
Expiry is applied on read (`DelegationRequest.state_at`), never by a sweep.

The service of one account acts for callers of that account (`tx.account_id`).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from iamd.clock import Clock
from iamd.errors import (
    AccessDenied,
    EntityAlreadyExists,
    ExpiredTradeInToken,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from iamd.model.delegation import DelegationRequest, DelegationState, PolicyParameter
from iamd.model.page import Page
from iamd.policy import PolicyKind, check_policy
from iamd.principals.caller import Caller
from iamd.services.delegation_notifications import DelegationNotifications
from iamd.store.sql.paging import decode_marker, encode_marker
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

S = DelegationState
UNASSIGNED_LIFETIME = timedelta(days=1)
STATE_LIFETIME = timedelta(days=7)
#: Requests of one partner account not yet finalized, rejected or expired (iamd's quota:
#: AWS publishes none).
OPEN_REQUESTS_PER_ACCOUNT = 100
_TOPIC = re.compile(r"arn:aws:sns:[a-z]{2}(?:-[a-z]+)+-\d:(\d{12}):[A-Za-z0-9_-]{1,256}")
_PLACEHOLDER = re.compile(r"\{\{([ -z|~]+?)\}\}")
_ARN = re.compile(r"arn:aws:iam::(\d{12}):delegation-request/([\w-]{16,128})")


def delegation_request_arn(account_id: str, request_id: str) -> str:
    """The request's ARN as seen from `account_id` (each side authorizes on its own)."""
    return f"arn:aws:iam::{account_id}:delegation-request/{request_id}"


def request_id_of_arn(arn: str) -> str:
    found = _ARN.fullmatch(arn)
    if found is None:
        raise InvalidInput(
            f"Invalid EntityArn {arn}: the only entity type supported is delegation-request "
            "(arn:aws:iam::ACCOUNT:delegation-request/ID)."
        )
    return found.group(2)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class NewDelegationRequest:
    """CreateDelegationRequest's parameters, with the template's document read."""

    owner_account: str | None
    description: str
    template_arn: str
    template_document: str
    parameters: tuple[PolicyParameter, ...]
    request_message: str | None
    workflow_id: str
    redirect_url: str | None
    notification_channel: str
    session_duration: int
    only_send_by_owner: bool


def permission_policy(template: str, parameters: Sequence[PolicyParameter]) -> str:
    """The template's document with its `{{NAME}}` placeholders filled in.

    A string parameter's placeholder is replaced by its one value. A string holding a
    stringList parameter's placeholder becomes one string per value (in a list, they
    take its place; elsewhere they make a list), so that a template stays a valid
    policy: `arn:aws:iam::{{Account}}:user/{{Users}}`. Every placeholder must have its
    parameter, every parameter be used, and a string hold at most one stringList.
    """
    by_name: dict[str, PolicyParameter] = {}
    for parameter in parameters:
        if parameter.name in by_name:
            raise InvalidInput(f"Duplicate policy parameter {parameter.name}.")
        if parameter.kind == "string" and len(parameter.values) != 1:
            raise InvalidInput(
                f"Policy parameter {parameter.name} of type string must have exactly one value."
            )
        if not parameter.values:
            raise InvalidInput(f"Policy parameter {parameter.name} has no values.")
        by_name[parameter.name] = parameter
    used: set[str] = set()

    def value_of(name: str) -> PolicyParameter:
        found = by_name.get(name)
        if found is None:
            raise InvalidInput(f"The policy template needs a value for parameter {name}.")
        used.add(name)
        return found

    def fill_string(text: str) -> str | list[str]:
        lists = [
            p
            for p in (value_of(m.group(1)) for m in _PLACEHOLDER.finditer(text))
            if p.kind == "stringList"
        ]
        if len({p.name for p in lists}) > 1:
            raise InvalidInput(f"A template string can hold one stringList parameter: {text}")

        def with_value(value: str | None) -> str:
            def one(match: re.Match[str]) -> str:
                parameter = value_of(match.group(1))
                return parameter.values[0] if value is None or parameter.kind == "string" else value

            return _PLACEHOLDER.sub(one, text)

        if not lists:
            return with_value(None)
        return [with_value(v) for v in lists[0].values]

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            out: list[Any] = []
            for item in node:
                filled = fill(item)
                out.extend(
                    filled if isinstance(item, str) and isinstance(filled, list) else [filled]
                )
            return out
        if isinstance(node, str):
            return fill_string(node)
        return node

    try:
        document = json.loads(template)
    except ValueError as exc:
        raise InvalidInput("The policy template is not a JSON document.") from exc
    filled = fill(document)
    unused = sorted(set(by_name) - used)
    if unused:
        raise InvalidInput(f"Policy parameter {unused[0]} is not in the policy template.")
    return json.dumps(filled, separators=(",", ":"))


class DelegationRequestService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        notifications: DelegationNotifications,
        requestor_name: Callable[[str], str],
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._notifications = notifications
        self._requestor_name = requestor_name

    @property
    def account_id(self) -> str:
        return self._tx.account_id

    # -- the partner's side ------------------------------------------------------------

    def create(self, new: NewDelegationRequest) -> DelegationRequest:
        account = self._tx.account_id
        topic = _TOPIC.fullmatch(new.notification_channel)
        if topic is None:
            raise InvalidInput(
                "NotificationChannel must be the ARN of an SNS topic "
                "(arn:aws:sns:REGION:ACCOUNT:NAME)."
            )
        if topic.group(1) != account:
            raise InvalidInput("NotificationChannel must be an SNS topic of your own account.")
        if new.owner_account == account:
            raise InvalidInput("A delegation request cannot be targeted to its own account.")
        policy = permission_policy(new.template_document, new.parameters)
        # It becomes the delegated session's policy: a parameter must not break it.
        for problem in check_policy(policy, PolicyKind.SESSION):
            if problem.kind == "error":
                raise InvalidInput(f"The permission policy is not valid: {problem.message}")
        now = self._clock.now()
        request = DelegationRequest(
            # Sorts in creation order: ListDelegationRequests pages by id.
            request_id=f"dr-{int(now.timestamp() * 1_000_000):014x}{secrets.token_hex(10)}",
            requestor_account=account,
            requestor_name=self._requestor_name(account)[:30],
            workflow_id=new.workflow_id,
            description=new.description,
            request_message=new.request_message,
            policy_template_arn=new.template_arn,
            parameters=new.parameters,
            permission_policy=policy,
            redirect_url=new.redirect_url,
            notification_channel=new.notification_channel,
            session_duration=new.session_duration,
            only_send_by_owner=new.only_send_by_owner,
            owner_account=new.owner_account,
            owner_id=None,
            approver_id=None,
            state=S.UNASSIGNED,
            notes=None,
            rejection_reason=None,
            create_date=now,
            updated_time=now,
            expiration_time=now + UNASSIGNED_LIFETIME,
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("delegation_requests")
            if repos.delegation_requests.workflow_taken(account, new.workflow_id):
                raise EntityAlreadyExists.delegation_workflow(new.workflow_id)
            if repos.delegation_requests.count_open(account, now) >= OPEN_REQUESTS_PER_ACCOUNT:
                raise LimitExceeded.quota("DelegationRequestsPerAccount", OPEN_REQUESTS_PER_ACCOUNT)
            repos.delegation_requests.add(request)
        return request

    # -- reading -----------------------------------------------------------------------

    def find(self, request_id: str) -> DelegationRequest | None:
        """The request if the caller's account may see it: the partner's account, the
        owner's, or any account while it names none."""
        with self._tx.read() as repos:
            found = repos.delegation_requests.get(request_id)
        if found is None or not self._visible(found):
            return None
        return found

    def _visible(self, request: DelegationRequest) -> bool:
        account = self._tx.account_id
        return account in (request.requestor_account, request.owner_account) or (
            request.owner_account is None
        )

    def listing(
        self, owner_id: str | None, marker: str | None, max_items: int
    ) -> Page[DelegationRequest]:
        after = decode_marker(marker)
        with self._tx.read() as repos:
            rows = repos.delegation_requests.listing(
                self._tx.account_id, owner_id, after, max_items + 1
            )
        if len(rows) > max_items:
            rows = rows[:max_items]
            return Page(rows, encode_marker(rows[-1].request_id))
        return Page(rows, None)

    def now(self) -> datetime:
        return self._clock.now()

    # -- the customer's side -----------------------------------------------------------

    def associate(self, caller: Caller, request_id: str) -> DelegationRequest:
        def check(request: DelegationRequest) -> None:
            # Claimed already, meant for another account, or the partner's own.
            if (
                request.owner_id is not None
                or request.owner_account not in (None, caller.account_id)
                or request.requestor_account == caller.account_id
            ):
                raise NoSuchEntity.delegation_request(request_id)

        return self._move(
            request_id,
            {S.UNASSIGNED},
            "associated",
            S.ASSIGNED,
            check=check,
            associating=True,
            owner_id=caller.arn,
            owner_account=caller.account_id,
        )

    def update(self, request_id: str, notes: str | None) -> DelegationRequest:
        return self._move(
            request_id,
            {S.ASSIGNED, S.PENDING_APPROVAL},
            "updated",
            S.PENDING_APPROVAL,
            notes=notes,
        )

    def accept(self, caller: Caller, request_id: str) -> DelegationRequest:
        return self._move(
            request_id,
            {S.ASSIGNED, S.PENDING_APPROVAL},
            "accepted",
            S.ACCEPTED,
            approver_id=caller.arn,
        )

    def reject(self, request_id: str, notes: str | None) -> DelegationRequest:
        return self._move(
            request_id,
            {S.ASSIGNED, S.PENDING_APPROVAL, S.ACCEPTED},
            "rejected",
            S.REJECTED,
            rejection_reason=notes,
        )

    def send_token(self, caller: Caller, request_id: str) -> DelegationRequest:
        token = secrets.token_urlsafe(48)

        def check(request: DelegationRequest) -> None:
            if request.only_send_by_owner and caller.arn != request.owner_id:
                raise AccessDenied(
                    f"User: {caller.arn} is not the owner of delegation request {request_id}, "
                    "which only its owner may send the token of."
                )

        return self._move(
            request_id,
            {S.ACCEPTED},
            "sent",
            S.FINALIZED,
            check=check,
            token=token,
            token_hash=token_hash(token),
        )

    # -- the token, traded in by the partner (STS GetDelegatedAccessToken) ------------

    def traded_in(self, token: str) -> tuple[DelegationRequest, datetime]:
        """The finalized request a token of this (the partner's) account was sent for,
        and the end of its delegation period (SessionDuration after the send)."""
        with self._tx.read() as repos:
            request = repos.delegation_requests.by_token_hash(token_hash(token))
        if request is None or request.requestor_account != self._tx.account_id:
            # Never says whether the token exists for another account.
            raise AccessDenied("The trade-in token is not valid.")
        ends = request.updated_time + timedelta(seconds=request.session_duration)
        now = self._clock.now()
        if request.state_at(now) is not S.FINALIZED or now >= ends:
            raise ExpiredTradeInToken("The trade-in token has expired.")
        return request, ends

    def _move(
        self,
        request_id: str,
        allowed: set[DelegationState],
        verb: str,
        to: DelegationState,
        *,
        check: Callable[[DelegationRequest], None] | None = None,
        associating: bool = False,
        token: str | None = None,
        **changes: Any,
    ) -> DelegationRequest:
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            request = self._owned(repos, request_id, associating=associating)
            if check is not None:
                check(request)
            state = request.state_at(now)
            if state not in allowed:
                expected = " or ".join(sorted(s.value for s in allowed))
                raise InvalidInput(
                    f"Delegation request {request_id} is {state.value}: it can be {verb} only "
                    f"when {expected}."
                )
            expires = now + (UNASSIGNED_LIFETIME if to is S.UNASSIGNED else STATE_LIFETIME)
            values = {**changes, "state": to, "updated_time": now, "expiration_time": expires}
            repos.delegation_requests.change(request_id, values)
        values.pop("token_hash", None)
        moved = replace(request, **values)
        self._notify(moved, token)
        return moved

    def _owned(
        self, repos: Repositories, request_id: str, *, associating: bool
    ) -> DelegationRequest:
        """The request, locked; outside association, only one owned in this account."""
        request = repos.delegation_requests.get(request_id, for_update=True)
        if request is None or not self._visible(request):
            raise NoSuchEntity.delegation_request(request_id)
        if not associating and (
            request.owner_id is None or request.owner_account != self._tx.account_id
        ):
            raise NoSuchEntity.delegation_request(request_id)
        return request

    def _notify(self, request: DelegationRequest, token: str | None) -> None:
        message: dict[str, Any] = {
            "DelegationRequestId": request.request_id,
            "RequestorWorkflowId": request.workflow_id,
            "State": request.state.value,
            "OwnerAccountId": request.owner_account,
            "Time": request.updated_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if token is not None:
            message["ExchangeToken"] = token
            message["ExchangeTokenExpiration"] = (
                request.updated_time + timedelta(seconds=request.session_duration)
            ).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._notifications.publish(request.notification_channel, message)

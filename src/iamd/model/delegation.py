"""Delegation requests (temporary delegation to an AWS partner, docs/delegation.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DelegationState(StrEnum):
    UNASSIGNED = "UNASSIGNED"
    ASSIGNED = "ASSIGNED"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    ACCEPTED = "ACCEPTED"
    FINALIZED = "FINALIZED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


#: The states a request can still leave by a call (the others only expire).
OPEN_STATES = frozenset(
    {
        DelegationState.UNASSIGNED,
        DelegationState.ASSIGNED,
        DelegationState.PENDING_APPROVAL,
        DelegationState.ACCEPTED,
    }
)


@dataclass(frozen=True, slots=True)
class PolicyParameter:
    name: str
    values: tuple[str, ...]
    kind: str  # "string" or "stringList"


@dataclass(frozen=True, slots=True)
class DelegationRequest:
    request_id: str
    requestor_account: str
    requestor_name: str
    workflow_id: str
    description: str
    request_message: str | None
    policy_template_arn: str | None
    parameters: tuple[PolicyParameter, ...]
    permission_policy: str | None
    redirect_url: str | None
    notification_channel: str
    session_duration: int
    only_send_by_owner: bool
    owner_account: str | None
    owner_id: str | None
    approver_id: str | None
    state: DelegationState
    notes: str | None
    rejection_reason: str | None
    create_date: datetime
    updated_time: datetime
    expiration_time: datetime

    def state_at(self, now: datetime) -> DelegationState:
        """The state as of `now`: past its expiration time, any request is EXPIRED
        (expiry is applied when the request is next read or written, not by a sweep)."""
        if self.state is not DelegationState.EXPIRED and now >= self.expiration_time:
            return DelegationState.EXPIRED
        return self.state

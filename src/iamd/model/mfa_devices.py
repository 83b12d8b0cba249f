"""Virtual MFA devices as the services hand them around (never with their seed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from iamd.model.entities import Tag, User


class AssignmentStatus(StrEnum):
    ASSIGNED = "Assigned"
    UNASSIGNED = "Unassigned"
    ANY = "Any"


@dataclass(frozen=True, slots=True)
class VirtualMFADevice:
    serial_number: str  # the device's ARN, arn:aws:iam::ACCOUNT:mfa{path}{name}
    name: str
    path: str
    create_date: datetime
    # Set while the device is enabled for a user (EnableMFADevice).
    user: User | None = None
    enable_date: datetime | None = None
    # The newest TOTP time step accepted: older and equal steps are refused (replay).
    last_used_step: int | None = None
    tags: tuple[Tag, ...] = field(default=())
    # Time steps the device's clock runs ahead of the server's (negative: behind).
    drift_steps: int = 0

"""Instance profiles (containers that hand one role to EC2 instances) and the deletion
tasks of service-linked roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from iamd.model.entities import Role, Tag

# AWS reserves this path for service-linked roles: CreateRole refuses it, and a role
# under it is changed only by the service it is linked to (UnmodifiableEntity).
SERVICE_LINKED_ROLE_PATH = "/aws-service-role/"


#: Where IAM Identity Center provisions its roles (AWSReservedSSO_…): only it changes them.
IDENTITY_CENTER_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"


def is_service_linked(role_path: str) -> bool:
    return role_path.startswith(SERVICE_LINKED_ROLE_PATH)


def is_protected_role(role_path: str) -> bool:
    """A role only AWS changes: service-linked, or provisioned by Identity Center."""
    return is_service_linked(role_path) or role_path.startswith(IDENTITY_CENTER_ROLE_PATH)


@dataclass(frozen=True, slots=True)
class InstanceProfile:
    instance_profile_id: str
    name: str
    path: str
    arn: str
    create_date: datetime
    # At most one (InstanceRolesPerInstanceProfile), but AWS's shape is a list.
    roles: tuple[Role, ...] = ()
    tags: tuple[Tag, ...] = field(default=())


class DeletionStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class ServiceLinkedRoleDeletion:
    task_id: str
    role_name: str
    status: DeletionStatus
    reason: str | None
    create_date: datetime

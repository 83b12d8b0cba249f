"""IAM Identity Center's entities: the instance of an organization, its identity store's
users, groups and memberships, permission sets and account assignments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from iamd.model.instance_profiles import IDENTITY_CENTER_ROLE_PATH

#: Where Identity Center provisions a permission set's role in an account (AWS's path;
#: outside us-east-1 AWS adds the region, iamd's instances live in one).
RESERVED_ROLE_PATH = IDENTITY_CENTER_ROLE_PATH
RESERVED_ROLE_PREFIX = "AWSReservedSSO_"

_INSTANCE_ARN = re.compile(r"arn:aws:sso:::instance/(ssoins-[a-f0-9]{16})")
_PERMISSION_SET_ARN = re.compile(
    r"arn:aws:sso:::permissionSet/(ssoins-[a-f0-9]{16})/(ps-[a-f0-9]{16})"
)


def instance_id_of(instance_arn: str) -> str | None:
    found = _INSTANCE_ARN.fullmatch(instance_arn)
    return found.group(1) if found else None


def permission_set_ids_of(arn: str) -> tuple[str, str] | None:
    """(instance id, permission set id) of a permission set ARN, or None."""
    found = _PERMISSION_SET_ARN.fullmatch(arn)
    return (found.group(1), found.group(2)) if found else None


@dataclass(frozen=True, slots=True)
class Instance:
    instance_arn: str
    identity_store_id: str
    owner_account_id: str
    name: str | None
    status: str
    created: datetime


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    identity_store_id: str
    user_id: str
    user_name: str
    # Every other attribute as the API carries it (Name, DisplayName, Emails ...).
    attributes: dict[str, Any]
    status: str
    created: datetime
    updated: datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class DirectoryGroup:
    identity_store_id: str
    group_id: str
    display_name: str
    description: str | None
    external_ids: list[dict[str, str]]
    created: datetime
    updated: datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class GroupMembership:
    identity_store_id: str
    membership_id: str
    group_id: str
    user_id: str
    created: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class CustomerPolicyReference:
    name: str
    path: str = "/"


@dataclass(frozen=True, slots=True)
class PermissionSet:
    permission_set_arn: str
    instance_arn: str
    name: str
    description: str | None
    session_duration: str  # ISO-8601, PT1H to PT12H
    relay_state: str | None
    created: datetime
    inline_policy: str | None = None
    managed_policies: tuple[str, ...] = ()
    customer_policies: tuple[CustomerPolicyReference, ...] = ()
    # {"ManagedPolicyArn": ...} or {"CustomerManagedPolicyReference": {...}}
    boundary: dict[str, Any] | None = None
    tags: tuple[tuple[str, str], ...] = field(default=())

    @property
    def session_seconds(self) -> int:
        return duration_seconds(self.session_duration)


@dataclass(frozen=True, slots=True)
class AccountAssignment:
    instance_arn: str
    account_id: str
    permission_set_arn: str
    principal_type: str  # USER | GROUP
    principal_id: str


@dataclass(frozen=True, slots=True)
class OperationStatus:
    """An assignment's creation or deletion, or a provisioning, as its status calls show."""

    request_id: str
    instance_arn: str
    kind: str  # CREATE_ASSIGNMENT | DELETE_ASSIGNMENT | PROVISION
    status: str  # IN_PROGRESS | FAILED | SUCCEEDED
    failure_reason: str | None
    account_id: str | None
    permission_set_arn: str
    principal_type: str | None
    principal_id: str | None
    created: datetime


_DURATION = re.compile(r"PT(?:(\d{1,2})H)?(?:(\d{1,3})M)?")


def duration_seconds(text: str) -> int:
    """The seconds of an ISO-8601 duration of hours and minutes (PT1H, PT2H30M), or -1."""
    found = _DURATION.fullmatch(text)
    if found is None or not any(found.groups()):
        return -1
    hours, minutes = (int(part or 0) for part in found.groups())
    return hours * 3600 + minutes * 60


@dataclass(frozen=True, slots=True)
class ScimToken:
    """A SCIM bearer token of an instance (the secret itself is never kept)."""

    token_id: str
    instance_arn: str
    created: datetime
    expires: datetime
    last_used: datetime | None


@dataclass(frozen=True, slots=True)
class IdentitySource:
    """An instance's external SAML 2.0 identity provider (its users sign in there)."""

    instance_arn: str
    idp_entity_id: str
    idp_sso_url: str
    metadata_document: str
    updated: datetime


@dataclass(frozen=True, slots=True)
class SamlSignIn:
    """A sign-in waiting on the external identity provider (or, once its assertion was
    accepted, on the user's consent)."""

    instance_arn: str
    kind: str  # device | authorize
    payload: dict[str, str]  # the user code, or the /authorize request's parameters
    user_id: str | None
    expires: datetime

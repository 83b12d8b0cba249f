"""AWS Organizations values: the organization and its root, members, OUs, policies,
CreateAccount requests; and the ARNs AWS gives them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SERVICE_CONTROL_POLICY = "SERVICE_CONTROL_POLICY"
FULL_AWS_ACCESS_ID = "p-FullAWSAccess"
FULL_AWS_ACCESS_NAME = "FullAWSAccess"
FULL_AWS_ACCESS_DESCRIPTION = "Allows access to every operation"
FULL_AWS_ACCESS_CONTENT = (
    '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "Allow",\n'
    '      "Action": "*",\n      "Resource": "*"\n    }\n  ]\n}'
)


@dataclass(frozen=True, slots=True)
class Organization:
    organization_id: str
    management_account_id: str
    feature_set: str
    root_id: str
    scp_enabled: bool
    create_date: datetime

    @property
    def arn(self) -> str:
        return f"{self._prefix}organization/{self.organization_id}"

    @property
    def _prefix(self) -> str:
        return f"arn:aws:organizations::{self.management_account_id}:"

    def account_arn(self, account_id: str) -> str:
        return f"{self._prefix}account/{self.organization_id}/{account_id}"

    def root_arn(self) -> str:
        return f"{self._prefix}root/{self.organization_id}/{self.root_id}"

    def ou_arn(self, ou_id: str) -> str:
        return f"{self._prefix}ou/{self.organization_id}/{ou_id}"

    def policy_arn(self, policy_id: str, policy_type: str = SERVICE_CONTROL_POLICY) -> str:
        if policy_id == FULL_AWS_ACCESS_ID:
            # AWS managed policies live in AWS's account, outside any organization.
            return f"arn:aws:organizations::aws:policy/{policy_type.lower()}/{policy_id}"
        return f"{self._prefix}policy/{self.organization_id}/{policy_type.lower()}/{policy_id}"

    def arn_of(self, resource_id: str) -> str:
        """The ARN of a root, OU, account or policy id of this organization."""
        if resource_id.startswith("r-"):
            return self.root_arn()
        if resource_id.startswith("ou-"):
            return self.ou_arn(resource_id)
        if resource_id.startswith("p-"):
            return self.policy_arn(resource_id)
        return self.account_arn(resource_id)


@dataclass(frozen=True, slots=True)
class OrganizationMember:
    account_id: str
    organization_id: str
    parent_id: str
    joined_method: str  # CREATED or INVITED (the management account)
    joined_date: datetime


@dataclass(frozen=True, slots=True)
class OrganizationalUnit:
    ou_id: str
    organization_id: str
    parent_id: str
    name: str
    create_date: datetime


@dataclass(frozen=True, slots=True)
class OrganizationPolicy:
    policy_id: str
    policy_type: str
    name: str
    description: str
    content: str
    aws_managed: bool


FULL_AWS_ACCESS = OrganizationPolicy(
    FULL_AWS_ACCESS_ID,
    SERVICE_CONTROL_POLICY,
    FULL_AWS_ACCESS_NAME,
    FULL_AWS_ACCESS_DESCRIPTION,
    FULL_AWS_ACCESS_CONTENT,
    aws_managed=True,
)


@dataclass(frozen=True, slots=True)
class CreateAccountRequest:
    request_id: str
    organization_id: str
    account_name: str
    email: str
    role_name: str
    state: str  # IN_PROGRESS, SUCCEEDED, FAILED
    failure_reason: str | None
    account_id: str | None
    requested_date: datetime
    completed_date: datetime | None
    tags: tuple[tuple[str, str], ...]

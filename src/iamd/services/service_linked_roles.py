"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole and its task.

A service-linked role is named and placed by its service: `AWSServiceRoleFor<Service>`
(with `_<CustomSuffix>` where the service allows one) at the path
`/aws-service-role/<service principal>/`, trusting the service principal. Only the
service changes it afterwards: every other call that would change it answers
UnmodifiableEntity (`roles.require_changeable`, `store.owners.require_owner`), and
CreateRole refuses the path.

Deletion is a task (`task/aws-service-role/<service>/<role>/<uuid>`) that AWS runs once
the service confirms nothing uses the role. No iamd resource ever uses one, so the check
has nothing to wait for: the role is deleted in DeleteServiceLinkedRole's transaction
and its task reads SUCCEEDED from the first GetServiceLinkedRoleDeletionStatus on.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from iamd.clock import Clock
from iamd.errors import InvalidInput, LimitExceeded, NoSuchEntity, ValidationError
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Role, iam_arn
from iamd.model.instance_profiles import (
    SERVICE_LINKED_ROLE_PATH,
    DeletionStatus,
    ServiceLinkedRoleDeletion,
    is_service_linked,
)
from iamd.model.quotas import Quotas
from iamd.services.roles import DEFAULT_MAX_SESSION_DURATION, delete_role, require_role
from iamd.store.transactions import NO_CREDENTIALS, Transactions

ROLE_NAME_MAX = 64


@dataclass(frozen=True, slots=True)
class LinkedService:
    role_name: str
    custom_suffix: bool = False


# Service principals and the role each one creates, from AWS's documentation: the IAM
# User Guide's "AWS services that work with IAM" (Service-linked role column) and each
# service's "Using service-linked roles" page. Only EC2 Auto Scaling documents a
# CustomSuffix among these; OpenSearch (es) refuses one ("Custom suffix is not allowed
# for es.amazonaws.com"), and so do the others here as far as their pages say.
KNOWN_SERVICES: dict[str, LinkedService] = {
    "autoscaling.amazonaws.com": LinkedService("AWSServiceRoleForAutoScaling", True),
    "cloudtrail.amazonaws.com": LinkedService("AWSServiceRoleForCloudTrail"),
    "config.amazonaws.com": LinkedService("AWSServiceRoleForConfig"),
    "ecs.amazonaws.com": LinkedService("AWSServiceRoleForECS"),
    "eks.amazonaws.com": LinkedService("AWSServiceRoleForAmazonEKS"),
    "eks-nodegroup.amazonaws.com": LinkedService("AWSServiceRoleForAmazonEKSNodegroup"),
    "elasticache.amazonaws.com": LinkedService("AWSServiceRoleForElastiCache"),
    "elasticbeanstalk.amazonaws.com": LinkedService("AWSServiceRoleForElasticBeanstalk"),
    "elasticloadbalancing.amazonaws.com": LinkedService("AWSServiceRoleForElasticLoadBalancing"),
    "elasticmapreduce.amazonaws.com": LinkedService("AWSServiceRoleForEMRCleanup"),
    "es.amazonaws.com": LinkedService("AWSServiceRoleForAmazonElasticsearchService"),
    "guardduty.amazonaws.com": LinkedService("AWSServiceRoleForAmazonGuardDuty"),
    "kafka.amazonaws.com": LinkedService("AWSServiceRoleForKafka"),
    "opensearchservice.amazonaws.com": LinkedService("AWSServiceRoleForAmazonOpenSearchService"),
    "organizations.amazonaws.com": LinkedService("AWSServiceRoleForOrganizations"),
    "rds.amazonaws.com": LinkedService("AWSServiceRoleForRDS"),
    "redshift.amazonaws.com": LinkedService("AWSServiceRoleForRedshift"),
    "spot.amazonaws.com": LinkedService("AWSServiceRoleForEC2Spot"),
    "spotfleet.amazonaws.com": LinkedService("AWSServiceRoleForEC2SpotFleet"),
    "ssm.amazonaws.com": LinkedService("AWSServiceRoleForAmazonSSM"),
    "sso.amazonaws.com": LinkedService("AWSServiceRoleForSSO"),
    "support.amazonaws.com": LinkedService("AWSServiceRoleForSupport"),
    "trustedadvisor.amazonaws.com": LinkedService("AWSServiceRoleForTrustedAdvisor"),
}

_TASK_ID = re.compile(r"task/aws-service-role/([^/]+)/([\w+=,.@-]+)/([0-9a-f-]{36})")


def service_role_path(service: str) -> str:
    return f"{SERVICE_LINKED_ROLE_PATH}{service}/"


def service_role_name(service: str, custom_suffix: str | None) -> str:
    """The name AWS gives the role of `service`, or InvalidInput as AWS answers."""
    known = KNOWN_SERVICES.get(service)
    if known is None:
        # [I] AWS's message for a principal it does not know is not documented.
        raise InvalidInput(f"Service name {service} is not a recognized AWS service.")
    if custom_suffix is None:
        return known.role_name
    if not known.custom_suffix:
        raise InvalidInput(f"Custom suffix is not allowed for {service}")
    name = f"{known.role_name}_{custom_suffix}"
    if len(name) > ROLE_NAME_MAX:
        raise ValidationError.constraint(
            "roleName", f"Member must have length less than or equal to {ROLE_NAME_MAX}", value=name
        )
    return name


def task_role_arn(account_id: str, task_id: str) -> str | None:
    """The ARN of the role a deletion task id names, or None for a malformed id."""
    match = _TASK_ID.fullmatch(task_id)
    if match is None:
        return None
    return iam_arn(account_id, "role", service_role_path(match.group(1)), match.group(2))


def _trust_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        separators=(",", ":"),
    )


class ServiceLinkedRoleService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas

    def create(self, service: str, description: str | None, custom_suffix: str | None) -> Role:
        name = service_role_name(service, custom_suffix)
        path = service_role_path(service)
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("roles")
            if repos.roles.get_by_name(name) is not None:
                raise InvalidInput(
                    f"Service role name {name} has been taken in this account, "
                    "please try a different suffix."
                )
            if repos.roles.count() >= self._quotas.roles:
                raise LimitExceeded.quota("RolesPerAccount", self._quotas.roles)
            role = Role(
                role_id=self._ids.entity_id(IdPrefix.ROLE),
                name=name,
                path=path,
                arn=iam_arn(self._tx.account_id, "role", path, name),
                create_date=self._clock.now(),
                assume_role_policy=_trust_policy(service),
                max_session_duration=DEFAULT_MAX_SESSION_DURATION,
                description=description or None,
            )
            repos.roles.add(role)
            return role

    def delete(self, role_name: str) -> str:
        """Start (and, with nothing using the role, finish) its deletion; the task id."""
        with self._tx.write() as repos:
            role = require_role(repos, role_name, for_update=True)
            if not is_service_linked(role.path):
                # [I] AWS's answer for an ordinary role is not documented.
                raise InvalidInput(f"Role {role.name} is not a service-linked role.")
            service = role.path[len(SERVICE_LINKED_ROLE_PATH) :].strip("/")
            task_id = f"task/aws-service-role/{service}/{role.name}/{uuid.uuid4()}"
            delete_role(repos, role)
            repos.service_linked_role_deletions.add(
                ServiceLinkedRoleDeletion(
                    task_id=task_id,
                    role_name=role.name,
                    status=DeletionStatus.SUCCEEDED,
                    reason=None,
                    create_date=self._clock.now(),
                )
            )
            return task_id

    def deletion_status(self, task_id: str) -> ServiceLinkedRoleDeletion:
        if _TASK_ID.fullmatch(task_id) is None:
            # [I] wording not documented; the model lists InvalidInput for this call.
            raise InvalidInput(f"Invalid deletion task id: {task_id}")
        with self._tx.read() as repos:
            task = repos.service_linked_role_deletions.get(task_id)
        if task is None:
            # [I] wording not documented.
            raise NoSuchEntity(f"Deletion task {task_id} cannot be found.")
        return task

"""Permission sets, account assignments and their provisioning (sso-admin).

A permission set is a template of a role: an inline policy, AWS managed policies,
customer managed policy references (by name and path, resolved in each account), a
permissions boundary and a session duration. An account assignment gives a user or a
group of the identity store a permission set in an account of the organization; making
it provisions, in that account, the role AWS provisions:
`AWSReservedSSO_<name>_<16 hex>` under `/aws-reserved/sso.amazonaws.com/`, trusting the
instance (its sessions are issued by the portal, services/sso_portal.py), carrying the
permission set's policies; ProvisionPermissionSet brings a changed permission set to
every account that has it. The role is deleted with the last assignment of its
permission set in its account. Only Identity Center changes these roles
(UnmodifiableEntity for everyone else, `model.identity_center.is_identity_center_role`).

The asynchronous calls finish before they answer, so their status records are already
SUCCEEDED or FAILED (with AWS's FailureReason); the records stay for the status calls.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from iamd.clock import Clock
from iamd.errors import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationError,
)
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Role
from iamd.model.arn import iam_arn
from iamd.model.identity_center import (
    RESERVED_ROLE_PATH,
    RESERVED_ROLE_PREFIX,
    AccountAssignment,
    CustomerPolicyReference,
    Instance,
    OperationStatus,
    PermissionSet,
    duration_seconds,
    permission_set_ids_of,
)
from iamd.model.owners import OwnerKind
from iamd.policy import check_policy
from iamd.policy.document import PolicyKind
from iamd.services.identity_store import StorePage, after_key, page_of_keys
from iamd.services.roles import delete_role
from iamd.store.owners import attachments_table
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

MAX_PERMISSION_SETS = 2000
MAX_POLICIES_PER_PERMISSION_SET = 20
MAX_INLINE_POLICY = 32_768
DEFAULT_PAGE_SIZE = 100
INLINE_POLICY_NAME = "AwsSSOInlinePolicy"
_MIN_SESSION, _MAX_SESSION = 3600, 12 * 3600

CREATE = "CREATE_ASSIGNMENT"
DELETE = "DELETE_ASSIGNMENT"
PROVISION = "PROVISION"


class ProvisioningFailed(Exception):
    """A role could not be made as the permission set says (its FailureReason)."""


class PermissionSetService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        ids: IdGenerator,
        require_instance: Callable[[Repositories, str], Instance],
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._require_instance = require_instance

    # -- permission sets ---------------------------------------------------------------

    def create(
        self,
        instance_arn: str,
        name: str,
        description: str | None,
        session_duration: str | None,
        relay_state: str | None,
        tags: Sequence[Mapping[str, str]],
    ) -> PermissionSet:
        duration = _session_duration(session_duration or "PT1H")
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            instance = self._require_instance(repos, instance_arn)
            if repos.identity_center.count_permission_sets(instance_arn) >= MAX_PERMISSION_SETS:
                raise ServiceQuotaExceededException(
                    "The request would cause the number of permission sets to exceed the "
                    "maximum allowed."
                )
            instance_id = instance.instance_arn.rsplit("/", 1)[1]
            permission_set = PermissionSet(
                permission_set_arn=(
                    f"arn:aws:sso:::permissionSet/{instance_id}/ps-{secrets.token_hex(8)}"
                ),
                instance_arn=instance_arn,
                name=name,
                description=description,
                session_duration=duration,
                relay_state=relay_state,
                created=self._clock.now(),
                tags=tuple((tag["Key"], tag["Value"]) for tag in tags),
            )
            repos.identity_center.add_permission_set(permission_set)
        return permission_set

    def get(self, instance_arn: str, arn: str) -> PermissionSet:
        with self._tx.read() as repos:
            return self._require(repos, instance_arn, arn)

    def listing(
        self, instance_arn: str, token: str | None, max_results: int | None
    ) -> StorePage[str]:
        after = after_key("permission-sets", token)
        size = max_results or DEFAULT_PAGE_SIZE
        with self._tx.read() as repos:
            self._require_instance(repos, instance_arn)
            found = repos.identity_center.permission_sets(instance_arn, after, size + 1)
        page = page_of_keys(found, size, "permission-sets", lambda ps: ps.permission_set_arn)
        return StorePage([ps.permission_set_arn for ps in page.items], page.next_token)

    def update(
        self,
        instance_arn: str,
        arn: str,
        description: str | None,
        session_duration: str | None,
        relay_state: str | None,
    ) -> None:
        def change(ps: PermissionSet) -> PermissionSet:
            return replace(
                ps,
                description=description if description is not None else ps.description,
                session_duration=(
                    _session_duration(session_duration) if session_duration else ps.session_duration
                ),
                relay_state=relay_state if relay_state is not None else ps.relay_state,
            )

        self._change(instance_arn, arn, change)

    def delete(self, instance_arn: str, arn: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._require(repos, instance_arn, arn)
            if repos.identity_center.assignments(instance_arn, permission_set_arn=arn):
                raise ConflictException(
                    "The permission set is assigned to one or more accounts; delete the "
                    "account assignments first."
                )
            if repos.identity_center.provisioned_accounts(arn):
                raise ConflictException(
                    "The permission set is provisioned to one or more accounts."
                )
            repos.identity_center.delete_permission_set(arn)

    # -- its policies ------------------------------------------------------------------

    def put_inline_policy(self, instance_arn: str, arn: str, document: str) -> None:
        if len(document) > MAX_INLINE_POLICY:
            raise ValidationError(
                f"The inline policy exceeds the maximum length of {MAX_INLINE_POLICY}."
            )
        problems = check_policy(document, PolicyKind.IDENTITY)
        if problems:
            raise ValidationError(f"The inline policy is not valid: {problems[0].message}")
        self._change(instance_arn, arn, lambda ps: replace(ps, inline_policy=document))

    def delete_inline_policy(self, instance_arn: str, arn: str) -> None:
        self._change(instance_arn, arn, lambda ps: replace(ps, inline_policy=None))

    def attach_managed_policy(self, instance_arn: str, arn: str, policy_arn: str) -> None:
        def change(ps: PermissionSet) -> PermissionSet:
            if policy_arn in ps.managed_policies:
                raise ConflictException(
                    f"Policy {policy_arn} is already attached to the permission set."
                )
            _room_for_one_more(ps)
            return replace(ps, managed_policies=(*ps.managed_policies, policy_arn))

        with self._tx.read() as repos:
            if repos.policies.get_by_arn(policy_arn) is None:
                raise ResourceNotFoundException(f"Policy {policy_arn} does not exist.")
        self._change(instance_arn, arn, change)

    def detach_managed_policy(self, instance_arn: str, arn: str, policy_arn: str) -> None:
        def change(ps: PermissionSet) -> PermissionSet:
            if policy_arn not in ps.managed_policies:
                raise ResourceNotFoundException(
                    f"Policy {policy_arn} is not attached to the permission set."
                )
            kept = tuple(p for p in ps.managed_policies if p != policy_arn)
            return replace(ps, managed_policies=kept)

        self._change(instance_arn, arn, change)

    def attach_customer_policy(
        self, instance_arn: str, arn: str, reference: CustomerPolicyReference
    ) -> None:
        def change(ps: PermissionSet) -> PermissionSet:
            if reference in ps.customer_policies:
                raise ConflictException(
                    "The customer managed policy reference is already attached."
                )
            _room_for_one_more(ps)
            return replace(ps, customer_policies=(*ps.customer_policies, reference))

        self._change(instance_arn, arn, change)

    def detach_customer_policy(
        self, instance_arn: str, arn: str, reference: CustomerPolicyReference
    ) -> None:
        def change(ps: PermissionSet) -> PermissionSet:
            if reference not in ps.customer_policies:
                raise ResourceNotFoundException(
                    "The customer managed policy reference is not attached."
                )
            kept = tuple(r for r in ps.customer_policies if r != reference)
            return replace(ps, customer_policies=kept)

        self._change(instance_arn, arn, change)

    def put_boundary(self, instance_arn: str, arn: str, boundary: Mapping[str, Any]) -> None:
        managed = boundary.get("ManagedPolicyArn")
        customer = boundary.get("CustomerManagedPolicyReference")
        if (managed is None) == (customer is None) or (
            customer is not None and "Name" not in customer
        ):
            raise ValidationError(
                "A permissions boundary is either a ManagedPolicyArn or a "
                "CustomerManagedPolicyReference."
            )
        value: dict[str, Any]
        if customer is None:
            value = {"ManagedPolicyArn": managed}
        else:
            reference = {"Name": customer["Name"], "Path": customer.get("Path", "/")}
            value = {"CustomerManagedPolicyReference": reference}
        self._change(instance_arn, arn, lambda ps: replace(ps, boundary=value))

    def delete_boundary(self, instance_arn: str, arn: str) -> None:
        def change(ps: PermissionSet) -> PermissionSet:
            if ps.boundary is None:
                raise ResourceNotFoundException("The permission set has no permissions boundary.")
            return replace(ps, boundary=None)

        self._change(instance_arn, arn, change)

    def tag(self, instance_arn: str, arn: str, tags: Sequence[Mapping[str, str]]) -> None:
        def change(ps: PermissionSet) -> PermissionSet:
            merged = dict(ps.tags)
            merged.update({tag["Key"]: tag["Value"] for tag in tags})
            if len(merged) > 50:
                raise ServiceQuotaExceededException("A resource can have at most 50 tags.")
            return replace(ps, tags=tuple(merged.items()))

        self._change(instance_arn, arn, change)

    def untag(self, instance_arn: str, arn: str, keys: Sequence[str]) -> None:
        self._change(
            instance_arn,
            arn,
            lambda ps: replace(ps, tags=tuple(tag for tag in ps.tags if tag[0] not in keys)),
        )

    # -- assignments -------------------------------------------------------------------

    def assign(self, assignment: AccountAssignment) -> OperationStatus:
        return self._assignment_change(assignment, CREATE)

    def unassign(self, assignment: AccountAssignment) -> OperationStatus:
        return self._assignment_change(assignment, DELETE)

    def assignments(self, instance_arn: str, account_id: str, arn: str) -> list[AccountAssignment]:
        with self._tx.read() as repos:
            self._require(repos, instance_arn, arn)
            return repos.identity_center.assignments(
                instance_arn, account_id=account_id, permission_set_arn=arn
            )

    def assignments_of(
        self,
        instance_arn: str,
        principal_type: str,
        principal_id: str,
        account_id: str | None,
    ) -> list[AccountAssignment]:
        with self._tx.read() as repos:
            self._require_instance(repos, instance_arn)
            return repos.identity_center.assignments(
                instance_arn, account_id=account_id, principals=[(principal_type, principal_id)]
            )

    def provisioned_accounts(self, instance_arn: str, arn: str) -> list[str]:
        with self._tx.read() as repos:
            self._require(repos, instance_arn, arn)
            return repos.identity_center.provisioned_accounts(arn)

    def provisioned_to(self, instance_arn: str, account_id: str) -> list[str]:
        with self._tx.read() as repos:
            self._require_instance(repos, instance_arn)
            return repos.identity_center.provisioned_to(instance_arn, account_id)

    def provision(self, instance_arn: str, arn: str, account_id: str | None) -> OperationStatus:
        """ProvisionPermissionSet: to one account, or to every account that has it."""
        with self._tx.write() as repos:
            ps = self._require(repos, instance_arn, arn)
            instance = self._require_instance(repos, instance_arn)
            targets = (
                [account_id]
                if account_id is not None
                else repos.identity_center.provisioned_accounts(arn)
            )
            status, reason = "SUCCEEDED", None
            try:
                with repos.conn.begin_nested():
                    for target in targets:
                        self._check_target(repos, instance, target)
                        self._provision_role(repos, ps, target)
            except ProvisioningFailed as failed:
                status, reason = "FAILED", str(failed)
            record = OperationStatus(
                str(uuid.uuid4()),
                instance_arn,
                PROVISION,
                status,
                reason,
                account_id,
                arn,
                None,
                None,
                self._clock.now(),
            )
            repos.identity_center.add_operation(record)
        return record

    def status(self, instance_arn: str, kind: str, request_id: str) -> OperationStatus:
        with self._tx.read() as repos:
            self._require_instance(repos, instance_arn)
            found = repos.identity_center.operation(instance_arn, kind, request_id)
        if found is None:
            raise ResourceNotFoundException(f"Request {request_id} does not exist.")
        return found

    def statuses(self, instance_arn: str, kind: str, status: str | None) -> list[OperationStatus]:
        with self._tx.read() as repos:
            self._require_instance(repos, instance_arn)
            return repos.identity_center.operations(instance_arn, kind, status)

    # -- the work ----------------------------------------------------------------------

    def _assignment_change(self, assignment: AccountAssignment, kind: str) -> OperationStatus:
        with self._tx.write() as repos:
            instance = self._require_instance(repos, assignment.instance_arn)
            ps = self._require(repos, assignment.instance_arn, assignment.permission_set_arn)
            self._check_target(repos, instance, assignment.account_id)
            self._check_principal(repos, instance, assignment)
            status, reason = "SUCCEEDED", None
            try:
                with repos.conn.begin_nested():
                    if kind == CREATE:
                        repos.identity_center.add_assignment(assignment, self._clock.now())
                        self._provision_role(repos, ps, assignment.account_id)
                    else:
                        repos.identity_center.delete_assignment(assignment)
                        remaining = repos.identity_center.assignments(
                            assignment.instance_arn,
                            account_id=assignment.account_id,
                            permission_set_arn=ps.permission_set_arn,
                        )
                        if not remaining:
                            self._remove_role(repos, ps, assignment.account_id)
            except ProvisioningFailed as failed:
                status, reason = "FAILED", str(failed)
            record = OperationStatus(
                str(uuid.uuid4()),
                assignment.instance_arn,
                kind,
                status,
                reason,
                assignment.account_id,
                assignment.permission_set_arn,
                assignment.principal_type,
                assignment.principal_id,
                self._clock.now(),
            )
            repos.identity_center.add_operation(record)
        return record

    def _check_target(self, repos: Repositories, instance: Instance, account_id: str) -> None:
        """The account is the instance owner's, or in the owner's organization."""
        if account_id == instance.owner_account_id:
            return
        owner = repos.organizations.member(instance.owner_account_id)
        target = repos.organizations.member(account_id)
        if owner is None or target is None or owner.organization_id != target.organization_id:
            raise ValidationError(f"The account {account_id} is not in the organization.")

    def _check_principal(
        self, repos: Repositories, instance: Instance, assignment: AccountAssignment
    ) -> None:
        store = instance.identity_store_id
        if assignment.principal_type == "USER":
            found: object = repos.identity_center.user(store, assignment.principal_id)
        else:
            found = repos.identity_center.group(store, assignment.principal_id)
        if found is None:
            raise ResourceNotFoundException(
                f"The {assignment.principal_type.lower()} {assignment.principal_id} does "
                "not exist in the identity store."
            )

    def _provision_role(self, repos: Repositories, ps: PermissionSet, account_id: str) -> None:
        """Make (or bring up to date) the permission set's role in the account."""
        account = repos.in_account(account_id)
        name = repos.identity_center.provisioned_role(account_id, ps.permission_set_arn)
        if name is None:
            name = f"{RESERVED_ROLE_PREFIX}{ps.name}_{secrets.token_hex(8)}"
        role = account.roles.get_by_name(name, for_update=True)
        if role is None:
            role = Role(
                role_id=self._ids.entity_id(IdPrefix.ROLE),
                name=name,
                path=RESERVED_ROLE_PATH,
                arn=iam_arn(account_id, "role", RESERVED_ROLE_PATH, name),
                create_date=self._clock.now(),
                assume_role_policy=_trust_policy(account_id, ps),
                max_session_duration=ps.session_seconds,
            )
            account.roles.add(role)
        else:
            account.roles.update(role.role_id, max_session_duration=ps.session_seconds)
        inline = account.role_inline_policies
        if ps.inline_policy is not None:
            inline.put(role.role_id, INLINE_POLICY_NAME, ps.inline_policy)
        else:
            inline.delete(role.role_id, INLINE_POLICY_NAME)
        wanted = self._policy_ids(account, ps, account_id)
        table = attachments_table(OwnerKind.ROLE)
        column = OwnerKind.ROLE.owner_column
        attached = {p.arn for p in account.policies.attached_to(table, column, role.role_id)}
        for arn in wanted.keys() - attached:
            account.policies.attach(table, column, role.role_id, wanted[arn], self._clock.now())
        for arn in attached - wanted.keys():
            _detach(account, role, arn)
        account.roles.set_permissions_boundary(
            role.role_id, self._boundary_arn(account, ps, account_id)
        )
        repos.identity_center.set_provisioned(
            ps.instance_arn, account_id, ps.permission_set_arn, name, self._clock.now()
        )

    def _policy_ids(
        self, account: Repositories, ps: PermissionSet, account_id: str
    ) -> dict[str, str]:
        """The ARN and id of every policy the role gets (ProvisioningFailed: one is missing)."""
        ids: dict[str, str] = {}
        arns = [*ps.managed_policies, *(_customer_arn(account_id, r) for r in ps.customer_policies)]
        for arn in arns:
            policy = account.policies.get_by_arn(arn)
            if policy is None:
                raise ProvisioningFailed(
                    f"Received a 404 status error: Policy {arn} does not exist in account "
                    f"{account_id}."
                )
            ids[arn] = policy.policy_id
        return ids

    def _boundary_arn(
        self, account: Repositories, ps: PermissionSet, account_id: str
    ) -> str | None:
        if ps.boundary is None:
            return None
        if "ManagedPolicyArn" in ps.boundary:
            arn = str(ps.boundary["ManagedPolicyArn"])
        else:
            reference = ps.boundary["CustomerManagedPolicyReference"]
            arn = _customer_arn(
                account_id, CustomerPolicyReference(reference["Name"], reference.get("Path", "/"))
            )
        if account.policies.get_by_arn(arn) is None:
            raise ProvisioningFailed(
                f"Received a 404 status error: Policy {arn} does not exist in account {account_id}."
            )
        return arn

    def _remove_role(self, repos: Repositories, ps: PermissionSet, account_id: str) -> None:
        name = repos.identity_center.provisioned_role(account_id, ps.permission_set_arn)
        if name is None:
            return
        account = repos.in_account(account_id)
        role = account.roles.get_by_name(name, for_update=True)
        if role is not None:
            table = attachments_table(OwnerKind.ROLE)
            column = OwnerKind.ROLE.owner_column
            for policy in account.policies.attached_to(table, column, role.role_id):
                _detach(account, role, policy.arn)
            account.role_inline_policies.delete(role.role_id, INLINE_POLICY_NAME)
            delete_role(account, role)
        repos.identity_center.unset_provisioned(account_id, ps.permission_set_arn)

    def _require(self, repos: Repositories, instance_arn: str, arn: str) -> PermissionSet:
        self._require_instance(repos, instance_arn)
        ids = permission_set_ids_of(arn)
        found = repos.identity_center.permission_set(arn) if ids else None
        if found is None or found.instance_arn != instance_arn:
            raise ResourceNotFoundException("Could not find PermissionSet with the specified ARN.")
        return found

    def _change(
        self, instance_arn: str, arn: str, change: Callable[[PermissionSet], PermissionSet]
    ) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            ps = self._require(repos, instance_arn, arn)
            repos.identity_center.replace_permission_set(change(ps))


def _detach(account: Repositories, role: Role, policy_arn: str) -> None:
    policy = account.policies.get_by_arn(policy_arn)
    if policy is not None:
        account.policies.detach(
            attachments_table(OwnerKind.ROLE),
            OwnerKind.ROLE.owner_column,
            role.role_id,
            policy.policy_id,
        )


def _room_for_one_more(ps: PermissionSet) -> None:
    if len(ps.managed_policies) + len(ps.customer_policies) >= MAX_POLICIES_PER_PERMISSION_SET:
        raise ServiceQuotaExceededException(
            f"A permission set can have at most {MAX_POLICIES_PER_PERMISSION_SET} managed policies."
        )


def _session_duration(text: str) -> str:
    seconds = duration_seconds(text)
    if not _MIN_SESSION <= seconds <= _MAX_SESSION:
        raise ValidationError(
            "The session duration must be between 1 and 12 hours (PT1H to PT12H)."
        )
    return text


def _customer_arn(account_id: str, reference: CustomerPolicyReference) -> str:
    return iam_arn(account_id, "policy", reference.path or "/", reference.name)


def _trust_policy(account_id: str, ps: PermissionSet) -> str:
    instance_id = ps.instance_arn.rsplit("ssoins-", 1)[1]
    provider = f"arn:aws:iam::{account_id}:saml-provider/AWSSSO_{instance_id}_DO_NOT_DELETE"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider},
                    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                    "Condition": {
                        "StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}
                    },
                }
            ],
        },
        separators=(",", ":"),
    )

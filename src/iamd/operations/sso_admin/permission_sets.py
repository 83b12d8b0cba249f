"""Permission sets, their policies and tags, account assignments and provisioning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iamd.errors import ResourceNotFoundException, ValidationError
from iamd.model.identity_center import (
    AccountAssignment,
    CustomerPolicyReference,
    OperationStatus,
    PermissionSet,
)
from iamd.operations.registry import CallContext, Operation, Params, Result
from iamd.operations.sso_admin.instances import instance_resource
from iamd.services.identity_store import page_of_list
from iamd.services.permission_sets import CREATE, DELETE, PROVISION


def permission_set_resource(_ctx: CallContext, p: Params) -> str:
    return str(p["PermissionSetArn"])


def _shape(ps: PermissionSet) -> dict[str, Any]:
    return {
        "Name": ps.name,
        "PermissionSetArn": ps.permission_set_arn,
        "Description": ps.description,
        "CreatedDate": ps.created,
        "SessionDuration": ps.session_duration,
        "RelayState": ps.relay_state,
    }


def _assignment_status(status: OperationStatus) -> dict[str, Any]:
    return {
        "Status": status.status,
        "RequestId": status.request_id,
        "FailureReason": status.failure_reason,
        "TargetId": status.account_id,
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": status.permission_set_arn,
        "PrincipalType": status.principal_type,
        "PrincipalId": status.principal_id,
        "CreatedDate": status.created,
    }


def _provisioning_status(status: OperationStatus) -> dict[str, Any]:
    return {
        "Status": status.status,
        "RequestId": status.request_id,
        "AccountId": status.account_id,
        "PermissionSetArn": status.permission_set_arn,
        "FailureReason": status.failure_reason,
        "CreatedDate": status.created,
    }


def _assignment_rows(found: list[AccountAssignment]) -> list[dict[str, str]]:
    return [
        {
            "AccountId": a.account_id,
            "PermissionSetArn": a.permission_set_arn,
            "PrincipalType": a.principal_type,
            "PrincipalId": a.principal_id,
        }
        for a in found
    ]


def _paged(key: str, items: list[Any], listing: str, p: Params) -> Result:
    page = page_of_list(items, listing, p.get("NextToken"), p.get("MaxResults"))
    return {key: page.items, "NextToken": page.next_token}


def _assignment(p: Params) -> AccountAssignment:
    if p["TargetType"] != "AWS_ACCOUNT":
        raise ValidationError("TargetType must be AWS_ACCOUNT.")
    return AccountAssignment(
        p["InstanceArn"], p["TargetId"], p["PermissionSetArn"], p["PrincipalType"], p["PrincipalId"]
    )


def _reference(p: Params) -> CustomerPolicyReference:
    reference = p["CustomerManagedPolicyReference"]
    return CustomerPolicyReference(reference["Name"], reference.get("Path", "/"))


# -- permission sets -------------------------------------------------------------------


def create_permission_set(ctx: CallContext, p: Params) -> Result:
    ps = ctx.services.permission_sets.create(
        p["InstanceArn"],
        p["Name"],
        p.get("Description"),
        p.get("SessionDuration"),
        p.get("RelayState"),
        p.get("Tags", []),
    )
    return {"PermissionSet": _shape(ps)}


def describe_permission_set(ctx: CallContext, p: Params) -> Result:
    ps = ctx.services.permission_sets.get(p["InstanceArn"], p["PermissionSetArn"])
    return {"PermissionSet": _shape(ps)}


def update_permission_set(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.update(
        p["InstanceArn"],
        p["PermissionSetArn"],
        p.get("Description"),
        p.get("SessionDuration"),
        p.get("RelayState"),
    )
    return None


def delete_permission_set(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.delete(p["InstanceArn"], p["PermissionSetArn"])
    return None


def list_permission_sets(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.permission_sets.listing(
        p["InstanceArn"], p.get("NextToken"), p.get("MaxResults")
    )
    return {"PermissionSets": page.items, "NextToken": page.next_token}


# -- their policies --------------------------------------------------------------------


def put_inline_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.put_inline_policy(
        p["InstanceArn"], p["PermissionSetArn"], p["InlinePolicy"]
    )
    return None


def get_inline_policy(ctx: CallContext, p: Params) -> Result:
    ps = ctx.services.permission_sets.get(p["InstanceArn"], p["PermissionSetArn"])
    return {"InlinePolicy": ps.inline_policy or ""}


def delete_inline_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.delete_inline_policy(p["InstanceArn"], p["PermissionSetArn"])
    return None


def attach_managed_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.attach_managed_policy(
        p["InstanceArn"], p["PermissionSetArn"], p["ManagedPolicyArn"]
    )
    return None


def detach_managed_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.detach_managed_policy(
        p["InstanceArn"], p["PermissionSetArn"], p["ManagedPolicyArn"]
    )
    return None


def list_managed_policies(ctx: CallContext, p: Params) -> Result:
    ps = ctx.services.permission_sets.get(p["InstanceArn"], p["PermissionSetArn"])
    attached = [{"Name": arn.rsplit("/", 1)[1], "Arn": arn} for arn in ps.managed_policies]
    return _paged("AttachedManagedPolicies", attached, "managed-policies", p)


def attach_customer_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.attach_customer_policy(
        p["InstanceArn"], p["PermissionSetArn"], _reference(p)
    )
    return None


def detach_customer_policy(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.detach_customer_policy(
        p["InstanceArn"], p["PermissionSetArn"], _reference(p)
    )
    return None


def list_customer_policies(ctx: CallContext, p: Params) -> Result:
    ps = ctx.services.permission_sets.get(p["InstanceArn"], p["PermissionSetArn"])
    references = [{"Name": r.name, "Path": r.path} for r in ps.customer_policies]
    return _paged("CustomerManagedPolicyReferences", references, "customer-policies", p)


def put_boundary(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.put_boundary(
        p["InstanceArn"], p["PermissionSetArn"], p["PermissionsBoundary"]
    )
    return None


def get_boundary(ctx: CallContext, p: Params) -> Result:
    ps = ctx.services.permission_sets.get(p["InstanceArn"], p["PermissionSetArn"])
    if ps.boundary is None:
        raise ResourceNotFoundException("The permission set has no permissions boundary.")
    return {"PermissionsBoundary": ps.boundary}


def delete_boundary(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.delete_boundary(p["InstanceArn"], p["PermissionSetArn"])
    return None


# -- tags ------------------------------------------------------------------------------


def tag_resource(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.tag(p["InstanceArn"], p["ResourceArn"], p["Tags"])
    return None


def untag_resource(ctx: CallContext, p: Params) -> Result:
    ctx.services.permission_sets.untag(p["InstanceArn"], p["ResourceArn"], p["TagKeys"])
    return None


def list_tags(ctx: CallContext, p: Params) -> Result:
    ps = ctx.services.permission_sets.get(p["InstanceArn"], p["ResourceArn"])
    tags = [{"Key": key, "Value": value} for key, value in ps.tags]
    return _paged("Tags", tags, "tags", p)


# -- assignments and provisioning ------------------------------------------------------


def create_account_assignment(ctx: CallContext, p: Params) -> Result:
    status = ctx.services.permission_sets.assign(_assignment(p))
    return {"AccountAssignmentCreationStatus": _assignment_status(status)}


def delete_account_assignment(ctx: CallContext, p: Params) -> Result:
    status = ctx.services.permission_sets.unassign(_assignment(p))
    return {"AccountAssignmentDeletionStatus": _assignment_status(status)}


def describe_creation_status(ctx: CallContext, p: Params) -> Result:
    status = ctx.services.permission_sets.status(
        p["InstanceArn"], CREATE, p["AccountAssignmentCreationRequestId"]
    )
    return {"AccountAssignmentCreationStatus": _assignment_status(status)}


def describe_deletion_status(ctx: CallContext, p: Params) -> Result:
    status = ctx.services.permission_sets.status(
        p["InstanceArn"], DELETE, p["AccountAssignmentDeletionRequestId"]
    )
    return {"AccountAssignmentDeletionStatus": _assignment_status(status)}


def _status_list(kind: str, key: str) -> Callable[[CallContext, Params], Result]:
    def handler(ctx: CallContext, p: Params) -> Result:
        wanted = (p.get("Filter") or {}).get("Status")
        statuses = ctx.services.permission_sets.statuses(p["InstanceArn"], kind, wanted)
        metadata = [
            {"Status": s.status, "RequestId": s.request_id, "CreatedDate": s.created}
            for s in statuses
        ]
        return _paged(key, metadata, key, p)

    return handler


def describe_provisioning_status(ctx: CallContext, p: Params) -> Result:
    status = ctx.services.permission_sets.status(
        p["InstanceArn"], PROVISION, p["ProvisionPermissionSetRequestId"]
    )
    return {"PermissionSetProvisioningStatus": _provisioning_status(status)}


def list_account_assignments(ctx: CallContext, p: Params) -> Result:
    found = ctx.services.permission_sets.assignments(
        p["InstanceArn"], p["AccountId"], p["PermissionSetArn"]
    )
    return _paged("AccountAssignments", _assignment_rows(found), "assignments", p)


def list_assignments_for_principal(ctx: CallContext, p: Params) -> Result:
    found = ctx.services.permission_sets.assignments_of(
        p["InstanceArn"],
        p["PrincipalType"],
        p["PrincipalId"],
        (p.get("Filter") or {}).get("AccountId"),
    )
    return _paged("AccountAssignments", _assignment_rows(found), "principal-assignments", p)


def list_accounts_for_permission_set(ctx: CallContext, p: Params) -> Result:
    accounts = ctx.services.permission_sets.provisioned_accounts(
        p["InstanceArn"], p["PermissionSetArn"]
    )
    return _paged("AccountIds", accounts, "provisioned-accounts", p)


def list_permission_sets_provisioned(ctx: CallContext, p: Params) -> Result:
    arns = ctx.services.permission_sets.provisioned_to(p["InstanceArn"], p["AccountId"])
    return _paged("PermissionSets", arns, "provisioned-sets", p)


def provision_permission_set(ctx: CallContext, p: Params) -> Result:
    target_type = p["TargetType"]
    target = p.get("TargetId")
    if target_type == "AWS_ACCOUNT" and not target:
        raise ValidationError("TargetId is required when TargetType is AWS_ACCOUNT.")
    status = ctx.services.permission_sets.provision(
        p["InstanceArn"], p["PermissionSetArn"], target if target_type == "AWS_ACCOUNT" else None
    )
    return {"PermissionSetProvisioningStatus": _provisioning_status(status)}


_ON_PERMISSION_SET = {
    "CreatePermissionSet": (create_permission_set, instance_resource),
    "DescribePermissionSet": (describe_permission_set, permission_set_resource),
    "UpdatePermissionSet": (update_permission_set, permission_set_resource),
    "DeletePermissionSet": (delete_permission_set, permission_set_resource),
    "ListPermissionSets": (list_permission_sets, instance_resource),
    "PutInlinePolicyToPermissionSet": (put_inline_policy, permission_set_resource),
    "GetInlinePolicyForPermissionSet": (get_inline_policy, permission_set_resource),
    "DeleteInlinePolicyFromPermissionSet": (delete_inline_policy, permission_set_resource),
    "AttachManagedPolicyToPermissionSet": (attach_managed_policy, permission_set_resource),
    "DetachManagedPolicyFromPermissionSet": (detach_managed_policy, permission_set_resource),
    "ListManagedPoliciesInPermissionSet": (list_managed_policies, permission_set_resource),
    "AttachCustomerManagedPolicyReferenceToPermissionSet": (
        attach_customer_policy,
        permission_set_resource,
    ),
    "DetachCustomerManagedPolicyReferenceFromPermissionSet": (
        detach_customer_policy,
        permission_set_resource,
    ),
    "ListCustomerManagedPolicyReferencesInPermissionSet": (
        list_customer_policies,
        permission_set_resource,
    ),
    "PutPermissionsBoundaryToPermissionSet": (put_boundary, permission_set_resource),
    "GetPermissionsBoundaryForPermissionSet": (get_boundary, permission_set_resource),
    "DeletePermissionsBoundaryFromPermissionSet": (delete_boundary, permission_set_resource),
    "TagResource": (tag_resource, lambda _ctx, p: str(p["ResourceArn"])),
    "UntagResource": (untag_resource, lambda _ctx, p: str(p["ResourceArn"])),
    "ListTagsForResource": (list_tags, lambda _ctx, p: str(p["ResourceArn"])),
    "CreateAccountAssignment": (create_account_assignment, permission_set_resource),
    "DeleteAccountAssignment": (delete_account_assignment, permission_set_resource),
    "DescribeAccountAssignmentCreationStatus": (describe_creation_status, instance_resource),
    "DescribeAccountAssignmentDeletionStatus": (describe_deletion_status, instance_resource),
    "ListAccountAssignmentCreationStatus": (
        _status_list(CREATE, "AccountAssignmentsCreationStatus"),
        instance_resource,
    ),
    "ListAccountAssignmentDeletionStatus": (
        _status_list(DELETE, "AccountAssignmentsDeletionStatus"),
        instance_resource,
    ),
    "ListAccountAssignments": (list_account_assignments, permission_set_resource),
    "ListAccountAssignmentsForPrincipal": (list_assignments_for_principal, instance_resource),
    "ListAccountsForProvisionedPermissionSet": (
        list_accounts_for_permission_set,
        permission_set_resource,
    ),
    "ListPermissionSetsProvisionedToAccount": (list_permission_sets_provisioned, instance_resource),
    "ProvisionPermissionSet": (provision_permission_set, permission_set_resource),
    "DescribePermissionSetProvisioningStatus": (describe_provisioning_status, instance_resource),
    "ListPermissionSetProvisioningStatus": (
        _status_list(PROVISION, "PermissionSetsProvisioningStatus"),
        instance_resource,
    ),
}

OPERATIONS = tuple(
    Operation("sso-admin", name, handler, resource)
    for name, (handler, resource) in _ON_PERMISSION_SET.items()
)

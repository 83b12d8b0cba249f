"""The IAM access advisor: GenerateServiceLastAccessedDetails,
GetServiceLastAccessedDetails and GetServiceLastAccessedDetailsWithEntities, and its
report on Organizations entities: GenerateOrganizationsAccessReport and
GetOrganizationsAccessReport."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, TypeVar

from iamd.errors import InvalidInput
from iamd.operations.iam.shapes import max_items
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.access_advisor import GrantingPolicy, Job, ServiceAccess, TrackedAction
from iamd.services.organizations_access_report import AccessDetail, OrganizationsJob

T = TypeVar("T")
_MARKER_PREFIX = "advisor:"


def generate(ctx: CallContext, p: Params) -> Result:
    return {"JobId": ctx.services.access_advisor.generate(p["Arn"], p.get("Granularity"))}


def _page(items: Sequence[T], p: Params) -> tuple[list[T], dict[str, Any]]:
    """One page of a completed report; the marker is the offset of its next item."""
    start = 0
    marker = p.get("Marker")
    if marker is not None:
        try:
            decoded = base64.urlsafe_b64decode(marker.encode("ascii")).decode("utf-8")
            if not decoded.startswith(_MARKER_PREFIX):
                raise ValueError(decoded)
            start = int(decoded.removeprefix(_MARKER_PREFIX))
        except (ValueError, binascii.Error, UnicodeError):
            raise InvalidInput("Invalid Marker.") from None
    end = start + max_items(p)
    more: dict[str, Any] = {"IsTruncated": end < len(items)}
    if end < len(items):
        more["Marker"] = base64.urlsafe_b64encode(f"{_MARKER_PREFIX}{end}".encode()).decode()
    return list(items[start:end]), more


def _job_fields(job: Job) -> dict[str, Any]:
    result: dict[str, Any] = {"JobStatus": job.status, "JobCreationDate": job.created}
    if job.completed is not None:
        result["JobCompletionDate"] = job.completed
    if job.error is not None:
        result["Error"] = {"Message": "The report could not be built.", "Code": job.error}
    return result


def _action(action: TrackedAction) -> dict[str, Any]:
    shape: dict[str, Any] = {"ActionName": action.name}
    if action.last_time is not None:
        shape["LastAccessedEntity"] = action.last_entity
        shape["LastAccessedTime"] = action.last_time
        shape["LastAccessedRegion"] = action.last_region
    return shape


def _service(service: ServiceAccess) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "ServiceName": service.name,
        "ServiceNamespace": service.namespace,
        "TotalAuthenticatedEntities": service.total_entities,
    }
    if service.last_authenticated is not None:
        shape["LastAuthenticated"] = service.last_authenticated
        shape["LastAuthenticatedEntity"] = service.last_entity
        shape["LastAuthenticatedRegion"] = service.last_region
    if service.tracked_actions is not None:
        shape["TrackedActionsLastAccessed"] = [_action(a) for a in service.tracked_actions]
    return shape


def get_details(ctx: CallContext, p: Params) -> Result:
    job = ctx.services.access_advisor.job(p["JobId"])
    result = {"JobType": job.granularity, **_job_fields(job)}
    services, more = _page(job.services if job.status == "COMPLETED" else [], p)
    result["ServicesLastAccessed"] = [_service(s) for s in services]
    return {**result, **more}


def get_details_with_entities(ctx: CallContext, p: Params) -> Result:
    job = ctx.services.access_advisor.job(p["JobId"])
    namespace = p["ServiceNamespace"]
    found = [s for s in job.services if s.namespace == namespace]
    if job.status == "COMPLETED" and not found:
        raise InvalidInput(f"The service namespace {namespace} is not in the report.")
    entities = found[0].entities if found else []
    page, more = _page(entities, p)
    return {
        **_job_fields(job),
        "EntityDetailsList": [
            {
                "EntityInfo": {
                    "Arn": entity.arn,
                    "Name": entity.name,
                    "Type": entity.kind,
                    "Id": entity.entity_id,
                    "Path": entity.path,
                },
                "LastAuthenticated": when,
            }
            for entity, when in page
        ],
        **more,
    }


def _entity(_ctx: CallContext, p: Params) -> str:
    """Generate is authorized on the entity it reports on (AWS's user, group, role and
    policy resource types)."""
    return str(p["Arn"])


def list_policies_granting_service_access(ctx: CallContext, p: Params) -> Result:
    # Every namespace's list comes in one answer (at most 200 namespaces, the model's
    # bound): the result is never truncated, and a Marker has nothing more to give.
    found = ctx.services.access_advisor.policies_granting(p["Arn"], p["ServiceNamespaces"])
    return {
        "PoliciesGrantingServiceAccess": [
            {"ServiceNamespace": namespace, "Policies": [_granting(g) for g in policies]}
            for namespace, policies in found
        ],
        "IsTruncated": False,
    }


def _granting(policy: GrantingPolicy) -> dict[str, str]:
    shape = {"PolicyName": policy.name, "PolicyType": policy.policy_type}
    if policy.arn is not None:
        shape["PolicyArn"] = policy.arn
    if policy.entity_type is not None and policy.entity_name is not None:
        shape["EntityType"] = policy.entity_type
        shape["EntityName"] = policy.entity_name
    return shape


def generate_organizations_report(ctx: CallContext, p: Params) -> Result:
    report = ctx.services.organizations_access_report
    return {"JobId": report.generate(p["EntityPath"], p.get("OrganizationsPolicyId"))}


def _sorted_details(job: OrganizationsJob, sort_key: str | None) -> list[AccessDetail]:
    details = sorted(job.details, key=lambda d: d.namespace)  # SERVICE_NAMESPACE_ASCENDING
    if sort_key == "SERVICE_NAMESPACE_DESCENDING":
        details.reverse()
    elif sort_key in ("LAST_AUTHENTICATED_TIME_ASCENDING", "LAST_AUTHENTICATED_TIME_DESCENDING"):
        used = [(d.last_authenticated, d) for d in details if d.last_authenticated is not None]
        used.sort(key=lambda pair: pair[0], reverse=sort_key.endswith("DESCENDING"))
        # Services never used come last either way [I: AWS documents no order for them].
        details = [d for _, d in used] + [d for d in details if d.last_authenticated is None]
    return details


def _access_detail(detail: AccessDetail) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "ServiceName": detail.name,
        "ServiceNamespace": detail.namespace,
        "TotalAuthenticatedEntities": detail.total_entities,
    }
    if detail.last_authenticated is not None:
        shape["LastAuthenticatedTime"] = detail.last_authenticated
        shape["Region"] = detail.region
        shape["EntityPath"] = detail.entity_path
    return shape


def get_organizations_report(ctx: CallContext, p: Params) -> Result:
    job = ctx.services.organizations_access_report.job(p["JobId"])
    result: dict[str, Any] = {"JobStatus": job.status, "JobCreationDate": job.created}
    if job.completed is not None:
        result["JobCompletionDate"] = job.completed
    if job.error is not None:
        result["ErrorDetails"] = {"Message": "The report could not be built.", "Code": job.error}
    if job.status != "COMPLETED":
        return result
    page, more = _page(_sorted_details(job, p.get("SortKey")), p)
    return {
        **result,
        "NumberOfServicesAccessible": len(job.details),
        "NumberOfServicesNotAccessed": job.not_accessed,
        "AccessDetails": [_access_detail(d) for d in page],
        **more,
    }


def _access_report(ctx: CallContext, p: Params) -> str:
    """AWS's `access-report` resource type: the entity path in the caller's account."""
    return f"arn:aws:iam::{ctx.caller.account_id}:access-report/{p['EntityPath']}"


OPERATIONS = (
    Operation(
        "iam",
        "ListPoliciesGrantingServiceAccess",
        list_policies_granting_service_access,
        any_resource,
    ),
    Operation("iam", "GenerateServiceLastAccessedDetails", generate, _entity),
    Operation("iam", "GetServiceLastAccessedDetails", get_details, any_resource),
    Operation(
        "iam", "GetServiceLastAccessedDetailsWithEntities", get_details_with_entities, any_resource
    ),
    Operation(
        "iam", "GenerateOrganizationsAccessReport", generate_organizations_report, _access_report
    ),
    Operation("iam", "GetOrganizationsAccessReport", get_organizations_report, any_resource),
)

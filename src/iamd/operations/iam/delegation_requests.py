"""IAM delegation request operations (temporary delegation to a partner) and
GetHumanReadableSummary; docs/delegation.md.

Each side authorizes on the request's ARN in its own account. Get, Update and
GetHumanReadableSummary are authorized here: AWS grants some of their callers a
default permission (the owner; any account while the request names none) and the
caller's policies decide for the rest.
"""

from __future__ import annotations

import json
from typing import Any

from iamd.authz import AuthorizationRequest, PolicyAuthorizer
from iamd.errors import AccessDenied, InvalidInput, NoSuchEntity
from iamd.model.delegation import DelegationRequest, PolicyParameter
from iamd.operations.context_keys import request_condition_keys
from iamd.operations.iam.shapes import max_items
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.delegation_requests import (
    NewDelegationRequest,
    delegation_request_arn,
    request_id_of_arn,
)
from iamd.services.policy_summary import summarize


def _request_resource(ctx: CallContext, params: Params) -> str:
    return delegation_request_arn(ctx.caller.account_id, str(params["DelegationRequestId"]))


def _entity_resource(ctx: CallContext, params: Params) -> str:
    try:
        request_id = request_id_of_arn(str(params["EntityArn"]))
    except InvalidInput:
        return "*"
    return delegation_request_arn(ctx.caller.account_id, request_id)


def _policy_allows(ctx: CallContext, action: str, resource: str, params: Params) -> None:
    """The pipeline's authorization step, for the callers no default permission covers."""
    credential = ctx.credential
    if credential is None or ctx.now is None:  # the pipeline always provides them
        raise AccessDenied(f"{action} needs an authenticated caller")
    PolicyAuthorizer().authorize(
        AuthorizationRequest(
            credential=credential,
            action=action,
            resource=resource,
            source_ip=ctx.source_ip,
            user_agent=ctx.user_agent,
            secure_transport=ctx.secure_transport,
            region=ctx.region,
            now=ctx.now,
            request_keys=request_condition_keys(ctx, action, params, with_resource_tags=False),
        )
    )


def _readable(ctx: CallContext, action: str, request_id: str, params: Params) -> DelegationRequest:
    """The request for Get and GetHumanReadableSummary: AWS's default permission covers
    any caller while it names no account, the named account's identities while it has
    no owner, and its owner; the caller's policies must allow anyone else."""
    service = ctx.services.delegation_requests
    found = service.find(request_id)
    caller = ctx.caller
    default = found is not None and (
        found.owner_account is None
        or (found.owner_id is None and found.owner_account == caller.account_id)
        or found.owner_id == caller.arn
    )
    if not default:
        _policy_allows(ctx, action, delegation_request_arn(caller.account_id, request_id), params)
    if found is None:
        raise NoSuchEntity.delegation_request(request_id)
    return found


def _permissions_shape(request: DelegationRequest) -> dict[str, Any]:
    shape: dict[str, Any] = {}
    if request.policy_template_arn is not None:
        shape["PolicyTemplateArn"] = request.policy_template_arn
    if request.parameters:
        shape["Parameters"] = [
            {"Name": p.name, "Values": list(p.values), "Type": p.kind} for p in request.parameters
        ]
    return shape


def request_shape(request: DelegationRequest, now: Any) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "DelegationRequestId": request.request_id,
        "OwnerAccountId": request.owner_account,
        "Description": request.description,
        "RequestMessage": request.request_message,
        "Permissions": _permissions_shape(request),
        "PermissionPolicy": request.permission_policy,
        "OwnerId": request.owner_id,
        "ApproverId": request.approver_id,
        "State": request.state_at(now).value,
        "ExpirationTime": request.expiration_time,
        "RequestorId": request.requestor_account,
        "RequestorName": request.requestor_name,
        "CreateDate": request.create_date,
        "SessionDuration": request.session_duration,
        "RedirectUrl": request.redirect_url,
        "Notes": request.notes,
        "RejectionReason": request.rejection_reason,
        "OnlySendByOwner": request.only_send_by_owner,
        "UpdatedTime": request.updated_time,
    }
    return {k: v for k, v in shape.items() if v is not None}


def _template_document(ctx: CallContext, arn: str) -> str:
    policies = ctx.services.policies
    try:
        policy = policies.get(arn)
        return policies.get_version(arn, policy.default_version_id).document
    except NoSuchEntity:
        raise InvalidInput(
            f"PolicyTemplateArn {arn} is not a managed policy your account can use."
        ) from None


def create_delegation_request(ctx: CallContext, p: Params) -> Result:
    permissions = p["Permissions"]
    template = permissions.get("PolicyTemplateArn")
    if template is None:
        raise InvalidInput("Permissions must name a PolicyTemplateArn.")
    parameters = []
    for item in permissions.get("Parameters") or ():
        if "Name" not in item:
            raise InvalidInput("Each policy parameter needs a Name.")
        values = tuple(str(v) for v in item.get("Values") or ())
        parameters.append(PolicyParameter(str(item["Name"]), values, item.get("Type") or "string"))
    request = ctx.services.delegation_requests.create(
        NewDelegationRequest(
            owner_account=p.get("OwnerAccountId"),
            description=p["Description"],
            template_arn=template,
            template_document=_template_document(ctx, template),
            parameters=tuple(parameters),
            request_message=p.get("RequestMessage"),
            workflow_id=p["RequestorWorkflowId"],
            redirect_url=p.get("RedirectUrl"),
            notification_channel=p["NotificationChannel"],
            session_duration=int(p["SessionDuration"]),
            only_send_by_owner=bool(p.get("OnlySendByOwner", False)),
        )
    )
    # iamd's console has no delegation request page: no ConsoleDeepLink.
    return {"DelegationRequestId": request.request_id}


def _permission_check(ctx: CallContext, request: DelegationRequest, params: Params) -> str:
    """Whether the caller's own policies allow every action the request asks for:
    DENIED when one is refused, UNSURE when a statement is beyond an exact check
    (wildcards, NotAction, NotResource, conditions, a Deny), else ALLOWED."""
    try:
        document = json.loads(request.permission_policy or "{}")
    except ValueError:
        return "UNSURE"
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    unsure = False
    for statement in statements:
        if not isinstance(statement, dict):
            return "UNSURE"
        if (
            statement.get("Effect") != "Allow"
            or "NotAction" in statement
            or "NotResource" in statement
            or statement.get("Condition")
        ):
            unsure = True
            continue
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if "*" in action or "?" in action:
                unsure = True
                continue
            for resource in [resources] if isinstance(resources, str) else resources:
                try:
                    _policy_allows(ctx, action, resource, params)
                except AccessDenied:
                    return "DENIED"
    return "UNSURE" if unsure else "ALLOWED"


def get_delegation_request(ctx: CallContext, p: Params) -> Result:
    request = _readable(ctx, "iam:GetDelegationRequest", p["DelegationRequestId"], p)
    result: dict[str, Any] = {
        "DelegationRequest": request_shape(request, ctx.services.delegation_requests.now())
    }
    if p.get("DelegationPermissionCheck"):
        result["PermissionCheckStatus"] = "COMPLETE"
        result["PermissionCheckResult"] = _permission_check(ctx, request, p)
    return result


def list_delegation_requests(ctx: CallContext, p: Params) -> Result:
    service = ctx.services.delegation_requests
    page = service.listing(p.get("OwnerId"), p.get("Marker"), max_items(p))
    now = service.now()
    result: dict[str, Any] = {
        "DelegationRequests": [request_shape(r, now) for r in page.items],
        # The model names this member in lower camel case.
        "isTruncated": page.is_truncated,
    }
    if page.next_marker is not None:
        result["Marker"] = page.next_marker
    return result


def associate_delegation_request(ctx: CallContext, p: Params) -> Result:
    ctx.services.delegation_requests.associate(ctx.caller, p["DelegationRequestId"])
    return None


def update_delegation_request(ctx: CallContext, p: Params) -> Result:
    service = ctx.services.delegation_requests
    request_id = p["DelegationRequestId"]
    found = service.find(request_id)
    # The owner's default permission; anyone else needs the caller's policies.
    if found is None or found.owner_id != ctx.caller.arn:
        _policy_allows(ctx, "iam:UpdateDelegationRequest", _request_resource(ctx, p), p)
    service.update(request_id, p.get("Notes"))
    return None


def accept_delegation_request(ctx: CallContext, p: Params) -> Result:
    ctx.services.delegation_requests.accept(ctx.caller, p["DelegationRequestId"])
    return None


def reject_delegation_request(ctx: CallContext, p: Params) -> Result:
    ctx.services.delegation_requests.reject(p["DelegationRequestId"], p.get("Notes"))
    return None


def send_delegation_token(ctx: CallContext, p: Params) -> Result:
    ctx.services.delegation_requests.send_token(ctx.caller, p["DelegationRequestId"])
    return None


def get_human_readable_summary(ctx: CallContext, p: Params) -> Result:
    request_id = request_id_of_arn(str(p["EntityArn"]))
    request = _readable(ctx, "iam:GetHumanReadableSummary", request_id, p)
    locale = str(p.get("Locale") or "en")
    # Written in English only: another language is answered NOT_SUPPORTED, no content.
    if locale.lower().replace("_", "-").split("-")[0] != "en":
        return {"SummaryContent": "", "Locale": locale, "SummaryState": "NOT_SUPPORTED"}
    return {"SummaryContent": summarize(request), "Locale": locale, "SummaryState": "AVAILABLE"}


OPERATIONS = (
    Operation("iam", "CreateDelegationRequest", create_delegation_request, any_resource),
    Operation(
        "iam",
        "GetDelegationRequest",
        get_delegation_request,
        _request_resource,
        authorized_by_handler=True,
    ),
    Operation("iam", "ListDelegationRequests", list_delegation_requests, any_resource),
    Operation("iam", "AssociateDelegationRequest", associate_delegation_request, _request_resource),
    Operation(
        "iam",
        "UpdateDelegationRequest",
        update_delegation_request,
        _request_resource,
        authorized_by_handler=True,
    ),
    Operation("iam", "AcceptDelegationRequest", accept_delegation_request, _request_resource),
    Operation("iam", "RejectDelegationRequest", reject_delegation_request, _request_resource),
    Operation("iam", "SendDelegationToken", send_delegation_token, _request_resource),
    Operation(
        "iam",
        "GetHumanReadableSummary",
        get_human_readable_summary,
        _entity_resource,
        authorized_by_handler=True,
    ),
)

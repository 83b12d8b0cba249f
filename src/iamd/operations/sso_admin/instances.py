"""CreateInstance, DescribeInstance, ListInstances, UpdateInstance, DeleteInstance."""

from __future__ import annotations

from typing import Any

from iamd.model.identity_center import Instance
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def instance_resource(_ctx: CallContext, p: Params) -> str:
    return str(p["InstanceArn"])


def _metadata(instance: Instance) -> dict[str, Any]:
    return {
        "InstanceArn": instance.instance_arn,
        "IdentityStoreId": instance.identity_store_id,
        "OwnerAccountId": instance.owner_account_id,
        "Name": instance.name,
        "CreatedDate": instance.created,
        "Status": instance.status,
    }


def create_instance(ctx: CallContext, p: Params) -> Result:
    instance = ctx.services.identity_center.create_instance(p.get("Name"))
    return {"InstanceArn": instance.instance_arn}


def describe_instance(ctx: CallContext, p: Params) -> Result:
    return _metadata(ctx.services.identity_center.instance(p["InstanceArn"]))


def list_instances(ctx: CallContext, _p: Params) -> Result:
    # An account owns at most one instance: one page, whatever MaxResults says.
    own = ctx.services.identity_center.own_instance()
    return {"Instances": [] if own is None else [_metadata(own)]}


def update_instance(ctx: CallContext, p: Params) -> Result:
    ctx.services.identity_center.rename_instance(p["InstanceArn"], p["Name"])
    return None


def delete_instance(ctx: CallContext, p: Params) -> Result:
    ctx.services.identity_center.delete_instance(p["InstanceArn"])
    return None


def _operation(name: str, handler: Any, resource: Any = instance_resource) -> Operation:
    return Operation("sso-admin", name, handler, resource)


OPERATIONS = (
    _operation("CreateInstance", create_instance, any_resource),
    _operation("DescribeInstance", describe_instance),
    _operation("ListInstances", list_instances, any_resource),
    _operation("UpdateInstance", update_instance),
    _operation("DeleteInstance", delete_instance),
)

"""Accounts of the organization: CreateAccount and its status, DescribeAccount,
ListAccounts, ListAccountsForParent, CloseAccount, RemoveAccountFromOrganization,
MoveAccount."""

from __future__ import annotations

from iamd.operations.organizations.shapes import (
    account,
    create_account_status,
    resource_of,
    tags_of,
)
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def create_account(ctx: CallContext, p: Params) -> Result:
    request = ctx.services.organizations.create_account(
        ctx.caller.account_id,
        p["AccountName"],
        p["Email"],
        p.get("RoleName"),
        tags_of(p),
    )
    return {"CreateAccountStatus": create_account_status(request)}


def describe_create_account_status(ctx: CallContext, p: Params) -> Result:
    request = ctx.services.organizations.describe_create_account_status(
        ctx.caller.account_id, p["CreateAccountRequestId"]
    )
    return {"CreateAccountStatus": create_account_status(request)}


def list_create_account_status(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.organizations.list_create_account_status(
        ctx.caller.account_id, p.get("States"), p.get("NextToken"), p.get("MaxResults")
    )
    return {
        "CreateAccountStatuses": [create_account_status(r) for r in page.items],
        "NextToken": page.next_token,
    }


def describe_account(ctx: CallContext, p: Params) -> Result:
    view = ctx.services.organizations.describe_account(ctx.caller.account_id, p["AccountId"])
    return {"Account": account(view)}


def list_accounts(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.organizations.list_accounts(
        ctx.caller.account_id, p.get("NextToken"), p.get("MaxResults")
    )
    return {"Accounts": [account(v) for v in page.items], "NextToken": page.next_token}


def list_accounts_for_parent(ctx: CallContext, p: Params) -> Result:
    page = ctx.services.organizations.list_accounts_for_parent(
        ctx.caller.account_id, p["ParentId"], p.get("NextToken"), p.get("MaxResults")
    )
    return {"Accounts": [account(v) for v in page.items], "NextToken": page.next_token}


def close_account(ctx: CallContext, p: Params) -> Result:
    ctx.services.organizations.close_account(ctx.caller.account_id, p["AccountId"])
    return None


def remove_account_from_organization(ctx: CallContext, p: Params) -> Result:
    ctx.services.organizations.remove_account(ctx.caller.account_id, p["AccountId"])
    return None


def move_account(ctx: CallContext, p: Params) -> Result:
    ctx.services.organizations.move_account(
        ctx.caller.account_id, p["AccountId"], p["SourceParentId"], p["DestinationParentId"]
    )
    return None


OPERATIONS = (
    Operation("organizations", "CreateAccount", create_account, any_resource),
    Operation(
        "organizations",
        "DescribeCreateAccountStatus",
        describe_create_account_status,
        any_resource,
    ),
    Operation("organizations", "ListCreateAccountStatus", list_create_account_status, any_resource),
    Operation("organizations", "DescribeAccount", describe_account, resource_of("AccountId")),
    Operation("organizations", "ListAccounts", list_accounts, any_resource),
    Operation(
        "organizations",
        "ListAccountsForParent",
        list_accounts_for_parent,
        resource_of("ParentId"),
    ),
    Operation("organizations", "CloseAccount", close_account, resource_of("AccountId")),
    Operation(
        "organizations",
        "RemoveAccountFromOrganization",
        remove_account_from_organization,
        resource_of("AccountId"),
    ),
    # On the account and both parents, as AWS authorizes it.
    Operation(
        "organizations",
        "MoveAccount",
        move_account,
        resource_of("AccountId"),
        also_on=(resource_of("SourceParentId"), resource_of("DestinationParentId")),
    ),
)

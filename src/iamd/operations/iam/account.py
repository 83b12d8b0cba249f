"""IAM account operations: summary and aliases."""

from __future__ import annotations

from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource


def get_account_summary(ctx: CallContext, _p: Params) -> Result:
    return {"SummaryMap": ctx.services.account.summary()}


def list_account_aliases(ctx: CallContext, _p: Params) -> Result:
    return {"AccountAliases": ctx.services.account.aliases(), "IsTruncated": False}


def create_account_alias(ctx: CallContext, p: Params) -> Result:
    ctx.services.account.create_alias(p["AccountAlias"])
    return None


def delete_account_alias(ctx: CallContext, p: Params) -> Result:
    ctx.services.account.delete_alias(p["AccountAlias"])
    return None


OPERATIONS = (
    Operation("iam", "GetAccountSummary", get_account_summary, any_resource),
    Operation("iam", "ListAccountAliases", list_account_aliases, any_resource),
    Operation("iam", "CreateAccountAlias", create_account_alias, any_resource),
    Operation("iam", "DeleteAccountAlias", delete_account_alias, any_resource),
)

"""IAM account operations: summary and aliases."""

from __future__ import annotations

from iamd.operations.iam.shapes import max_items, paged
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.store.sql.paging import page_of_sequence


def get_account_summary(ctx: CallContext, _p: Params) -> Result:
    return {"SummaryMap": ctx.services.account.summary()}


def list_account_aliases(ctx: CallContext, p: Params) -> Result:
    # At most one alias, but Marker and MaxItems are checked like any List operation's.
    page = page_of_sequence(ctx.services.account.aliases(), p.get("Marker"), max_items(p))
    return paged(page, "AccountAliases", lambda alias: alias)


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

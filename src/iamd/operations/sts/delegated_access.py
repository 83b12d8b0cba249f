"""STS GetDelegatedAccessToken: a partner trades a delegation request's exchange token
for temporary credentials of the identity that accepted the request, limited by the
request's permission policy (docs/delegation.md, "Trading the token in").

Authorized like any call (sts:GetDelegatedAccessToken on "*") for the partner's own
principals; only the account the request was made by can trade its token in.
"""

from __future__ import annotations

import re

from iamd.errors import AccessDenied, NoSuchEntity
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.operations.sts.sessions import credentials_shape

_USER = re.compile(r"arn:aws:iam::(\d{12}):user/(?:.*/)?([^/]+)")
_ROLE_SESSION = re.compile(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/[^/]+")


def get_delegated_access_token(ctx: CallContext, p: Params) -> Result:
    request, ends = ctx.services.delegation_requests.traded_in(str(p["TradeInToken"]))
    approver = request.approver_id or ""
    owner = ctx.services.in_account(request.owner_account or ctx.caller.account_id)
    session_name = f"dr-{request.request_id[-20:]}"
    user_id = role_id = None
    try:
        if (found := _USER.fullmatch(approver)) is not None:
            user_id = owner.users.get(found.group(2)).user_id
            assumed = f"arn:aws:sts::{found.group(1)}:federated-user/{session_name}"
        elif (found := _ROLE_SESSION.fullmatch(approver)) is not None:
            role_id = owner.roles.get(found.group(2)).role_id
            assumed = f"arn:aws:sts::{found.group(1)}:assumed-role/{found.group(2)}/{session_name}"
        else:
            raise NoSuchEntity(approver)
    except NoSuchEntity:
        raise AccessDenied(
            "The identity that accepted this delegation request cannot be delegated."
        ) from None
    packed = owner.sts.check_session_policies(request.permission_policy, (), ())
    issued = owner.sts.delegated_session(
        user_id=user_id,
        role_id=role_id,
        session_name=session_name,
        policy=request.permission_policy,
        ends=ends,
        request_id=request.request_id,
    )
    result: dict[str, object] = {
        "Credentials": credentials_shape(issued),
        "AssumedPrincipal": assumed,
    }
    if packed is not None:
        result["PackedPolicySize"] = packed
    return result


OPERATIONS = (
    Operation("sts", "GetDelegatedAccessToken", get_delegated_access_token, any_resource),
)

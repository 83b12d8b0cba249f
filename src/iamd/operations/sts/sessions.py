"""GetSessionToken and AssumeRole: temporary credentials.

AssumeRole is authorized here rather than by the pipeline's generic step: the role's
trust policy has its say, with the MFA code of this very request taken into account
(`authz/assume_role.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from iamd.authz import AuthorizationRequest
from iamd.authz.assume_role import authorize_assume_role, refused
from iamd.errors import AccessDenied, NoSuchEntity, ValidationError
from iamd.model import Role
from iamd.operations.context_keys import request_condition_keys
from iamd.operations.registry import CallContext, Operation, Params, Result, any_resource
from iamd.services.sts import AssumeRoleRequest, IssuedCredentials


def credentials_shape(issued: IssuedCredentials) -> dict[str, object]:
    return {
        "AccessKeyId": issued.access_key_id,
        "SecretAccessKey": issued.secret_access_key,
        "SessionToken": issued.session_token,
        "Expiration": issued.expiration,
    }


def get_session_token(ctx: CallContext, params: Params) -> Result:
    issued = ctx.services.sts.get_session_token(
        ctx.caller,
        params.get("DurationSeconds"),
        params.get("SerialNumber"),
        params.get("TokenCode"),
    )
    return {"Credentials": credentials_shape(issued)}


def role_arn_resource(_ctx: CallContext, params: Params) -> str:
    return str(params["RoleArn"])


def assume_role(ctx: CallContext, params: Params) -> Result:
    credential = ctx.credential
    if credential is None or ctx.now is None:  # the pipeline always provides them
        raise AccessDenied("AssumeRole needs an authenticated caller")
    caller = ctx.caller
    role_arn = str(params["RoleArn"])
    tags = tuple((t["Key"], t["Value"]) for t in params.get("Tags", ()))
    policy_arns = policy_arns_of(params)
    packed = ctx.services.sts.check_session_policies(params.get("Policy"), policy_arns, tags)

    mfa_time: int | None = None
    if "SerialNumber" in params or "TokenCode" in params:
        # MFA devices belong to IAM users; a role session has none to offer.
        if caller.user is None:
            raise AccessDenied.mfa_device_unknown()
        mfa_time = ctx.services.sts.verify_mfa(
            caller.user.user_id, params.get("SerialNumber"), params.get("TokenCode")
        )

    role = _role_named_by(ctx, role_arn)
    keys = request_condition_keys(ctx, "sts:AssumeRole", params, with_resource_tags=False)
    keys.update(_assume_role_keys(params, role))
    if mfa_time is not None:
        # The code given with this request counts for the trust policy's MFA conditions.
        keys["aws:MultiFactorAuthPresent"] = "true"
        keys["aws:MultiFactorAuthAge"] = str(max(0, int(ctx.now.timestamp()) - mfa_time))
    actions = ["sts:AssumeRole"]
    if tags:
        actions.append("sts:TagSession")
    if "SourceIdentity" in params:
        actions.append("sts:SetSourceIdentity")
    for action in actions:
        authorize_assume_role(
            AuthorizationRequest(
                credential=credential,
                action=action,
                resource=role_arn,
                source_ip=ctx.source_ip,
                user_agent=ctx.user_agent,
                secure_transport=ctx.secure_transport,
                region=ctx.region,
                now=ctx.now,
                request_keys=keys,
            ),
            role,
        )
    if role is None:  # authorize_assume_role refuses a missing role; this is for mypy
        raise refused(caller.arn, "sts:AssumeRole", role_arn)

    session_name = str(params["RoleSessionName"])
    issued = ctx.services.sts.assume_role(
        caller,
        role,
        AssumeRoleRequest(
            session_name=session_name,
            duration_seconds=params.get("DurationSeconds"),
            policy=params.get("Policy"),
            policy_arns=policy_arns,
            tags=tags,
            transitive_tag_keys=tuple(params.get("TransitiveTagKeys", ())),
            source_identity=params.get("SourceIdentity"),
            mfa_authenticated=mfa_time,
        ),
    )
    result: dict[str, object] = {
        "Credentials": credentials_shape(issued),
        "AssumedRoleUser": {
            "AssumedRoleId": f"{role.role_id}:{session_name}",
            # The session is in the role's account, which may not be the caller's.
            "Arn": f"arn:aws:sts::{_account_of(role.arn)}:assumed-role/{role.name}/{session_name}",
        },
    }
    if packed is not None:
        result["PackedPolicySize"] = packed
    if issued.source_identity is not None:
        result["SourceIdentity"] = issued.source_identity
    return result


def _role_named_by(ctx: CallContext, role_arn: str) -> Role | None:
    """The role the ARN names (path included), in the caller's account or another
    existing one that is not closed, or None (then AssumeRole answers AccessDenied, as
    for any role that does not exist)."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "iam"] or parts[3] != "":
        return None
    if not parts[5].startswith("role/"):
        return None
    services = ctx.services
    if parts[4] != ctx.caller.account_id:
        # Checked first so that ARNs naming made-up accounts build no services.
        if not services.accounts.is_open(parts[4]):
            return None
        services = services.in_account(parts[4])
    name = parts[5].rsplit("/", 1)[-1]
    try:
        role = services.roles.get(name)
    except NoSuchEntity:
        return None
    return role if role.arn == role_arn else None


def _account_of(arn: str) -> str:
    return arn.split(":", 5)[4]


def _assume_role_keys(params: Params, role: Role | None) -> dict[str, str | Sequence[str]]:
    """Condition keys of an AssumeRole request (Service Authorization Reference)."""
    keys: dict[str, str | Sequence[str]] = {"sts:RoleSessionName": str(params["RoleSessionName"])}
    if "ExternalId" in params:
        keys["sts:ExternalId"] = str(params["ExternalId"])
    if "SourceIdentity" in params:
        keys["sts:SourceIdentity"] = str(params["SourceIdentity"])
    if params.get("TransitiveTagKeys"):
        keys["sts:TransitiveTagKeys"] = [str(k) for k in params["TransitiveTagKeys"]]
    if role is not None:
        for tag in role.tags:
            keys[f"aws:ResourceTag/{tag.key}"] = tag.value
            keys[f"iam:ResourceTag/{tag.key}"] = tag.value
    return keys


OPERATIONS: tuple[Operation, ...] = (
    # No policy can deny GetSessionToken: it only authenticates (AWS docs).
    Operation("sts", "GetSessionToken", get_session_token, any_resource, always_allowed=True),
    # Authorized by its handler: the trust policy and the caller's policies together.
    Operation("sts", "AssumeRole", assume_role, role_arn_resource, authorized_by_handler=True),
)


def policy_arns_of(params: Params) -> tuple[str, ...]:
    """The ARNs of a request's PolicyArns (session policies)."""
    return tuple(_policy_arn(p) for p in params.get("PolicyArns", ()))


def _policy_arn(descriptor: dict[str, Any]) -> str:
    arn = descriptor.get("arn")
    if not isinstance(arn, str) or not arn:
        raise ValidationError("Each member of PolicyArns must name an arn.")
    return arn

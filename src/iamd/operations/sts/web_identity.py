"""AssumeRoleWithWebIdentity, served unsigned: the OpenID Connect token is the credential.

The order of the checks: the session policies (the request's own shape), the token
(`services/web_identity.py`: the provider its `iss` names in the role's account, the
signature, the times, the audience), the session tags and source identity its claims
carry, then the role's trust policy, which must allow the provider's users
(`Principal: {"Federated": PROVIDER_ARN}`) `sts:AssumeRoleWithWebIdentity`, and
`sts:TagSession` and `sts:SetSourceIdentity` when the token sets those, with the
provider's condition keys (`HOST/PATH:aud`, `:oaud`, `:sub`, `:amr`, `:email`) in the
context. A role that does not exist is refused like one that does not trust the token,
and a role ARN naming no open account like a token no provider of it knows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import regex

from iamd.authz.trust import federated_trust_allows
from iamd.errors import (
    AccessDenied,
    IDPRejectedClaim,
    InvalidIdentityToken,
    NoSuchEntity,
    ValidationError,
)
from iamd.model import Role
from iamd.operations.registry import AnonymousContext, Params, Result
from iamd.operations.sts.sessions import credentials_shape, policy_arns_of
from iamd.policy import RequestContext
from iamd.services.container import Services
from iamd.services.sts import EXCEEDS_ROLE_MAXIMUM, ROLE_SESSION_DEFAULT_SECONDS
from iamd.services.web_identity import NO_PROVIDER, VerifiedWebIdentity, claimed_issuer

ACTION = "sts:AssumeRoleWithWebIdentity"
NOT_AUTHORIZED = f"Not authorized to perform {ACTION}"
#: Where AWS reads session tags and the source identity from an OIDC token.
TAGS_CLAIM = "https://aws.amazon.com/tags"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"
MAX_SESSION_TAGS = 50
_ROLE_ACCOUNT = re.compile(r"arn:aws:iam::(\d{12}):role/.+")
_TAG_KEY = regex.compile(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}")
_TAG_VALUE = regex.compile(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}")
_SOURCE_IDENTITY = re.compile(r"[\w+=,.@-]{2,64}")


def assume_role_with_web_identity(ctx: AnonymousContext, params: Params) -> Result:
    role_arn = str(params["RoleArn"])
    session_name = str(params["RoleSessionName"])
    token = str(params["WebIdentityToken"])
    if params.get("ProviderId") is not None:
        # AWS takes ProviderId for OAuth 2.0 access tokens of www.amazon.com and
        # graph.facebook.com only, which iamd does not federate with.
        raise InvalidIdentityToken(
            "ProviderId is for OAuth 2.0 access tokens, which iamd does not accept; "
            "send an OpenID Connect ID token without ProviderId"
        )
    policy_arns = policy_arns_of(params)
    policy = params.get("Policy")
    ctx.services.sts.check_session_policies(policy, policy_arns, ())

    match = _ROLE_ACCOUNT.fullmatch(role_arn)
    account_id = match.group(1) if match else ""
    if match is None or not ctx.services.accounts.is_open(account_id):
        # No provider of a made-up account knows the token: answered before it is read,
        # so that nothing is fetched for it.
        raise InvalidIdentityToken(NO_PROVIDER + claimed_issuer(token)[:256])
    services = ctx.services.in_account(account_id)
    identity = services.web_identity.verify(token)
    provider_arn = identity.provider.arn
    # From here on the caller is known, and the trail says who was refused, as
    # CloudTrail records a verified web identity whatever the outcome.
    ctx.verified.federated(
        "WebIdentityUser",
        f"{provider_arn}:{identity.audience}:{identity.subject}",
        identity.subject,
        provider_arn,
        account_id,
    )
    tags, transitive = _session_tags(identity.claims)
    source_identity = _source_identity(identity.claims)
    packed = services.sts.check_session_policies(policy, policy_arns, tags)

    role = _role_named(services, role_arn, account_id)
    keys = _condition_keys(identity)
    keys.update(
        {
            "aws:FederatedProvider": provider_arn,
            "aws:SourceIp": ctx.source_ip,
            "aws:SecureTransport": "true" if ctx.secure_transport else "false",
            "aws:CurrentTime": ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(ctx.now.timestamp())),
            "sts:RoleSessionName": session_name,
        }
    )
    if ctx.user_agent:
        keys["aws:UserAgent"] = ctx.user_agent
    actions = [ACTION]
    if tags:
        actions.append("sts:TagSession")
        for key, value in tags:
            keys[f"aws:RequestTag/{key}"] = value
        keys["aws:TagKeys"] = [key for key, _ in tags]
        if transitive:
            keys["sts:TransitiveTagKeys"] = list(transitive)
    if source_identity is not None:
        actions.append("sts:SetSourceIdentity")
        keys["sts:SourceIdentity"] = source_identity
    if role is None or not all(
        federated_trust_allows(role, provider_arn, account_id, RequestContext(a, role.arn, keys))
        for a in actions
    ):
        raise AccessDenied(NOT_AUTHORIZED)
    duration = _duration(params, role)

    issued = services.sts.federated_role_session(
        role,
        session_name,
        duration,
        policy,
        policy_arns,
        tags=tags,
        transitive_tag_keys=transitive,
        source_identity=source_identity,
    )
    result: dict[str, object] = {
        "Credentials": credentials_shape(issued),
        "SubjectFromWebIdentityToken": identity.subject,
        "AssumedRoleUser": {
            "AssumedRoleId": f"{role.role_id}:{session_name}",
            "Arn": f"arn:aws:sts::{account_id}:assumed-role/{role.name}/{session_name}",
        },
        "Provider": provider_arn,
        "Audience": identity.audience,
    }
    if packed is not None:
        result["PackedPolicySize"] = packed
    if source_identity is not None:
        result["SourceIdentity"] = source_identity
    return result


def _condition_keys(identity: VerifiedWebIdentity) -> dict[str, str | Sequence[str]]:
    """The provider's keys as AWS documents them for OIDC federation, named after the
    provider's URL (`token.actions.githubusercontent.com:sub`)."""
    prefix = identity.provider.url
    claims = identity.claims
    keys: dict[str, str | Sequence[str]] = {
        # `aud` is the client id that admitted the token (its `azp` when that is one),
        # `oaud` the token's own audience.
        f"{prefix}:aud": identity.audience,
        f"{prefix}:oaud": identity.audiences[0]
        if len(identity.audiences) == 1
        else list(identity.audiences),
        f"{prefix}:sub": identity.subject,
    }
    methods = claims.get("amr")
    if isinstance(methods, str):
        keys[f"{prefix}:amr"] = [methods]
    elif isinstance(methods, list) and all(isinstance(m, str) for m in methods):
        keys[f"{prefix}:amr"] = list(methods)
    email = claims.get("email")
    if isinstance(email, str):
        keys[f"{prefix}:email"] = email
    return keys


def _session_tags(
    claims: Mapping[str, Any],
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The session tags and transitive tag keys of the token's tags claim:
    `{"principal_tags": {"Key": ["value"]}, "transitive_tag_keys": ["Key"]}`."""
    claim = claims.get(TAGS_CLAIM)
    if claim is None:
        return (), ()
    if not isinstance(claim, dict):
        raise IDPRejectedClaim(f"The {TAGS_CLAIM} claim must be a JSON object")
    principal_tags = claim.get("principal_tags", {})
    if not isinstance(principal_tags, dict):
        raise IDPRejectedClaim("principal_tags must be a JSON object")
    if len(principal_tags) > MAX_SESSION_TAGS:
        raise IDPRejectedClaim(f"The token carries more than {MAX_SESSION_TAGS} session tags")
    tags: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key, values in principal_tags.items():
        # AWS's form is a list of one value; a plain string is taken as that value.
        value = values[0] if isinstance(values, list) and len(values) == 1 else values
        if not isinstance(key, str) or not _TAG_KEY.fullmatch(key):
            raise IDPRejectedClaim("A session tag key is not a valid tag key")
        if key.lower().startswith("aws:"):
            raise IDPRejectedClaim("A session tag key may not begin with aws:")
        if not isinstance(value, str) or not _TAG_VALUE.fullmatch(value):
            raise IDPRejectedClaim(f"The session tag {key} has no single valid value")
        if key.lower() in seen:
            raise IDPRejectedClaim(f"The session tag {key} is given twice")
        seen.add(key.lower())
        tags.append((key, value))
    transitive = claim.get("transitive_tag_keys", [])
    if not isinstance(transitive, list) or not all(isinstance(k, str) for k in transitive):
        raise IDPRejectedClaim("transitive_tag_keys must be a list of tag keys")
    for key in transitive:
        if key.lower() not in seen:
            raise IDPRejectedClaim(f"The transitive tag key {key} names no session tag")
    return tuple(tags), tuple(dict.fromkeys(transitive))


def _source_identity(claims: Mapping[str, Any]) -> str | None:
    value = claims.get(SOURCE_IDENTITY_CLAIM)
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not _SOURCE_IDENTITY.fullmatch(value)
        or value.lower().startswith("aws:")
    ):
        raise IDPRejectedClaim(
            "The source identity must be 2 to 64 characters of letters, digits and =,.@-_+ "
            "and may not begin with aws:"
        )
    return value


def _role_named(services: Services, role_arn: str, account_id: str) -> Role | None:
    name = role_arn.rsplit("/", 1)[-1]
    try:
        role = services.roles.get(name)
    except NoSuchEntity:
        return None
    # The path is part of the ARN: a role of that name on another path is not it.
    return role if role.arn == role_arn and role.arn.split(":")[4] == account_id else None


def _duration(params: Params, role: Role) -> int:
    requested = params.get("DurationSeconds")
    duration = ROLE_SESSION_DEFAULT_SECONDS if requested is None else int(requested)
    if duration > role.max_session_duration:
        raise ValidationError(EXCEEDS_ROLE_MAXIMUM)
    return duration

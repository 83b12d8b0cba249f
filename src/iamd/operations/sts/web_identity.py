"""AssumeRoleWithWebIdentity, served unsigned: the OpenID Connect token is the credential.

The order of the checks: the session policies (the request's own shape), the token
(`services/web_identity.py`: the provider its `iss` names in the role's account, the
signature, the times, the audience), the session tags and source identity its claims
carry, then the role's trust policy, which must allow the provider's users
(`Principal: {"Federated": PROVIDER_ARN}`) `sts:AssumeRoleWithWebIdentity`, and
`sts:TagSession` and `sts:SetSourceIdentity` when the token sets those, with the
provider's condition keys (`HOST/PATH:aud`, `:oaud`, `:sub`, `:amr`, `:email`, and for
GitHub Actions' issuer the claims AWS lists for it) in the context. A role that does
not exist is refused like one that does not trust the token, and a role ARN naming no
open account like a token no provider of it knows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

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
from iamd.operations.sts.session_claims import AssertedSession, checked_session, trust_actions
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
_ROLE_ACCOUNT = re.compile(r"arn:aws:iam::(\d{12}):role/.+")
#: GitHub Actions' issuer, and the claims of its tokens AWS makes condition keys of
#: (the GitHub tab of "Available keys for AWS OIDC federation"); other claims are not.
GITHUB_ACTIONS_HOST = "token.actions.githubusercontent.com"
GITHUB_CLAIM_KEYS = (
    "actor",
    "actor_id",
    "job_workflow_ref",
    "repository",
    "repository_id",
    "repository_owner_id",
    "workflow",
    "ref",
    "environment",
    "enterprise_id",
)


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
    asserted = _asserted(identity.claims)
    packed = services.sts.check_session_policies(policy, policy_arns, asserted.tags)

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
    actions = trust_actions(ACTION, asserted, keys)
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
        tags=asserted.tags,
        transitive_tag_keys=asserted.transitive_tag_keys,
        source_identity=asserted.source_identity,
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
    if asserted.source_identity is not None:
        result["SourceIdentity"] = asserted.source_identity
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
    if prefix.split("/", 1)[0] == GITHUB_ACTIONS_HOST:
        for claim in GITHUB_CLAIM_KEYS:
            value = claims.get(claim)
            # GitHub's claims are strings; anything else is no key (a condition on it
            # then fails, rather than matching a value iamd made up).
            if isinstance(value, str):
                keys[f"{prefix}:{claim}"] = value
    return keys


def _asserted(claims: Mapping[str, Any]) -> AssertedSession:
    """The session tags, transitive keys and source identity of the token's claims: the
    tags claim is `{"principal_tags": {"Key": ["value"]}, "transitive_tag_keys": ["Key"]}`."""
    claim = claims.get(TAGS_CLAIM)
    if claim is None:
        claim = {}
    if not isinstance(claim, dict):
        raise IDPRejectedClaim(f"The {TAGS_CLAIM} claim must be a JSON object")
    principal_tags = claim.get("principal_tags", {})
    if not isinstance(principal_tags, dict):
        raise IDPRejectedClaim("principal_tags must be a JSON object")
    # AWS's form is a list of one value; a plain string is taken as that value.
    pairs = [
        (key, values[0] if isinstance(values, list) and len(values) == 1 else values)
        for key, values in principal_tags.items()
    ]
    transitive = claim.get("transitive_tag_keys", [])
    if not isinstance(transitive, list):
        raise IDPRejectedClaim("transitive_tag_keys must be a list of tag keys")
    return checked_session(pairs, transitive, claims.get(SOURCE_IDENTITY_CLAIM))


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

"""AssumeRoleWithSAML, served unsigned: the SAML response is the only credential.

The order of the checks is AWS's: the provider named by PrincipalArn, the response's
signature against that provider's certificates (everything after is read from the
signed assertion only), its validity window, the audience, the Role attribute's
role/provider pair, RoleSessionName, the session tags and source identity the
assertion's attributes carry (`session_claims.py`, shared with web identity), then the
role's trust policy with the `saml:` condition keys (and `sts:TagSession`,
`sts:SetSourceIdentity` when the assertion sets those), and last the replay cache, so
that a refused request never burns an assertion. A role that does not exist is refused
like one that does not trust the provider.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from iamd.authz.trust import federated_trust_allows
from iamd.errors import (
    AccessDenied,
    ExpiredTokenException,
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
from iamd.services.saml_assertions import (
    AWS_AUDIENCE,
    PRINCIPAL_TAG_PREFIX,
    SOURCE_IDENTITY_ATTRIBUTE,
    TRANSITIVE_TAGS_ATTRIBUTE,
    SamlRejected,
    VerifiedAssertion,
    aws_name_qualifier,
    verify_response,
)
from iamd.services.saml_providers import REQUIRED, checked_metadata
from iamd.services.sts import EXCEEDS_ROLE_MAXIMUM, ROLE_SESSION_DEFAULT_SECONDS

ACTION = "sts:AssumeRoleWithSAML"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
# The audiences AWS accepts: its sign-in endpoint and its service provider entity id.
AUDIENCES = frozenset({AWS_AUDIENCE, "urn:amazon:webservices"})
_PROVIDER_ARN = re.compile(r"arn:aws:iam::(\d{12}):saml-provider/([\w._-]{1,128})")
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/(?:[^/]+/)*([\w+=,.@-]{1,64})")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
# Attribute names AWS exposes as saml: keys under their friendly names (the eduPerson
# and X.500 OIDs of AWS's list), besides the attribute's own name.
_OID_KEYS = {
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": "edupersonprincipalname",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": "edupersonaffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.7": "edupersonentitlement",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.9": "edupersonscopedaffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.10": "edupersontargetedid",
    "urn:oid:0.9.2342.19200300.100.1.3": "mail",
    "urn:oid:0.9.2342.19200300.100.1.1": "uid",
    "urn:oid:2.5.4.3": "cn",
    "urn:oid:2.5.4.4": "sn",
    "urn:oid:2.5.4.42": "givenName",
    "urn:oid:2.16.840.1.113730.3.1.241": "displayName",
    "urn:oid:2.5.4.10": "o",
    "urn:oid:2.5.4.11": "ou",
}
NOT_AUTHORIZED = f"Not authorized to perform {ACTION}"


def assume_role_with_saml(ctx: AnonymousContext, params: Params) -> Result:
    role_arn = str(params["RoleArn"])
    provider_arn = str(params["PrincipalArn"])
    policy_arns = policy_arns_of(params)
    ctx.services.sts.check_session_policies(params.get("Policy"), policy_arns, ())

    provider_match = _PROVIDER_ARN.fullmatch(provider_arn)
    account_id = provider_match.group(1) if provider_match else ""
    if provider_match is None or not ctx.services.accounts.is_open(account_id):
        raise InvalidIdentityToken("Specified provider doesn't exist")
    services = ctx.services.in_account(account_id)
    try:
        provider = services.saml_providers.get(provider_arn)
    except NoSuchEntity:
        raise InvalidIdentityToken("Specified provider doesn't exist") from None
    certificates = checked_metadata(provider.metadata_document).signing_certificates

    # Opened only for a provider that has keys: most never do.
    private_keys = (
        services.saml_providers.decryption_keys(provider) if provider.private_keys else []
    )
    assertion = _verified(
        str(params["SAMLAssertion"]),
        certificates,
        ctx.now,
        private_keys,
        provider.assertion_encryption_mode == REQUIRED,
    )
    if not AUDIENCES.intersection(assertion.audiences):
        raise InvalidIdentityToken("Audience restriction not satisfied")
    if not _names_pair(assertion.attributes.get(ROLE_ATTRIBUTE, ()), role_arn, provider_arn):
        raise AccessDenied(NOT_AUTHORIZED)
    session_name = _session_name(assertion)
    asserted = _asserted(assertion)
    packed = ctx.services.sts.check_session_policies(
        params.get("Policy"), policy_arns, asserted.tags
    )

    role = _role(services, role_arn, account_id)
    name_qualifier = aws_name_qualifier(assertion.issuer, account_id, provider.name)
    keys = _saml_keys(assertion, account_id, provider.name, name_qualifier)
    keys["aws:SourceIp"] = ctx.source_ip
    keys["aws:SecureTransport"] = "true" if ctx.secure_transport else "false"
    keys["sts:RoleSessionName"] = session_name
    actions = trust_actions(ACTION, asserted, keys)
    if role is None or not all(
        federated_trust_allows(role, provider_arn, account_id, RequestContext(a, role.arn, keys))
        for a in actions
    ):
        raise AccessDenied(NOT_AUTHORIZED)
    duration = _duration(params, assertion, role)

    if not services.saml_providers.record_assertion(
        assertion.assertion_id, assertion.not_on_or_after
    ):
        raise InvalidIdentityToken("SAML Assertion has already been used")
    issued = services.sts.federated_role_session(
        role,
        session_name,
        duration,
        params.get("Policy"),
        policy_arns,
        tags=asserted.tags,
        transitive_tag_keys=asserted.transitive_tag_keys,
        source_identity=asserted.source_identity,
    )
    ctx.verified.federated(
        "SAMLUser",
        f"{name_qualifier}:{assertion.subject}",
        assertion.subject,
        name_qualifier,
        account_id,
    )
    result: dict[str, object] = {
        "Credentials": credentials_shape(issued),
        "AssumedRoleUser": {
            "AssumedRoleId": f"{role.role_id}:{session_name}",
            "Arn": f"arn:aws:sts::{account_id}:assumed-role/{role.name}/{session_name}",
        },
        "Subject": assertion.subject,
        "SubjectType": assertion.subject_type,
        "Issuer": assertion.issuer,
        "Audience": AWS_AUDIENCE,
        "NameQualifier": name_qualifier,
    }
    if packed is not None:
        result["PackedPolicySize"] = packed
    if asserted.source_identity is not None:
        result["SourceIdentity"] = asserted.source_identity
    return result


def _verified(
    response: str,
    certificates: Sequence[str],
    now: datetime,
    keys: Sequence[rsa.RSAPrivateKey],
    require_encryption: bool,
) -> VerifiedAssertion:
    try:
        return verify_response(
            response,
            certificates,
            now,
            decryption_keys=keys,
            require_encryption=require_encryption,
        )
    except SamlRejected as exc:
        if exc.expired:
            raise ExpiredTokenException("Response has expired") from None
        reason = str(exc)
        if "signature" in reason or "signed" in reason:
            raise InvalidIdentityToken("Response signature invalid") from None
        # The reason names what is wrong with the document, never its content.
        raise InvalidIdentityToken(f"Invalid SAML response: {reason}") from None


def _asserted(assertion: VerifiedAssertion) -> AssertedSession:
    """The session tags (one `PrincipalTag:KEY` attribute of one value per tag), the
    transitive keys (the TransitiveTagKeys attribute's values) and the source identity
    (the SourceIdentity attribute's one value) of a verified assertion."""
    pairs: list[tuple[object, object]] = []
    for name, values in assertion.attributes.items():
        if not name.startswith(PRINCIPAL_TAG_PREFIX):
            continue
        key = name.removeprefix(PRINCIPAL_TAG_PREFIX)
        if len(values) != 1:
            raise IDPRejectedClaim(f"The session tag {key} must have exactly one value")
        pairs.append((key, values[0]))
    sources = assertion.attributes.get(SOURCE_IDENTITY_ATTRIBUTE, ())
    if len(sources) > 1:
        raise IDPRejectedClaim("The SourceIdentity attribute must have exactly one value")
    return checked_session(
        pairs,
        assertion.attributes.get(TRANSITIVE_TAGS_ATTRIBUTE, ()),
        sources[0] if sources else None,
    )


def _names_pair(values: Sequence[str], role_arn: str, provider_arn: str) -> bool:
    wanted = {role_arn, provider_arn}
    return any({part.strip() for part in value.split(",")} == wanted for value in values)


def _session_name(assertion: VerifiedAssertion) -> str:
    names = assertion.attributes.get(SESSION_NAME_ATTRIBUTE, ())
    if len(names) != 1 or not names[0]:
        raise InvalidIdentityToken("The RoleSessionName attribute is missing or not single")
    if not _SESSION_NAME.fullmatch(names[0]):
        raise ValidationError(
            "RoleSessionName must be 2 to 64 characters of letters, digits and =,.@-_+"
        )
    return names[0]


def _role(services: Services, role_arn: str, account_id: str) -> Role | None:
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None or match.group(1) != account_id:
        return None
    try:
        role = services.roles.get(match.group(2))
    except NoSuchEntity:
        return None
    return role if role.arn == role_arn else None


def _saml_keys(
    assertion: VerifiedAssertion, account_id: str, provider_name: str, name_qualifier: str
) -> dict[str, str | Sequence[str]]:
    """The `saml:` condition keys AWS sets from a verified assertion."""
    keys: dict[str, str | Sequence[str]] = {}
    for name, values in assertion.attributes.items():
        short = _OID_KEYS.get(name)
        if short is not None:
            keys[f"saml:{short}"] = list(values)
    keys.update(
        {
            "saml:aud": AWS_AUDIENCE,
            "saml:iss": assertion.issuer,
            "saml:sub": assertion.subject,
            "saml:sub_type": assertion.subject_type,
            "saml:namequalifier": name_qualifier,
            "saml:doc": f"{account_id}/{provider_name}",
        }
    )
    return keys


def _duration(params: Params, assertion: VerifiedAssertion, role: Role) -> int:
    requested = params.get("DurationSeconds")
    if requested is not None:
        duration = int(requested)
    else:
        attribute = assertion.attributes.get(DURATION_ATTRIBUTE, ())
        duration = ROLE_SESSION_DEFAULT_SECONDS
        if attribute:
            try:
                duration = int(attribute[0])
            except ValueError:
                raise InvalidIdentityToken("SessionDuration is not a number") from None
            if not 900 <= duration <= 43_200:
                raise InvalidIdentityToken("SessionDuration must be 900 to 43200 seconds")
    if duration > role.max_session_duration:
        raise ValidationError(EXCEEDS_ROLE_MAXIMUM)
    return duration

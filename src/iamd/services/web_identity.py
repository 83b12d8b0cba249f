"""AssumeRoleWithWebIdentity's authentication: the provider, the key, the claims.

The token's `iss` names the provider: the account's OpenID Connect provider whose URL is
the issuer without `https://` (none: "No OpenIDConnect provider found"). Its signature is
checked against the provider's published keys (`auth/web_identity_tokens.py`): iamd's
own issuer's from the database (tokens of GetWebIdentityToken, no network round trip),
any other's fetched over https and cached (`services/oidc_keys.py`); a token naming a key
the cached set lacks makes one refetch. Then the audience: `azp` when it is one of the
provider's client ids (as AWS reads Google's tokens), else an `aud` value that is.

The provider's row is read in a short transaction that is over before any fetch: a slow
provider never holds a database connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iamd.auth.web_identity_tokens import Rejection, TokenRejected, UnverifiedToken, read, verify
from iamd.clock import Clock
from iamd.errors import ExpiredTokenException, IDPCommunicationError, InvalidIdentityToken
from iamd.model.oidc_providers import OIDCProvider
from iamd.services.oidc_keys import JwksCache, KeysUnavailable
from iamd.store.transactions import Transactions

NOT_A_JWT = (
    "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
)
NO_VERIFICATION_KEY = (
    "Couldn't retrieve verification key from your identity provider,  please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)
IDP_UNREACHABLE = (
    "The identity provider could not be reached to verify the token. Retry the request."
)
INCORRECT_AUDIENCE = "Incorrect token audience"
#: A certificate neither the trust store nor the provider's thumbprints vouch for.
THUMBPRINT_MISMATCH = (
    "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
)
NO_PROVIDER = "No OpenIDConnect provider found in your account for "
_HTTPS = "https://"
#: Characters of a token's issuer repeated in an error message.
_SHOWN_ISSUER_CHARS = 256
_MAX_SUBJECT_CHARS = 255

#: iamd's own issuers' keys by issuer URL (None: not one of this server's issuer URLs).
PublishedKeys = Callable[[str], Sequence[Mapping[str, Any]] | None]


@dataclass(frozen=True, slots=True)
class VerifiedWebIdentity:
    provider: OIDCProvider
    #: The token's `iss`: the provider's URL with `https://`.
    issuer: str
    subject: str
    #: The client id that admitted the token (`azp` or one of `aud`).
    audience: str
    #: The token's own `aud` values.
    audiences: tuple[str, ...]
    claims: Mapping[str, Any]


class WebIdentityService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        keys: JwksCache,
        published: PublishedKeys,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._keys = keys
        self._published = published

    def verify(self, token: str) -> VerifiedWebIdentity:
        """The identity a token proves; InvalidIdentityToken, ExpiredTokenException or
        IDPCommunicationError (with AWS's messages) otherwise."""
        issuer = claimed_issuer(token)
        unverified = read(token)
        provider = self._provider(issuer)
        if provider is None:
            raise InvalidIdentityToken(NO_PROVIDER + issuer[:_SHOWN_ISSUER_CHARS])
        claims = self._verified(unverified, issuer, provider.thumbprints)
        audiences = _audiences(claims)
        audience = _admitted_audience(claims, audiences, provider.client_ids)
        if audience is None:
            raise InvalidIdentityToken(INCORRECT_AUDIENCE)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 0 < len(subject) <= _MAX_SUBJECT_CHARS:
            raise InvalidIdentityToken("The ID Token has no valid sub claim")
        return VerifiedWebIdentity(provider, issuer, subject, audience, audiences, claims)

    def _provider(self, issuer: str) -> OIDCProvider | None:
        if not issuer.startswith(_HTTPS) or len(issuer) <= len(_HTTPS):
            return None
        with self._tx.read() as repos:
            return repos.oidc_providers.get_by_url(issuer.removeprefix(_HTTPS))

    def _verified(
        self, token: UnverifiedToken, issuer: str, thumbprints: Sequence[str]
    ) -> dict[str, Any]:
        now = int(self._clock.now().timestamp())
        published = self._published(issuer)
        try:
            if published is not None:
                return verify(token, published, issuer=issuer, now=now)
            # The provider's own thumbprints: trust by thumbprint is per provider.
            keys = self._keys.keys(issuer, thumbprints=thumbprints)
            try:
                return verify(token, keys, issuer=issuer, now=now)
            except TokenRejected as rejected:
                if rejected.kind is not Rejection.UNKNOWN_KEY:
                    raise
            # The provider may have rotated its keys since they were cached.
            fresh = self._keys.keys(issuer, thumbprints=thumbprints, refresh=True)
            if fresh is keys:
                raise TokenRejected(Rejection.UNKNOWN_KEY, "no key of the provider fits")
            return verify(token, fresh, issuer=issuer, now=now)
        except KeysUnavailable as unavailable:
            if unavailable.transient:
                raise IDPCommunicationError(IDP_UNREACHABLE) from None
            if unavailable.untrusted:
                raise InvalidIdentityToken(THUMBPRINT_MISMATCH) from None
            raise InvalidIdentityToken(NO_VERIFICATION_KEY) from None
        except TokenRejected as rejected:
            raise _error(rejected) from None


def claimed_issuer(token: str) -> str:
    """The issuer a token says it is from, unverified (for the message about a provider
    that does not exist); InvalidIdentityToken when it is no JWT at all."""
    try:
        issuer = read(token).issuer
    except TokenRejected:
        raise InvalidIdentityToken(NOT_A_JWT) from None
    if issuer is None:
        raise InvalidIdentityToken(NOT_A_JWT)
    return issuer


def _error(rejected: TokenRejected) -> InvalidIdentityToken | ExpiredTokenException:
    if rejected.kind is Rejection.EXPIRED:
        return ExpiredTokenException(str(rejected))
    if rejected.kind is Rejection.UNKNOWN_KEY:
        return InvalidIdentityToken(NO_VERIFICATION_KEY)
    if rejected.kind is Rejection.MALFORMED:
        return InvalidIdentityToken(NOT_A_JWT)
    # The reason is iamd's own wording of what failed, never the token's content.
    reason = str(rejected)
    return InvalidIdentityToken(reason[:1].upper() + reason[1:])


def _audiences(claims: Mapping[str, Any]) -> tuple[str, ...]:
    value = claims.get("aud")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()


def _admitted_audience(
    claims: Mapping[str, Any], audiences: Sequence[str], client_ids: Sequence[str]
) -> str | None:
    authorized_party = claims.get("azp")
    if isinstance(authorized_party, str) and authorized_party in client_ids:
        return authorized_party
    for audience in audiences:
        if audience in client_ids:
            return audience
    return None

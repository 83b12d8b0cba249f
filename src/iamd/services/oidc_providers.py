"""OpenID Connect providers (CreateOpenIDConnectProvider and its family), with tags.

A provider is named by its ARN, `arn:aws:iam::ACCOUNT:oidc-provider/` followed by its
URL without `https://`. Client ids and thumbprints are sets kept in the order added:
adding a client id already there, or removing one that is not, is no error (AWS
documents both as idempotent). The per-account quota is checked under the account's
"oidc_providers" lock, so concurrent creates cannot exceed it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from iamd.clock import Clock
from iamd.errors import EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Tag
from iamd.model.oidc_providers import OIDCProvider
from iamd.model.quotas import Quotas
from iamd.services.tagging import ResourceTags, TaggedKind, check_tag_count
from iamd.store.sql.oidc_providers import oidc_provider_arn
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")
_ARN = re.compile(r"arn:aws:iam::(\d{12}):oidc-provider/(.+)")


def provider_url(url: str) -> str:
    """The URL as stored and shown: `https://` dropped; anything but an https URL with a
    host and no query or fragment is refused, as an issuer URL cannot carry them."""
    parts = urlsplit(url)
    if (
        parts.scheme.lower() != "https"
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username is not None
        or any(c.isspace() for c in url)
    ):
        raise InvalidInput("Invalid Open ID Connect Provider URL")
    return url[len("https://") :]


def _distinct(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _thumbprints(values: Sequence[str], limit: int) -> tuple[str, ...]:
    for value in values:
        if not _THUMBPRINT.fullmatch(value):
            raise InvalidInput("Thumbprint must be a 40 character hexadecimal string.")
    distinct = _distinct([v.lower() for v in values])
    if len(distinct) > limit:
        raise InvalidInput(f"Thumbprint list must contain fewer than {limit} entries.")
    return distinct


class OIDCProviderService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        self.tags = ResourceTags(tx, _TAGS, quotas.tags_per_resource)

    def _client_ids(self, values: Sequence[str]) -> tuple[str, ...]:
        distinct = _distinct(values)
        limit = self._quotas.client_ids_per_oidc_provider
        if len(distinct) > limit:
            raise LimitExceeded.quota("ClientIdsPerOpenIdConnectProvider", limit)
        return distinct

    def create(
        self,
        url: str,
        client_ids: Sequence[str],
        thumbprints: Sequence[str],
        tags: Sequence[Tag] = (),
    ) -> OIDCProvider:
        stored_url = provider_url(url)
        clients = self._client_ids(client_ids)
        prints = _thumbprints(thumbprints, self._quotas.thumbprints_per_oidc_provider)
        check_tag_count((), tags, self._quotas.tags_per_resource)
        provider = OIDCProvider(
            provider_id=self._ids.entity_id(IdPrefix.OIDC_PROVIDER),
            arn=oidc_provider_arn(self._tx.account_id, stored_url),
            url=stored_url,
            client_ids=clients,
            thumbprints=prints,
            create_date=self._clock.now(),
            tags=tuple(tags),
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("oidc_providers")
            if repos.oidc_providers.get_by_url(stored_url) is not None:
                raise EntityAlreadyExists.oidc_provider(stored_url)
            limit = self._quotas.oidc_providers
            if repos.oidc_providers.count() >= limit:
                raise LimitExceeded.quota("OpenIdConnectProvidersPerAccount", limit)
            repos.oidc_providers.add(provider)
        return provider

    def get(self, arn: str) -> OIDCProvider:
        with self._tx.read() as repos:
            return require_oidc_provider(repos, arn)

    def listing(self) -> list[str]:
        with self._tx.read() as repos:
            return [oidc_provider_arn(self._tx.account_id, u) for u in repos.oidc_providers.urls()]

    def delete(self, arn: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            provider = require_oidc_provider(repos, arn, for_update=True)
            repos.oidc_providers.delete(provider.provider_id)

    def add_client_id(self, arn: str, client_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            provider = require_oidc_provider(repos, arn, for_update=True)
            if client_id in provider.client_ids:
                return
            clients = self._client_ids([*provider.client_ids, client_id])
            repos.oidc_providers.set_client_ids(provider.provider_id, clients)

    def remove_client_id(self, arn: str, client_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            provider = require_oidc_provider(repos, arn, for_update=True)
            if client_id not in provider.client_ids:
                return
            clients = [c for c in provider.client_ids if c != client_id]
            repos.oidc_providers.set_client_ids(provider.provider_id, clients)

    def update_thumbprints(self, arn: str, thumbprints: Sequence[str]) -> None:
        prints = _thumbprints(thumbprints, self._quotas.thumbprints_per_oidc_provider)
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            provider = require_oidc_provider(repos, arn, for_update=True)
            repos.oidc_providers.set_thumbprints(provider.provider_id, prints)


def require_oidc_provider(
    repos: Repositories, arn: str, *, for_update: bool = False
) -> OIDCProvider:
    """The provider an ARN names in this account, or NoSuchEntity (another account's ARN
    names nothing here)."""
    match = _ARN.fullmatch(arn)
    if match is None or match.group(1) != repos.account_id:
        raise NoSuchEntity.oidc_provider(arn)
    found = repos.oidc_providers.get_by_url(match.group(2), for_update=for_update)
    if found is None:
        raise NoSuchEntity.oidc_provider(arn)
    return found


_TAGS: TaggedKind[OIDCProvider] = TaggedKind(
    find=lambda repos, arn, for_update: require_oidc_provider(repos, arn, for_update=for_update),
    tags_of=lambda provider: provider.tags,
    owner_id=lambda provider: provider.provider_id,
    repository=lambda repos: repos.oidc_providers.tags,
    # A provider is nobody's credential.
    credentials=NO_CREDENTIALS,
)

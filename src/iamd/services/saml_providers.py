"""SAML 2.0 identity providers (CreateSAMLProvider and its family), with their tags.

A metadata document is parsed (hardened, `saml_assertions.parse_metadata`) before any
transaction opens: a provider is only ever stored with an IdP descriptor that has a
signing certificate. ValidUntil is the metadata's `validUntil`, else 100 years after the
upload, as AWS reports it. The account-wide quota is checked under the account's
"saml_providers" lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from iamd.clock import Clock
from iamd.errors import EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from iamd.model import Tag
from iamd.model.quotas import Quotas
from iamd.model.saml_providers import SamlProvider
from iamd.services.saml_assertions import IdpMetadata, SamlRejected, parse_metadata
from iamd.services.tagging import ResourceTags, TaggedKind, check_tag_count
from iamd.store.sql.saml_providers import saml_provider_arn
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

_DEFAULT_VALIDITY = timedelta(days=36525)


def provider_name_of(arn: str, account_id: str) -> str | None:
    """The provider name an ARN of this account names, None for any other ARN."""
    prefix = f"arn:aws:iam::{account_id}:saml-provider/"
    if not arn.startswith(prefix) or len(arn) == len(prefix):
        return None
    return arn[len(prefix) :]


def require_saml_provider(
    repos: Repositories, account_id: str, arn: str, *, for_update: bool = False
) -> SamlProvider:
    name = provider_name_of(arn, account_id)
    found = None if name is None else repos.saml_providers.get_by_name(name, for_update=for_update)
    if found is None:
        raise NoSuchEntity.saml_provider(arn)
    return found


def checked_metadata(document: str) -> IdpMetadata:
    try:
        return parse_metadata(document)
    except SamlRejected as exc:
        # AWS's message; the reason stays out of the answer (it may quote the document).
        raise InvalidInput("Could not parse metadata") from exc


def _valid_until(metadata: IdpMetadata, now: datetime) -> datetime:
    return metadata.valid_until if metadata.valid_until is not None else now + _DEFAULT_VALIDITY


class SamlProviderService:
    def __init__(self, tx: Transactions, clock: Clock, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._quotas = quotas
        account_id = tx.account_id
        kind: TaggedKind[SamlProvider] = TaggedKind(
            find=lambda repos, arn, for_update: require_saml_provider(
                repos, account_id, arn, for_update=for_update
            ),
            tags_of=lambda provider: provider.tags,
            owner_id=lambda provider: provider.provider_id,
            repository=lambda repos: repos.saml_providers.tags,
            # A provider is nobody's credential.
            credentials=NO_CREDENTIALS,
        )
        self.tags = ResourceTags(tx, kind, quotas.tags_per_resource)

    def create(self, name: str, document: str, tags: Sequence[Tag] = ()) -> SamlProvider:
        now = self._clock.now()
        metadata = checked_metadata(document)
        check_tag_count((), tags, self._quotas.tags_per_resource)
        provider = SamlProvider(
            provider_id=str(uuid.uuid4()),
            name=name,
            arn=saml_provider_arn(self._tx.account_id, name),
            metadata_document=document,
            create_date=now,
            valid_until=_valid_until(metadata, now),
            tags=tuple(tags),
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("saml_providers")
            if repos.saml_providers.get_by_name(name) is not None:
                raise EntityAlreadyExists.saml_provider(name)
            limit = self._quotas.saml_providers
            if repos.saml_providers.count() >= limit:
                raise LimitExceeded.quota("SAMLProvidersPerAccount", limit)
            repos.saml_providers.add(provider)
        return provider

    def get(self, arn: str) -> SamlProvider:
        with self._tx.read() as repos:
            return require_saml_provider(repos, self._tx.account_id, arn)

    def listing(self) -> list[SamlProvider]:
        with self._tx.read() as repos:
            return repos.saml_providers.listing()

    def update(self, arn: str, document: str | None) -> SamlProvider:
        metadata = checked_metadata(document) if document is not None else None
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            provider = require_saml_provider(repos, self._tx.account_id, arn, for_update=True)
            if document is not None and metadata is not None:
                valid_until = _valid_until(metadata, self._clock.now())
                repos.saml_providers.update_metadata(provider.provider_id, document, valid_until)
        return provider

    def delete(self, arn: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            provider = require_saml_provider(repos, self._tx.account_id, arn, for_update=True)
            repos.saml_providers.delete(provider.provider_id)

    def record_assertion(self, assertion_id: str, not_on_or_after: datetime) -> bool:
        """Remember an accepted assertion's ID until its NotOnOrAfter; False on a replay."""
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            return repos.saml_providers.record_assertion(
                assertion_id, not_on_or_after, self._clock.now()
            )

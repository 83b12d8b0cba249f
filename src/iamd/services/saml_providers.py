"""SAML 2.0 identity providers (CreateSAMLProvider and its family), with their tags.

A metadata document is parsed (hardened, `saml_assertions.parse_metadata`) before any
transaction opens: a provider is only ever stored with an IdP descriptor that has a
signing certificate. ValidUntil is the metadata's `validUntil`, else 100 years after the
upload, as AWS reports it. The account-wide quota is checked under the account's
"saml_providers" lock.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from iamd.auth.secret_box import SecretBox
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
MAX_PRIVATE_KEYS = 2
REQUIRED = "Required"
_MIN_KEY_BITS = 2048


def private_key_context(key_id: str) -> bytes:
    """Associated data binding a sealed SAML private key to its key id."""
    return f"saml-private-key:{key_id}".encode()


def checked_private_key(pem: str) -> rsa.RSAPrivateKey:
    """An uploaded private key, or InvalidInput (whose message never quotes it)."""
    try:
        key = load_pem_private_key(pem.encode("latin-1"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise InvalidInput("The private key must be an unencrypted PEM RSA private key.") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < _MIN_KEY_BITS:
        raise InvalidInput(f"The private key must be an RSA key of at least {_MIN_KEY_BITS} bits.")
    return key


def _new_key_id() -> str:
    # 26 characters of [A-Z2-7]: the model's privateKeyIdType is [A-Z0-9]{22,64}.
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=")


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
    def __init__(self, tx: Transactions, clock: Clock, quotas: Quotas, box: SecretBox) -> None:
        self._tx = tx
        self._box = box
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

    def create(
        self,
        name: str,
        document: str,
        tags: Sequence[Tag] = (),
        encryption_mode: str | None = None,
        private_key: str | None = None,
    ) -> SamlProvider:
        now = self._clock.now()
        metadata = checked_metadata(document)
        check_tag_count((), tags, self._quotas.tags_per_resource)
        if private_key is not None:
            checked_private_key(private_key)
        elif encryption_mode == REQUIRED:
            raise _required_without_key()
        provider = SamlProvider(
            provider_id=str(uuid.uuid4()),
            name=name,
            arn=saml_provider_arn(self._tx.account_id, name),
            metadata_document=document,
            create_date=now,
            valid_until=_valid_until(metadata, now),
            tags=tuple(tags),
            assertion_encryption_mode=encryption_mode or "Allowed",
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("saml_providers")
            if repos.saml_providers.get_by_name(name) is not None:
                raise EntityAlreadyExists.saml_provider(name)
            limit = self._quotas.saml_providers
            if repos.saml_providers.count() >= limit:
                raise LimitExceeded.quota("SAMLProvidersPerAccount", limit)
            repos.saml_providers.add(provider)
            if private_key is not None:
                self._add_key(repos, provider.provider_id, private_key, now)
        return provider

    def get(self, arn: str) -> SamlProvider:
        with self._tx.read() as repos:
            return require_saml_provider(repos, self._tx.account_id, arn)

    def listing(self) -> list[SamlProvider]:
        with self._tx.read() as repos:
            return repos.saml_providers.listing()

    def update(
        self,
        arn: str,
        document: str | None,
        encryption_mode: str | None = None,
        add_private_key: str | None = None,
        remove_private_key: str | None = None,
    ) -> SamlProvider:
        metadata = checked_metadata(document) if document is not None else None
        if add_private_key is not None and remove_private_key is not None:
            raise InvalidInput(
                "Add the new private key and remove the old one in separate requests."
            )
        if add_private_key is not None:
            checked_private_key(add_private_key)
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            provider = require_saml_provider(repos, self._tx.account_id, arn, for_update=True)
            if document is not None and metadata is not None:
                valid_until = _valid_until(metadata, now)
                repos.saml_providers.update_metadata(provider.provider_id, document, valid_until)
            keys = len(provider.private_keys)
            if add_private_key is not None:
                if keys >= MAX_PRIVATE_KEYS:
                    raise LimitExceeded.quota("PrivateKeysPerSAMLProvider", MAX_PRIVATE_KEYS)
                self._add_key(repos, provider.provider_id, add_private_key, now)
                keys += 1
            if remove_private_key is not None:
                if not repos.saml_providers.remove_private_key(
                    provider.provider_id, remove_private_key
                ):
                    raise NoSuchEntity(
                        f"The private key {remove_private_key} does not exist for {arn}."
                    )
                keys -= 1
            mode = encryption_mode or provider.assertion_encryption_mode
            if mode == REQUIRED and keys == 0:
                raise _required_without_key()
            if encryption_mode is not None:
                repos.saml_providers.set_encryption_mode(provider.provider_id, encryption_mode)
        return provider

    def decryption_keys(self, provider: SamlProvider) -> list[rsa.RSAPrivateKey]:
        """The provider's private keys, opened (for AssumeRoleWithSAML only)."""
        with self._tx.read() as repos:
            sealed = repos.saml_providers.sealed_private_keys(provider.provider_id)
        keys = []
        for key_id, blob in sealed:
            pem = self._box.open(blob, private_key_context(key_id))
            key = load_pem_private_key(pem.encode("latin-1"), password=None)
            if isinstance(key, rsa.RSAPrivateKey):
                keys.append(key)
        return keys

    def _add_key(self, repos: Repositories, provider_id: str, pem: str, now: datetime) -> None:
        key_id = _new_key_id()
        sealed = self._box.seal(pem, private_key_context(key_id))
        repos.saml_providers.add_private_key(provider_id, key_id, sealed, now)

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


def _required_without_key() -> InvalidInput:
    return InvalidInput(
        "AssertionEncryptionMode Required needs a private key to decrypt assertions with."
    )

"""SAML 2.0 identity providers an account trusts for AssumeRoleWithSAML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from iamd.model.entities import Tag


@dataclass(frozen=True, slots=True)
class SamlPrivateKey:
    """What is told of a provider's private key: its id and upload time (the key itself
    is only ever stored sealed, and never returned)."""

    key_id: str
    upload_date: datetime


@dataclass(frozen=True, slots=True)
class SamlProvider:
    """A provider; `metadata_document` is the IdP metadata XML as uploaded;
    `assertion_encryption_mode` is "Required" or "Allowed"."""

    provider_id: str
    name: str
    arn: str
    metadata_document: str
    create_date: datetime
    valid_until: datetime
    tags: tuple[Tag, ...] = ()
    assertion_encryption_mode: str = "Allowed"
    private_keys: tuple[SamlPrivateKey, ...] = ()

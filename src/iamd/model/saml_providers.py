"""SAML 2.0 identity providers an account trusts for AssumeRoleWithSAML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from iamd.model.entities import Tag


@dataclass(frozen=True, slots=True)
class SamlProvider:
    """A provider; `metadata_document` is the IdP metadata XML as uploaded."""

    provider_id: str
    name: str
    arn: str
    metadata_document: str
    create_date: datetime
    valid_until: datetime
    tags: tuple[Tag, ...] = ()

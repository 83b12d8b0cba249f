"""OpenID Connect identity providers IAM trusts for AssumeRoleWithWebIdentity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from iamd.model.entities import Tag


@dataclass(frozen=True, slots=True)
class OIDCProvider:
    """One provider; `url` is the issuer without its `https://`, as AWS reports it and as
    its ARN (`arn:aws:iam::ACCOUNT:oidc-provider/URL`) ends."""

    provider_id: str
    arn: str
    url: str
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]
    create_date: datetime
    tags: tuple[Tag, ...] = ()

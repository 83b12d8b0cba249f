"""X.509 certificates IAM holds: users' signing certificates and server certificates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from iamd.model.entities import Tag


class SigningCertificateStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True, slots=True)
class SigningCertificate:
    """A user's X.509 signing certificate; `body` is the PEM text as uploaded."""

    certificate_id: str
    user_id: str
    user_name: str
    body: str
    status: SigningCertificateStatus
    upload_date: datetime


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    """A server certificate without its private key, which never leaves the store sealed."""

    server_certificate_id: str
    name: str
    path: str
    arn: str
    body: str
    chain: str | None
    expiration: datetime
    upload_date: datetime
    tags: tuple[Tag, ...] = ()

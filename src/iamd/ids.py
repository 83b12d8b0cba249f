"""Identifiers in AWS's shapes: unique ids, access key ids, secrets, request ids.

AWS ids are a four-letter prefix naming the kind of entity followed by characters
from the base32 alphabet (A-Z, 2-7): 17 of them for entity ids (21 in all), 16 for
access key and SSH key ids (20 in all). Secrets are 40 characters of base64.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from enum import StrEnum
from typing import Protocol

# 30 random bytes are exactly 40 base64 characters, each of the 64 equally likely: the
# same secrets as 40 draws from the alphabet, from one read of the system's generator
# instead of 40 (the draws were 5 % of a CreateAccessKey's server time).
_SECRET_BYTES = 30


class IdPrefix(StrEnum):
    USER = "AIDA"
    GROUP = "AGPA"
    ROLE = "AROA"
    POLICY = "ANPA"
    POLICY_VERSION = "ANVA"
    INSTANCE_PROFILE = "AIPA"
    ACCESS_KEY = "AKIA"
    TEMPORARY_ACCESS_KEY = "ASIA"
    SSH_PUBLIC_KEY = "APKA"
    SERVER_CERTIFICATE = "ASCA"
    SERVICE_SPECIFIC_CREDENTIAL = "ACCA"
    # Never shown by AWS (a provider is named by its ARN); iamd's row key only.
    OIDC_PROVIDER = "AOPA"


ENTITY_ID_SUFFIX = 17
KEY_ID_SUFFIX = 16
# Signing certificate ids carry no prefix: 32 upper-case letters and digits.
SIGNING_CERTIFICATE_ID_LENGTH = 32


class IdGenerator(Protocol):
    def entity_id(self, prefix: IdPrefix) -> str: ...

    def key_id(self, prefix: IdPrefix) -> str: ...

    def secret_access_key(self) -> str: ...

    def signing_certificate_id(self) -> str: ...

    def request_id(self) -> str: ...


class RandomIds:
    """Cryptographically random ids; the only generator the server uses."""

    def entity_id(self, prefix: IdPrefix) -> str:
        return prefix + _random_base32(ENTITY_ID_SUFFIX)

    def key_id(self, prefix: IdPrefix) -> str:
        return prefix + _random_base32(KEY_ID_SUFFIX)

    def secret_access_key(self) -> str:
        return base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")

    def signing_certificate_id(self) -> str:
        return _random_base32(SIGNING_CERTIFICATE_ID_LENGTH)

    def request_id(self) -> str:
        return str(uuid.uuid4())


def _random_base32(length: int) -> str:
    # 5 bits per character: take enough random bytes and keep the first `length`.
    raw = secrets.token_bytes((length * 5 + 7) // 8 + 1)
    return base64.b32encode(raw).decode("ascii")[:length]

"""The SCIM bearer tokens of an Identity Center instance: what an identity provider
(Okta, Microsoft Entra ID ...) presents to provision the instance's identity store.

As in AWS, an instance has at most two tokens at a time (expired ones count until they
are deleted) and a token lives one year. A token is shown once, when it is created; only
its SHA-256 digest is kept, and a presented token is compared with the instance's
digests in constant time. The SCIM endpoint names its instance by the identity store id
(the "tenant" of the endpoint's path), so a token only ever opens its own store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from iamd.clock import Clock
from iamd.errors import ResourceNotFoundException, ServiceQuotaExceededException
from iamd.model.identity_center import Instance, ScimToken
from iamd.store.transactions import NO_CREDENTIALS, Transactions

TOKEN_LIFETIME = timedelta(days=365)
MAX_TOKENS = 2
#: A presented token longer than this is refused unread (ours are 86 characters).
MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ScimToken
    secret: str  # shown once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ScimTokenService:
    def __init__(self, tx: Transactions, clock: Clock) -> None:
        # Instances are found by ARN or store id whatever account owns them: the tokens
        # are managed by the operator on the server's machine (AWS: in its console).
        self._tx = tx
        self._clock = clock

    def create(self, instance_arn: str) -> IssuedToken:
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            if repos.identity_center.instance(instance_arn) is None:
                raise ResourceNotFoundException("Instance does not exist.")
            repos.identity_sources.lock_instance_tokens(instance_arn)
            if repos.identity_sources.count_tokens(instance_arn) >= MAX_TOKENS:
                raise ServiceQuotaExceededException(
                    f"The instance already has {MAX_TOKENS} SCIM access tokens; delete one "
                    "(an expired or unused one) before creating another."
                )
            token = ScimToken(str(uuid.uuid4()), instance_arn, now, now + TOKEN_LIFETIME, None)
            secret = secrets.token_urlsafe(64)
            repos.identity_sources.add_token(token, _digest(secret))
        return IssuedToken(token, secret)

    def tokens(self, instance_arn: str) -> list[ScimToken]:
        with self._tx.read() as repos:
            if repos.identity_center.instance(instance_arn) is None:
                raise ResourceNotFoundException("Instance does not exist.")
            return repos.identity_sources.tokens(instance_arn)

    def delete(self, instance_arn: str, token_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            if not repos.identity_sources.delete_token(instance_arn, token_id):
                raise ResourceNotFoundException(f"SCIM access token {token_id} does not exist.")

    def authenticate(self, tenant: str, secret: str) -> tuple[Instance, ScimToken] | None:
        """The instance whose store is `tenant` and the token, if `secret` is one of its
        live tokens."""
        if not secret or len(secret) > MAX_TOKEN_LENGTH:
            return None
        presented = _digest(secret)
        now = self._clock.now()
        with self._tx.read() as repos:
            instance = repos.identity_center.instance_of_store(tenant)
            if instance is None:
                return None
            stored = repos.identity_sources.token_digests(instance.instance_arn)
        matched = None
        # Every digest is compared (in constant time), so the answer's timing says
        # nothing about which token, if any, came close.
        for token, digest in stored:
            if hmac.compare_digest(presented, digest):
                matched = token
        if matched is None or matched.expires <= now:
            return None
        return instance, matched

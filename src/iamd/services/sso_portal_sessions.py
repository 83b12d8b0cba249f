"""The AWS access portal page's browser sessions.

A session starts when a user signs in at the portal page (password, and the MFA step
when the instance asks for it) and lives behind a random cookie value, stored only as
its SHA-256 digest. It ends at sign-out, after an hour without a request (idle), eight
hours after it began (absolute: AWS's default portal session), or when the user is
disabled or deleted. Each session is its own credential in the audit trail (a fresh
`credentialId`), as a CLI sign-in's token family is.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from iamd.clock import Clock
from iamd.services.sso_oidc import TokenOwner
from iamd.store.sql.identity_center_mfa import PortalSessionRow
from iamd.store.transactions import Transactions

IDLE_TIMEOUT = timedelta(hours=1)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
# A session's last request is written at most this often (not on every page view).
_TOUCH_EVERY = timedelta(minutes=1)


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "replace")).hexdigest()


class PortalSessions:
    def __init__(self, tx: Transactions, clock: Clock) -> None:
        self._tx = tx
        self._clock = clock

    def open(self, instance_arn: str, user_id: str, *, mfa: bool) -> str:
        """A new session; the cookie value that names it (the only copy)."""
        cookie = secrets.token_urlsafe(32)
        now = self._clock.now()
        with self._tx.write_uncached() as repos:
            sessions = repos.identity_center_mfa
            sessions.forget_sessions(now - IDLE_TIMEOUT, now - ABSOLUTE_TIMEOUT)
            sessions.add_session(
                PortalSessionRow(
                    _digest(cookie), instance_arn, user_id, str(uuid.uuid4()), now, now, mfa
                )
            )
        return cookie

    def owner(self, cookie: str) -> TokenOwner | None:
        """Who the session is, for the portal's calls (None: no such live session)."""
        if not cookie or len(cookie) > 128:
            return None
        digest = _digest(cookie)
        now = self._clock.now()
        with self._tx.read() as repos:
            found = repos.identity_center_mfa.session(digest)
            instance = repos.identity_center.instance(found.instance_arn) if found else None
            user = (
                repos.identity_center.user(instance.identity_store_id, found.user_id)
                if found and instance
                else None
            )
        if (
            found is None
            or user is None
            or user.status != "ENABLED"
            or now - found.last_seen >= IDLE_TIMEOUT
            or now - found.created >= ABSOLUTE_TIMEOUT
        ):
            return None
        if now - found.last_seen >= _TOUCH_EVERY:
            with self._tx.write_uncached() as repos:
                repos.identity_center_mfa.touch_session(digest, now)
        return TokenOwner(found.instance_arn, found.user_id, found.family, digest)

    def close(self, cookie: str) -> None:
        if cookie and len(cookie) <= 128:
            with self._tx.write_uncached() as repos:
                repos.identity_center_mfa.delete_session(_digest(cookie))

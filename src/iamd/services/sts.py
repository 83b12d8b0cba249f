"""STS use cases: session credentials (GetSessionToken, AssumeRole) and key look-ups.

Issuing a session draws a new ``ASIA`` access key id and a secret, and seals both with
the session's facts into the session token (``auth/session_tokens.py``); nothing is
written to the database. The rules reproduced here are AWS's (iam-facts §4.2): session
lengths, MFA verification, which credentials may ask for which session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from iamd.auth.session_tokens import SessionClaims, SessionKind, SessionTokens
from iamd.clock import Clock
from iamd.errors import AccessDenied, ValidationError
from iamd.ids import IdGenerator, IdPrefix
from iamd.services.caller import Caller
from iamd.services.transactions import Transactions

# Session credentials cannot ask for another GetSessionToken session (iam-facts §4.2).
CANNOT_NEST = "Cannot call GetSessionToken with session credentials"
# GetSessionToken for an IAM user: 15 minutes to 36 hours, 12 hours by default.
SESSION_TOKEN_DEFAULT_SECONDS = 43_200

# AWS's answers to an MFA code it cannot accept (iam-facts §1.3).
MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your "
    "MFA serial number is valid and associated with this user."
)


class MfaAuthenticator(Protocol):
    def authenticate(self, user_id: str, serial_number: str, token_code: str) -> datetime:
        """Verify and consume a TOTP code of a device enabled for the user; return the
        authentication time; AccessDenied with AWS's message otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class IssuedCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime

    def as_result(self) -> dict[str, object]:
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration,
        }


class StsService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        ids: IdGenerator,
        tokens: SessionTokens,
        mfa: MfaAuthenticator | None,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._tokens = tokens
        self._mfa = mfa

    def get_session_token(
        self,
        caller: Caller,
        duration_seconds: int | None,
        serial_number: str | None,
        token_code: str | None,
    ) -> IssuedCredentials:
        if caller.session is not None or caller.user is None:
            raise AccessDenied(CANNOT_NEST)
        duration = SESSION_TOKEN_DEFAULT_SECONDS if duration_seconds is None else duration_seconds
        now = self._clock.now()
        mfa_time = self.verify_mfa(caller.user.user_id, serial_number, token_code)
        return self._issue(
            now,
            duration,
            kind=SessionKind.USER,
            principal_id=caller.user.user_id,
            mfa_authenticated=mfa_time,
        )

    def verify_mfa(
        self, user_id: str, serial_number: str | None, token_code: str | None
    ) -> int | None:
        """The epoch second of a successful MFA check, None when no MFA was offered."""
        if serial_number is None and token_code is None:
            return None
        if serial_number is None:
            raise AccessDenied(MFA_UNKNOWN_DEVICE)
        if token_code is None:
            raise AccessDenied(MFA_INVALID_CODE)
        if self._mfa is None:
            raise AccessDenied(MFA_UNKNOWN_DEVICE)
        return _epoch(self._mfa.authenticate(user_id, serial_number, token_code))

    def get_access_key_info(self, access_key_id: str) -> str:
        """The account an access key belongs to.

        AWS reads the account out of any key id. iamd serves one account: it answers it
        for the long-term keys it holds and for temporary (ASIA) key ids, which it
        cannot look up (sessions are not stored), and refuses other key ids.
        """
        if access_key_id.startswith(IdPrefix.TEMPORARY_ACCESS_KEY):
            return self._tx.account_id
        with self._tx.read() as repos:
            found = repos.access_keys.get(access_key_id)
        if found is None:
            raise ValidationError(
                f"The access key ID {access_key_id} does not belong to this account."
            )
        return self._tx.account_id

    def _issue(
        self,
        now: datetime,
        duration: int,
        *,
        kind: SessionKind,
        principal_id: str,
        mfa_authenticated: int | None = None,
        session_name: str | None = None,
        source_identity: str | None = None,
        session_policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
        tags: tuple[tuple[str, str], ...] = (),
        transitive_tag_keys: tuple[str, ...] = (),
        chained: bool = False,
    ) -> IssuedCredentials:
        issued = _epoch(now)
        claims = SessionClaims(
            access_key_id=self._ids.key_id(IdPrefix.TEMPORARY_ACCESS_KEY),
            secret_access_key=self._ids.secret_access_key(),
            kind=kind,
            principal_id=principal_id,
            issued=issued,
            expires=issued + duration,
            mfa_authenticated=mfa_authenticated,
            session_name=session_name,
            source_identity=source_identity,
            session_policy=session_policy,
            policy_arns=policy_arns,
            tags=tags,
            transitive_tag_keys=transitive_tag_keys,
            chained=chained,
        )
        return IssuedCredentials(
            access_key_id=claims.access_key_id,
            secret_access_key=claims.secret_access_key,
            session_token=self._tokens.seal(claims),
            expiration=datetime.fromtimestamp(claims.expires, UTC),
        )


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())

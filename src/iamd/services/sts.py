"""STS use cases: session credentials (GetSessionToken, AssumeRole, GetFederationToken,
AssumeRoot) and key look-ups.

Issuing a session draws a new ``ASIA`` access key id and a secret, and seals both with
the session's facts into the session token (``auth/session_tokens.py``); nothing is
written to the database. The rules reproduced here are AWS's (iam-facts §4.2): session
lengths, MFA verification, which credentials may ask for which session.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from iamd.auth.authorization_messages import (
    MAX_ENCODED_CHARS,
    AuthorizationMessages,
    InvalidAuthorizationMessage,
)
from iamd.auth.session_tokens import SessionClaims, SessionKind, SessionTokens
from iamd.clock import Clock
from iamd.errors import (
    AccessDenied,
    InvalidAuthorizationMessageException,
    MalformedPolicyDocument,
    PackedPolicyTooLarge,
    ValidationError,
)
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Role
from iamd.policy import PolicyKind, check_policy
from iamd.principals.caller import Caller, PrincipalType
from iamd.store.transactions import Transactions

# GetSessionToken for an IAM user: 15 minutes to 36 hours, 12 hours by default.
SESSION_TOKEN_DEFAULT_SECONDS = 43_200
# AssumeRole: one hour by default, at most the role's MaxSessionDuration, and at most
# one hour when a role session assumes a role (role chaining).
ROLE_SESSION_DEFAULT_SECONDS = 3_600
# GetFederationToken: 15 minutes to 36 hours (the model bounds), 12 hours by default;
# at most one hour for the account's root user, which AWS caps without an error.
FEDERATION_DEFAULT_SECONDS = 43_200
ROOT_SESSION_MAX_SECONDS = 3_600
CHAINED_SESSION_MAX_SECONDS = 3_600
# AssumeRoot: 0 to 900 seconds (the model's bounds), 900 by default.
ROOT_TASK_SESSION_DEFAULT_SECONDS = 900
# Session policies: at most 2048 characters of inline policy plaintext, at most 10
# managed policy ARNs; the packed form of policies and tags has its own limit.
SESSION_POLICY_MAX_CHARS = 2_048
SESSION_POLICY_ARNS_MAX = 10
PACKED_LIMIT_CHARS = 2_048

EXCEEDS_ROLE_MAXIMUM = (
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
)
EXCEEDS_CHAINING_LIMIT = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
    "role chaining."
)


class MfaAuthenticator(Protocol):
    def authenticate(self, user_id: str, serial_number: str, token_code: str) -> datetime:
        """Verify and consume a TOTP code of a device enabled for the user; return the
        authentication time; AccessDenied with AWS's message otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class AssumeRoleRequest:
    session_name: str
    duration_seconds: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    # When an MFA code given with this request was verified (epoch seconds).
    mfa_authenticated: int | None = None


@dataclass(frozen=True, slots=True)
class IssuedCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    source_identity: str | None = None


class StsService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        ids: IdGenerator,
        tokens: SessionTokens,
        mfa: MfaAuthenticator | None,
        messages: AuthorizationMessages | None = None,
    ) -> None:
        self._messages = messages
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
            raise AccessDenied.session_cannot_nest()
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
            raise AccessDenied.mfa_device_unknown()
        if token_code is None:
            raise AccessDenied.mfa_code_invalid()
        if self._mfa is None:
            raise AccessDenied.mfa_device_unknown()
        return _epoch(self._mfa.authenticate(user_id, serial_number, token_code))

    def check_session_policies(
        self, policy: str | None, policy_arns: Sequence[str], tags: Sequence[tuple[str, str]]
    ) -> int | None:
        """Validate AssumeRole's session policies and tags; their packed size in percent
        of the limit (None when none were passed), or PackedPolicyTooLarge.

        AWS packs the inline policy, the managed policy ARNs and the session tags into a
        compressed binary form with its own limit; iamd measures the same inputs as
        plain characters (JSON without insignificant whitespace, ARNs, tag keys and
        values) against 2048, which is stricter than AWS for large policies.
        """
        if policy is not None:
            if len(policy) > SESSION_POLICY_MAX_CHARS:
                raise ValidationError.constraint(
                    "policy",
                    f"Member must have length less than or equal to {SESSION_POLICY_MAX_CHARS}",
                    value=policy,
                )
            for problem in check_policy(policy, PolicyKind.SESSION):
                if problem.kind == "error":
                    raise MalformedPolicyDocument(problem.message)
        if len(policy_arns) > SESSION_POLICY_ARNS_MAX:
            raise ValidationError.constraint(
                "policyArns",
                f"Member must have length less than or equal to {SESSION_POLICY_ARNS_MAX}",
            )
        if policy is None and not policy_arns and not tags:
            return None
        packed = (
            (_compact_length(policy) if policy is not None else 0)
            + sum(len(arn) for arn in policy_arns)
            + sum(len(key) + len(value) for key, value in tags)
        )
        percent = -(-packed * 100 // PACKED_LIMIT_CHARS)
        if percent > 100:
            raise PackedPolicyTooLarge(f"Packed policy consumes {percent}% of allotted space")
        return percent

    def assume_role(
        self, caller: Caller, role: Role, request: AssumeRoleRequest
    ) -> IssuedCredentials:
        """Issue a session of `role` to an already authorized caller."""
        chained = caller.session is not None and caller.session.kind is SessionKind.ROLE
        duration = request.duration_seconds
        if duration is None:
            duration = ROLE_SESSION_DEFAULT_SECONDS
        elif chained and duration > CHAINED_SESSION_MAX_SECONDS:
            raise ValidationError(EXCEEDS_CHAINING_LIMIT)
        elif duration > role.max_session_duration:
            raise ValidationError(EXCEEDS_ROLE_MAXIMUM)
        tags = dict(request.tags)
        transitive = list(request.transitive_tag_keys)
        source_identity = request.source_identity
        mfa = request.mfa_authenticated
        if caller.session is not None:
            # What passes on from the calling session: its MFA authentication, its
            # source identity (which cannot be changed once set) and, when chaining,
            # its transitive session tags.
            if mfa is None:
                mfa = caller.session.mfa_authenticated
            source_identity = caller.session.source_identity or source_identity
            if chained:
                inherited = {k.lower() for k in caller.session.transitive_tag_keys}
                for key, value in caller.session.tags:
                    if key.lower() in inherited:
                        tags[key] = value
                        if key not in transitive:
                            transitive.append(key)
        return self._issue(
            self._clock.now(),
            duration,
            kind=SessionKind.ROLE,
            principal_id=role.role_id,
            mfa_authenticated=mfa,
            session_name=request.session_name,
            source_identity=source_identity,
            session_policy=request.policy,
            policy_arns=tuple(request.policy_arns),
            tags=tuple(tags.items()),
            transitive_tag_keys=tuple(transitive),
            chained=chained,
        )

    def get_federation_token(
        self,
        caller: Caller,
        name: str,
        duration_seconds: int | None,
        policy: str | None,
        policy_arns: tuple[str, ...],
        tags: tuple[tuple[str, str], ...],
    ) -> IssuedCredentials:
        """A federated user session of the calling IAM user (already authorized for
        sts:GetFederationToken; session policies already checked)."""
        if caller.session is not None:
            raise AccessDenied.federation_cannot_nest()
        if caller.user is None:
            # iamd serves no root credentials; no other long-term caller exists.
            raise AccessDenied.federation_cannot_nest()
        duration = FEDERATION_DEFAULT_SECONDS if duration_seconds is None else duration_seconds
        if caller.principal_type is PrincipalType.ACCOUNT:
            duration = min(duration, ROOT_SESSION_MAX_SECONDS)
        return self._issue(
            self._clock.now(),
            duration,
            kind=SessionKind.FEDERATED,
            principal_id=caller.user.user_id,
            session_name=name,
            session_policy=policy,
            policy_arns=policy_arns,
            tags=tags,
        )

    def assume_root(
        self, target_account: str, task_policy_arn: str, duration_seconds: int | None
    ) -> IssuedCredentials:
        """A root session of `target_account` restricted by the root-task policy
        `task_policy_arn` (the caller, the target and the policy already checked)."""
        duration = (
            ROOT_TASK_SESSION_DEFAULT_SECONDS if duration_seconds is None else duration_seconds
        )
        return self._issue(
            self._clock.now(),
            duration,
            kind=SessionKind.ROOT,
            principal_id=target_account,
            policy_arns=(task_policy_arn,),
        )

    def encode_authorization_message(self, explanation: dict[str, Any]) -> str | None:
        """The sealed form of an AccessDenied's explanation (None: no box configured)."""
        if self._messages is None:
            return None
        encoded = self._messages.seal(self._tx.account_id, explanation)
        if len(encoded) > MAX_ENCODED_CHARS:
            # DecodeAuthorizationMessage takes at most 10240 characters: a context too
            # large for that (hundreds of tags) is left out rather than made unreadable.
            context = explanation.get("context")
            if isinstance(context, dict):
                explanation = {**explanation, "context": {**context, "conditions": {"items": []}}}
                encoded = self._messages.seal(self._tx.account_id, explanation)
        return encoded

    def decode_authorization_message(self, encoded: str) -> str:
        """The DecodedMessage JSON of a message sealed for this account."""
        if self._messages is None:
            raise InvalidAuthorizationMessageException()
        try:
            return self._messages.open(self._tx.account_id, encoded)
        except InvalidAuthorizationMessage:
            raise InvalidAuthorizationMessageException() from None

    def identity_center_session(
        self, role: Role, user_name: str, duration_seconds: int
    ) -> IssuedCredentials:
        """GetRoleCredentials: a session of a role Identity Center provisioned, for the
        signed-in user (the session is named after them), for the permission set's
        duration. The portal authorized it: the user is assigned the permission set."""
        return self._issue(
            self._clock.now(),
            duration_seconds,
            kind=SessionKind.ROLE,
            principal_id=role.role_id,
            session_name=user_name,
        )

    def federated_role_session(
        self,
        role: Role,
        session_name: str,
        duration_seconds: int,
        policy: str | None,
        policy_arns: tuple[str, ...],
        *,
        tags: tuple[tuple[str, str], ...] = (),
        transitive_tag_keys: tuple[str, ...] = (),
        source_identity: str | None = None,
    ) -> IssuedCredentials:
        """AssumeRoleWithSAML, AssumeRoleWithWebIdentity: a session of `role` for an
        identity its trust policy already accepted (the caller checked the assertion or
        token, the duration, and the session tags and source identity it carries)."""
        return self._issue(
            self._clock.now(),
            duration_seconds,
            kind=SessionKind.ROLE,
            principal_id=role.role_id,
            session_name=session_name,
            session_policy=policy,
            policy_arns=policy_arns,
            tags=tags,
            transitive_tag_keys=transitive_tag_keys,
            source_identity=source_identity,
        )

    def get_access_key_info(self, access_key_id: str) -> str:
        """The account an access key belongs to.

        AWS reads the account out of any key id. iamd answers the key's user's account
        for the long-term keys it holds, the bootstrap account for temporary (ASIA) key
        ids, which it cannot look up (sessions are not stored), and refuses other ids.
        """
        if access_key_id.startswith(IdPrefix.TEMPORARY_ACCESS_KEY):
            return self._tx.account_id
        with self._tx.read() as repos:
            found = repos.access_keys.get(access_key_id)
            # Key ids are unique across accounts: the key's user says whose it is.
            user = None if found is None else repos.users.find_by_id_in_any_account(found.user_id)
        if user is None:
            raise ValidationError(
                f"The access key ID {access_key_id} does not belong to this account."
            )
        return user.arn.split(":", 5)[4]

    def delegated_session(
        self,
        *,
        user_id: str | None,
        role_id: str | None,
        session_name: str,
        policy: str | None,
        ends: datetime,
        request_id: str,
    ) -> IssuedCredentials:
        """A delegation request's session (GetDelegatedAccessToken): a federated user
        session of the IAM user who accepted it, or a session of the role whose session
        accepted it, limited by the request's permission policy, until `ends`."""
        now = self._clock.now()
        duration = max(1, int((ends - now).total_seconds()))
        if user_id is not None:
            return self._issue(
                now,
                duration,
                kind=SessionKind.FEDERATED,
                principal_id=user_id,
                session_name=session_name,
                session_policy=policy,
                delegation_request=request_id,
            )
        if role_id is None:
            raise AccessDenied("The identity that accepted this delegation request is gone.")
        return self._issue(
            now,
            duration,
            kind=SessionKind.ROLE,
            principal_id=role_id,
            session_name=session_name,
            session_policy=policy,
            delegation_request=request_id,
        )

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
        delegation_request: str | None = None,
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
            delegation_request=delegation_request,
        )
        return IssuedCredentials(
            access_key_id=claims.access_key_id,
            secret_access_key=claims.secret_access_key,
            session_token=self._tokens.seal(claims),
            expiration=datetime.fromtimestamp(claims.expires, UTC),
            source_identity=claims.source_identity,
        )


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _compact_length(document: str) -> int:
    try:
        return len(json.dumps(json.loads(document), separators=(",", ":"), ensure_ascii=False))
    except ValueError:
        return len(document)

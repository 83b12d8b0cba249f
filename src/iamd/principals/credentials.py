"""Resolving an access key id to the credential and principal behind it, cached.

This is the hot path of every request: a cache hit costs one dictionary look-up. The
cache is bounded and dropped whole after every committed write (and when another node
reports a change), so a deactivated key or a deleted user stops working at once here.

Long-term keys (``AKIA``) are looked up in the database. Temporary keys (``ASIA``) come
with a session token that holds the session itself (``auth/session_tokens.py``): the
token is opened, and the principal it names (the user of a GetSessionToken session, the
role of an AssumeRole session) is loaded from the database as it is now, so a deleted
user or role ends its sessions. Resolved sessions are cached by key id and token hash;
expiry is checked on every request.

A principal of an account in an organization also gets, once per resolution (so a cache
hit costs nothing more), the compiled SCPs restricting its account and the
`aws:PrincipalOrgID` / `aws:PrincipalOrgPaths` keys (`with_organization`); without an
organization both are absent and evaluation does no extra work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from iamd.auth.secret_box import SecretBox
from iamd.auth.session_tokens import InvalidSessionToken, SessionClaims, SessionKind, SessionTokens
from iamd.errors import ExpiredToken, InvalidClientTokenId
from iamd.ids import IdPrefix
from iamd.model import AccessKeyStatus, Tag, User
from iamd.policy import PolicyKind
from iamd.principals.caller import Caller, PrincipalType
from iamd.principals.organization_policies import organization_keys
from iamd.principals.principal_policies import PolicyCompiler, PrincipalPolicies, typed_source
from iamd.root_task_policies import ROOT_USER_DOCUMENT, task_policy_document
from iamd.store.cache import BoundedCache
from iamd.store.sql.access_keys import AccessKeyRepository
from iamd.store.transactions import Repositories, Transactions


@dataclass(frozen=True, slots=True)
class ResolvedCredential:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    status: AccessKeyStatus
    caller: Caller
    policies: PrincipalPolicies
    # Condition keys that describe the principal, the same for each of its requests
    # (aws:PrincipalOrgPaths is multivalued).
    principal_keys: dict[str, str | tuple[str, ...]]

    @property
    def session(self) -> SessionClaims | None:
        return self.caller.session


def is_temporary_key(access_key_id: str) -> bool:
    return access_key_id.startswith(IdPrefix.TEMPORARY_ACCESS_KEY)


class CredentialResolver:
    def __init__(
        self,
        tx: Transactions,
        secret_box: SecretBox,
        compiler: PolicyCompiler,
        max_entries: int = 20_000,
    ) -> None:
        self._tx = tx
        self._box = secret_box
        self._tokens = SessionTokens(secret_box)
        self._compiler = compiler
        self._cache: BoundedCache[str, ResolvedCredential] = BoundedCache(
            max_entries, name="credentials"
        )
        self._sessions: BoundedCache[tuple[str, bytes], ResolvedCredential] = BoundedCache(
            max_entries, name="sessions"
        )
        tx.register_credential_cache(self)

    @property
    def tokens(self) -> SessionTokens:
        return self._tokens

    def clear(self) -> None:
        self._cache.clear()
        self._sessions.clear()

    def forget(self, access_key_ids: Iterable[str]) -> None:
        # Sessions outlive the long-term key that asked for them, as in AWS; only their
        # principal (cleared by the writes that change it) decides what they may do.
        for access_key_id in access_key_ids:
            self._cache.discard(access_key_id)

    def resolve(self, access_key_id: str) -> ResolvedCredential | None:
        cached = self._cache.get(access_key_id)
        if cached is not None:
            return cached
        generation = self._cache.generation
        resolved = self._load(access_key_id)
        if resolved is not None:
            self._cache.put(access_key_id, resolved, generation)
        return resolved

    def resolve_session(
        self, access_key_id: str, token: str | None, now: datetime
    ) -> ResolvedCredential:
        """The session a temporary key and its token stand for.

        InvalidClientTokenId when the token is missing, was not issued by this server
        for this key id, or names a principal that no longer exists; ExpiredToken once
        the session has expired.
        """
        if not token:
            raise InvalidClientTokenId()
        cache_key = (access_key_id, hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest())
        resolved = self._sessions.get(cache_key)
        if resolved is None:
            generation = self._sessions.generation
            try:
                claims = self._tokens.open(token, access_key_id)
            except InvalidSessionToken:
                raise InvalidClientTokenId() from None
            resolved = self._load_session(claims)
            if resolved is None:
                raise InvalidClientTokenId()
            self._sessions.put(cache_key, resolved, generation)
        session = resolved.caller.session
        if session is None or _epoch(now) >= session.expires:
            raise ExpiredToken()
        return resolved

    def resolve_console(self, claims: SessionClaims) -> ResolvedCredential | None:
        """The IAM user a console session (`SessionKind.CONSOLE`) acts as, with its
        policies as they are now; None once the user (or its account) is gone. Cached
        like any session, and dropped by the same writes."""
        cache_key = (claims.access_key_id, _CONSOLE_CACHE_KEY)
        resolved = self._sessions.get(cache_key)
        if resolved is None or resolved.caller.session != claims:
            generation = self._sessions.generation
            resolved = self._load_session(claims)
            if resolved is None:
                return None
            self._sessions.put(cache_key, resolved, generation)
        return resolved

    def _load(self, access_key_id: str) -> ResolvedCredential | None:
        with self._tx.read() as repos:
            found = repos.access_keys.get_with_secret(access_key_id)
            if found is None:
                return None
            # Key ids are unique across accounts: the key's user says the account.
            user = repos.users.find_by_id_in_any_account(found.key.user_id)
            if user is None or not account_is_open(repos, account_of(user.arn)):
                return None
            policies = self._compiler.for_user(repos.in_account(account_of(user.arn)), user)
        secret = self._box.open(found.secret_sealed, secret_context(access_key_id))
        caller = user_caller(account_of(user.arn), user, access_key_id)
        return with_organization(
            self._compiler,
            ResolvedCredential(
                access_key_id=access_key_id,
                secret_access_key=secret,
                status=found.key.status,
                caller=caller,
                policies=policies,
                principal_keys={**principal_keys(caller)},
            ),
        )

    def _load_session(self, claims: SessionClaims) -> ResolvedCredential | None:
        with self._tx.read() as repos:
            if claims.kind in (SessionKind.USER, SessionKind.CONSOLE):
                resolved = self._load_user_session(repos, claims)
            elif claims.kind is SessionKind.FEDERATED:
                resolved = self._load_federated_session(repos, claims)
            elif claims.kind is SessionKind.ROOT:
                resolved = self._load_root_session(repos, claims)
            else:
                resolved = self._load_role_session(repos, claims)
        # Outside the read transaction: the organization source may open its own.
        return None if resolved is None else with_organization(self._compiler, resolved)

    def _load_user_session(
        self, repos: Repositories, claims: SessionClaims
    ) -> ResolvedCredential | None:
        # A GetSessionToken session acts as its IAM user, with the user's policies.
        user = repos.users.find_by_id_in_any_account(claims.principal_id)
        if user is None or not account_is_open(repos, account_of(user.arn)):
            return None
        account = account_of(user.arn)
        policies = self._compiler.for_user(repos.in_account(account), user)
        caller = user_caller(account, user, claims.access_key_id, claims)
        return ResolvedCredential(
            access_key_id=claims.access_key_id,
            secret_access_key=claims.secret_access_key,
            status=AccessKeyStatus.ACTIVE,
            caller=caller,
            policies=policies,
            principal_keys={**principal_keys(caller), **_session_keys(claims)},
        )

    def _load_federated_session(
        self, repos: Repositories, claims: SessionClaims
    ) -> ResolvedCredential | None:
        # A GetFederationToken session: the federating user's policies as they are now,
        # intersected with the session policies; with none passed it may do nothing
        # (an empty set of session policies allows nothing), as AWS documents.
        user = repos.users.find_by_id_in_any_account(claims.principal_id)
        if user is None or claims.session_name is None:
            return None
        account = account_of(user.arn)
        if not account_is_open(repos, account):
            return None
        repos = repos.in_account(account)
        session_policies = self._compiler.for_session(
            repos, claims.session_policy, claims.policy_arns
        )
        policies = self._compiler.for_user(repos, user).with_session(session_policies or ())
        caller = federated_caller(account, user, claims)
        return _session_credential(claims, caller, caller.arn, user.tags, policies)

    def _load_role_session(
        self, repos: Repositories, claims: SessionClaims
    ) -> ResolvedCredential | None:
        # A role session: the role's policies and boundary as they are now, limited by
        # the session policies it was issued with.
        # The role's own account, which may not be the one the session was asked from
        # (a cross-account AssumeRole): the session acts there.
        role = repos.roles.find_by_id_in_any_account(claims.principal_id)
        if role is None or claims.session_name is None:
            return None
        if not account_is_open(repos, account_of(role.arn)):
            return None
        account = account_of(role.arn)
        repos = repos.in_account(account)
        session_policies = self._compiler.for_session(
            repos, claims.session_policy, claims.policy_arns
        )
        policies = self._compiler.for_role(repos, role).with_session(session_policies)
        caller = Caller(
            account_id=account,
            arn=f"arn:aws:sts::{account}:assumed-role/{role.name}/{claims.session_name}",
            user_id=f"{role.role_id}:{claims.session_name}",
            principal_type=PrincipalType.ASSUMED_ROLE,
            access_key_id=claims.access_key_id,
            user=None,
            session=claims,
            role_arn=role.arn,
            role_name=role.name,
        )
        # A role session's aws:PrincipalArn is its role's ARN (iam-facts §7.6).
        return _session_credential(claims, caller, role.arn, role.tags, policies)

    def _load_root_session(
        self, repos: Repositories, claims: SessionClaims
    ) -> ResolvedCredential | None:
        # An AssumeRoot session: the member account's root user, which may do anything,
        # with the task policy's Deny statements on top (every root-task policy is made
        # of Deny statements only, so it is compiled beside the root's allow-everything
        # rather than as a session policy, whose intersection would allow nothing). It
        # acts only while the account is open and still a member of an organization with
        # RootSessions on: disabling the feature ends every root session at once.
        account = claims.principal_id
        if len(claims.policy_arns) != 1 or not account_is_open(repos, account):
            return None
        task_arn = claims.policy_arns[0]
        task_document = task_policy_document(task_arn)
        member = repos.organizations.member(account)
        org = None if member is None else repos.organizations.by_id(member.organization_id)
        if (
            task_document is None
            or org is None
            or org.management_account_id == account
            or not repos.organizations.root_sessions_enabled(org.organization_id)
        ):
            return None
        identity = (
            self._compiler.compile(
                ROOT_USER_DOCUMENT, PolicyKind.IDENTITY, typed_source("none", "root user")
            ),
            self._compiler.compile(
                task_document,
                PolicyKind.IDENTITY,
                typed_source("aws-managed", task_arn.rsplit("/", 1)[-1]),
            ),
        )
        caller = Caller(
            account_id=account,
            arn=f"arn:aws:iam::{account}:root",
            user_id=account,
            principal_type=PrincipalType.ACCOUNT,
            access_key_id=claims.access_key_id,
            user=None,
            session=claims,
        )
        return _session_credential(
            claims, caller, caller.arn, (), PrincipalPolicies.of(identity, None)
        )


# Console sessions are cached beside STS sessions, under no token's hash.
_CONSOLE_CACHE_KEY = b"console"


def with_organization(compiler: PolicyCompiler, resolved: ResolvedCredential) -> ResolvedCredential:
    """`resolved`, restricted by the SCPs of its account and carrying its organization
    keys; unchanged when the account is in no organization."""
    account = resolved.caller.account_id
    scps = compiler.scps_for(account)
    keys = organization_keys(compiler.org_facts(account))
    if scps is None and not keys:
        return resolved
    return replace(
        resolved,
        policies=resolved.policies.restricted_by(scps),
        principal_keys={**resolved.principal_keys, **keys},
    )


def account_is_open(repos: Repositories, account_id: str) -> bool:
    """Whether the account's principals may act: it exists and is not closed. AWS
    refuses every request of a closed (SUSPENDED) account's credentials, and fails
    closed here for an account with no row."""
    found = repos.account.get_account(account_id)
    return found is not None and found.status != "SUSPENDED"


def account_of(arn: str) -> str:
    """The account field of an IAM ARN (``arn:aws:iam::ACCOUNT:...``)."""
    return arn.split(":", 5)[4]


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def user_caller(
    account_id: str, user: User, key_id: str, session: SessionClaims | None = None
) -> Caller:
    """The IAM user ``user`` as the caller of a request made with the key ``key_id``
    (a GetSessionToken session's temporary key when ``session`` is given)."""
    return Caller(
        account_id=account_id,
        arn=user.arn,
        user_id=user.user_id,
        principal_type=PrincipalType.USER,
        access_key_id=key_id,
        user=user,
        session=session,
    )


def federated_caller(account_id: str, user: User, claims: SessionClaims) -> Caller:
    """The federated user of a GetFederationToken session of ``user``."""
    name = claims.session_name or ""
    return Caller(
        account_id=account_id,
        arn=f"arn:aws:sts::{account_id}:federated-user/{name}",
        user_id=f"{account_id}:{name}",
        principal_type=PrincipalType.FEDERATED_USER,
        access_key_id=claims.access_key_id,
        user=None,
        session=claims,
        issuer_user=user,
    )


def principal_keys(caller: Caller) -> dict[str, str]:
    """The condition keys that describe ``caller``, whatever it authenticated with."""
    keys = {
        "aws:userid": caller.user_id,
        "aws:PrincipalArn": caller.arn,
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalType": caller.principal_type.value,
    }
    if caller.user is not None:
        keys["aws:username"] = caller.user.name
        for tag in caller.user.tags:
            keys[f"aws:PrincipalTag/{tag.key}"] = tag.value
    return keys


def _session_keys(claims: SessionClaims) -> dict[str, str]:
    """Keys every request of an STS session carries (iam-facts §7.6, §7.7).

    aws:MultiFactorAuthPresent exists only for temporary credentials: "true" when the
    session was issued against an MFA code, "false" otherwise. aws:MultiFactorAuthAge
    changes with time and is added per request by the authorizer.
    """
    keys = {
        "aws:TokenIssueTime": datetime.fromtimestamp(claims.issued, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "aws:MultiFactorAuthPresent": "true" if claims.mfa_authenticated is not None else "false",
    }
    if claims.source_identity is not None:
        keys["aws:SourceIdentity"] = claims.source_identity
    return keys


def secret_context(access_key_id: str) -> bytes:
    """Associated data binding a sealed secret to its key id."""
    return f"access-key:{access_key_id}".encode()


def opens_stored_secrets(box: SecretBox, keys: AccessKeyRepository) -> bool:
    """Whether `box` opens the secrets this database holds (True when it holds none).

    One sealed secret stands for all: they were all sealed with the same master key.
    """
    sample = keys.any_with_secret()
    if sample is None:
        return True
    try:
        box.open(sample.secret_sealed, secret_context(sample.key.access_key_id))
    except ValueError:
        return False
    return True


def _session_credential(
    claims: SessionClaims,
    caller: Caller,
    principal_arn: str,
    entity_tags: Sequence[Tag],
    policies: PrincipalPolicies,
) -> ResolvedCredential:
    """A session's credential: its caller, policies and the principal's context keys;
    the entity's tags are overridden by session tags of the same key (case-insensitive)."""
    keys: dict[str, str | tuple[str, ...]] = {
        "aws:userid": caller.user_id,
        "aws:PrincipalArn": principal_arn,
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalType": caller.principal_type.value,
    }
    tags = {tag.key.lower(): (tag.key, tag.value) for tag in entity_tags}
    tags.update({key.lower(): (key, value) for key, value in claims.tags})
    for key, value in tags.values():
        keys[f"aws:PrincipalTag/{key}"] = value
    keys.update(_session_keys(claims))
    return ResolvedCredential(
        access_key_id=claims.access_key_id,
        secret_access_key=claims.secret_access_key,
        status=AccessKeyStatus.ACTIVE,
        caller=caller,
        policies=policies,
        principal_keys=keys,
    )
